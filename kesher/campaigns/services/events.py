"""What happens to a message after it left: events (delivered, opened, clicked, converted, ...) and the
member's activity stream."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from kesher.activity.models import Activity
from kesher.activity.services import activity_record
from kesher.campaigns import rendering, selectors
from kesher.campaigns.models import (
    EventKind,
    Message,
    MessageEvent,
    MessageStatus,
)
from kesher.core.errors import KesherError
from kesher.members.models import Member

log = logging.getLogger(__name__)


ACTIVITY_SOURCE = "campaigns"


def message_event_record(
    *,
    message: Message,
    kind: str,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
    with_activity: bool = True,
) -> bool:
    """Record one event (once per message for every kind but clicks); True when it is new. The member's
    activity stream gets it too, as message_<kind>."""
    at = at or timezone.now()
    try:
        with transaction.atomic():
            MessageEvent.objects.create(
                brand_id=message.brand_id,
                campaign_id=message.campaign_id,
                message=message,
                kind=kind,
                occurred_at=at,
                data=data or {},
            )
    except IntegrityError:
        return False
    if with_activity and kind in ACTIVITY_KINDS:
        _activity(message, kind, data or {}, at)
    return True


ACTIVITY_KINDS = {
    EventKind.DELIVERED,
    EventKind.BOUNCED,
    EventKind.OPENED,
    EventKind.CLICKED,
    EventKind.UNSUBSCRIBED,
    EventKind.CONVERTED,
    EventKind.FORWARDED,
    EventKind.COMPLAINED,
}


def _activity(message: Message, kind: str, data: dict[str, Any], at: datetime) -> None:
    attributes: dict[str, Any] = {
        "campaign_id": str(message.campaign_id),
        "message_id": str(message.pk),
        "channel": message.channel,
    }
    key = f"{message.pk}:{kind}"
    if kind == EventKind.CLICKED:
        attributes["url"] = data.get("url", "")[:2000]
        key = f"{key}:{data.get('index', 0)}"
    elif kind == EventKind.BOUNCED:
        attributes["reason"] = str(data.get("reason", ""))[:300]
    elif kind == EventKind.CONVERTED:
        attributes["purchase_id"] = str(data.get("purchase_id", ""))
    elif kind == EventKind.FORWARDED:
        key = f"{key}:{data.get('forward_id', 0)}"
    member = Member.objects.select_related("brand").get(pk=message.member_id)
    try:
        activity_record(
            brand=member.brand,
            member=member,
            type=f"message_{kind}",
            attributes=attributes,
            occurred_at=min(at, timezone.now()),
            source=ACTIVITY_SOURCE,
            idempotency_key=key,
        )
    except KesherError:  # a blocked or erased member: the message event is kept, the stream is not
        log.info("message activity not recorded", extra={"message_id": str(message.pk), "kind": kind})


def message_open(*, message: Message) -> bool:
    return message_event_record(message=message, kind=EventKind.OPENED)


def message_click(*, message: Message, index: int) -> str | None:
    """The link behind a tracked link (None when the message has no such link), recorded as a click."""
    links = rendering.links_in(message.body)
    if not 0 <= index < len(links):
        return None
    url = links[index]
    message_event_record(message=message, kind=EventKind.CLICKED, data={"url": url, "index": index})
    # A click proves the message was opened, whether or not images were shown.
    message_event_record(message=message, kind=EventKind.OPENED, data={"by": "click"})
    return url


RECEIPT_STATUSES = {
    "delivered": EventKind.DELIVERED,
    "failed": EventKind.BOUNCED,
    "undelivered": EventKind.BOUNCED,
    "undeliverable": EventKind.BOUNCED,
    "rejected": EventKind.BOUNCED,
    "expired": EventKind.BOUNCED,
    "bounced": EventKind.BOUNCED,
}


def sms_receipt_record(*, message: Message, status: str, error: str = "") -> str | None:
    """A delivery receipt from the provider; the event kind recorded, or None for an interim status."""
    kind = RECEIPT_STATUSES.get(status.strip().lower())
    if kind is None:
        return None
    new_status = MessageStatus.DELIVERED if kind == EventKind.DELIVERED else MessageStatus.BOUNCED
    Message.objects.filter(pk=message.pk, status__in=[MessageStatus.SENT, MessageStatus.SENDING]).update(
        status=new_status
    )
    data = {"provider_status": status[:40]}
    if error:
        data["reason"] = error[:300]
    message_event_record(message=message, kind=kind, data=data)
    return kind


def conversion_record(activity: Activity) -> None:
    """A purchase within the brand's window after a message is that message's conversion (the last one
    sent before it gets the credit). A deferred consumer of purchases."""
    ms = selectors.messaging_settings(brand=activity.brand)
    since = activity.occurred_at - timedelta(days=ms.conversion_days)
    message = (
        Message.objects.filter(
            member_id=activity.member_id,
            sent_at__gte=since,
            sent_at__lte=activity.occurred_at,
            status__in=[MessageStatus.SENT, MessageStatus.DELIVERED],
        )
        .order_by("-sent_at")
        .first()
    )
    if message is None:
        return
    message_event_record(
        message=message,
        kind=EventKind.CONVERTED,
        data={"purchase_id": str(activity.pk), "amount": str(activity.attributes.get("amount", ""))},
        at=activity.occurred_at,
    )
