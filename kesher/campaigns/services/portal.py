"""Portal notices: a member reading the notices shown in their portal."""

from __future__ import annotations

from typing import Any

from kesher.campaigns import selectors
from kesher.campaigns.models import (
    CampaignChannel,
    Message,
    MessageStatus,
)
from kesher.campaigns.services.events import message_open
from kesher.core.errors import NotFound


def portal_notice_read(*, user_id: Any, message_id: Any) -> bool:
    """The member read a notice (shown in their portal): its `opened` event. True when new."""
    message = (
        Message.objects.filter(pk=message_id, member__user_id=user_id, channel=CampaignChannel.PORTAL)
        .filter(selectors.notice_shown_q())  # a notice not shown is not there to read
        .exclude(status__in=[MessageStatus.QUEUED, MessageStatus.SENDING, MessageStatus.SUPPRESSED])
        .first()
    )
    if message is None:
        raise NotFound("No such notice", code="notice_not_found")
    return message_open(message=message)


def portal_notices_read_all(*, user_id: Any) -> int:
    unread = [m for m in selectors.portal_notices(user_id=user_id, limit=500) if not getattr(m, "read", True)]
    return sum(message_open(message=message) for message in unread)
