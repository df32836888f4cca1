"""Refusing messages: the one-click unsubscribe link and the SMS opt-out reply."""

from __future__ import annotations

from django.db import transaction

from kesher.brands.models import Brand
from kesher.campaigns import selectors
from kesher.campaigns.models import (
    CampaignChannel,
    EventKind,
    Message,
    consent_channel,
)
from kesher.campaigns.services.events import message_event_record
from kesher.core.errors import ValidationFailed
from kesher.members.models import Member
from kesher.members.normalize import normalize_phone
from kesher.members.services import consent_set

OPT_OUT_WORDS = {"הסר", "הסרה", "stop", "unsubscribe", "remove"}


def message_unsubscribe(*, message: Message, origin: str = "") -> bool:
    """One click, no login: withdraw consent for the message's channel; True when withdrawn by this call."""
    withdrawn = False
    with transaction.atomic():
        member = Member.objects.select_for_update().select_related("brand").get(pk=message.member_id)
        channel = consent_channel(message.channel)
        if getattr(member, f"consent_{channel}"):
            consent_set(
                member=member,
                channel=channel,
                granted=False,
                source="unsubscribe_link",
                origin=origin or f"campaign {message.campaign_id}",
            )
            withdrawn = True
    message_event_record(message=message, kind=EventKind.UNSUBSCRIBED, data={"withdrawn_now": withdrawn})
    return withdrawn


def sms_reply_receive(*, brand: Brand, phone: str, text: str) -> int:
    """A member answered an SMS. The opt-out word withdraws SMS consent; returns how many members it
    applied to (one phone can belong to more than one member of a brand)."""
    ms = selectors.messaging_settings(brand=brand)
    words = {*OPT_OUT_WORDS, ms.sms_opt_out_word.strip().lower()}
    if " ".join(text.split()).lower().strip(".!") not in words:
        return 0
    try:
        normalized = normalize_phone(phone, default_country=brand.default_country)
    except ValidationFailed:
        return 0
    withdrawn = 0
    for member in Member.objects.filter(brand=brand, phone=normalized, consent_sms=True):
        consent_set(member=member, channel="sms", granted=False, source="sms_reply", origin=normalized or "")
        withdrawn += 1
        latest = (
            Message.objects.filter(member=member, channel=CampaignChannel.SMS, sent_at__isnull=False)
            .order_by("-sent_at")
            .first()
        )
        if latest is not None:
            message_event_record(message=latest, kind=EventKind.UNSUBSCRIBED, data={"by": "reply"})
    return withdrawn
