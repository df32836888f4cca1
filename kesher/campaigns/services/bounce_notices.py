"""Bounce and complaint notices from mail providers, and the brand's email suppression list."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import transaction

from kesher.brands.models import Brand
from kesher.campaigns.models import (
    CampaignChannel,
    EmailSuppression,
    EventKind,
    Message,
    MessageStatus,
    SuppressionReason,
)
from kesher.campaigns.services.events import message_event_record
from kesher.core.audit import Actor, audit_record
from kesher.core.errors import NotFound, ValidationFailed
from kesher.members.models import Member
from kesher.members.normalize import normalize_email
from kesher.members.services import consent_set


@dataclass(frozen=True)
class BounceNotice:
    """One notice from a mail provider (or a bounce email): kind is bounce or complaint."""

    kind: str
    email: str = ""
    bounce_type: str = "hard"  # hard: the address does not exist; soft: a passing failure
    message_ref: str = ""  # our message id, or the Message-ID header we gave it
    reason: str = ""


def _bounced_message(brand: Brand, ref: str, address: str) -> Message | None:
    ref = ref.strip().strip("<>").partition("@")[0]
    if ref:
        try:
            found = Message.objects.filter(brand=brand, pk=uuid.UUID(ref)).first()
        except ValueError:
            found = None
        if found is not None:
            return found
    if address:
        return (
            Message.objects.filter(
                brand=brand, channel=CampaignChannel.EMAIL, to=address, sent_at__isnull=False
            )
            .order_by("-sent_at")
            .first()
        )
    return None


def email_suppression_remove(*, brand: Brand, email: str, actor: Actor) -> EmailSuppression:
    """Allow mail to an address again (staff know it works now). Audited with what the row said; an
    address not on this brand's list is not found, and nothing changes."""
    try:
        address = normalize_email(email, field="email") or ""
    except ValidationFailed:
        address = ""
    with transaction.atomic():
        row = EmailSuppression.objects.select_for_update().filter(brand=brand, email=address).first()
        if row is None:
            raise NotFound("this address is not on the suppression list", field="email")
        audit_record(
            brand=brand,
            actor=actor,
            action="email_suppression.remove",
            target_type="email_suppression",
            target_id=row.pk,
            data={
                "email": row.email,
                "reason": row.reason,
                "detail": row.detail,
                "created_at": row.created_at.isoformat(),
            },
        )
        row.delete()
    return row


def bounce_notice_record(*, brand: Brand, notice: BounceNotice, origin: str = "") -> str:
    """A bounce marks the message bounced (and its member's activity); a hard bounce also stops all mail to
    the address; a complaint ("this is spam") withdraws the member's email consent, with the notice as
    the proof. Safe to receive twice. Returns what was done: bounced, suppressed, complaint or ignored."""
    address = ""
    if notice.email:
        try:
            address = normalize_email(notice.email, field="email") or ""
        except ValidationFailed:
            address = ""
    message = _bounced_message(brand, notice.message_ref, address)
    if message is not None and message.brand_id != brand.pk:
        message = None
    if not address and message is not None and message.channel == CampaignChannel.EMAIL:
        address = message.to
    if not address and message is None:
        return "ignored"
    reason = notice.reason[:300]
    if notice.kind == "complaint":
        with transaction.atomic():
            for member in (
                Member.objects.select_for_update()
                .select_related("brand")
                .filter(brand=brand, email=address, consent_email=True)
            ):
                consent_set(
                    member=member,
                    channel="email",
                    granted=False,
                    source="complaint",
                    wording=reason,
                    origin=(origin or "mail provider complaint")[:200],
                )
        if message is not None:
            message_event_record(message=message, kind=EventKind.COMPLAINED, data={"reason": reason})
        return "complaint"
    hard = notice.bounce_type == "hard"
    if message is not None:
        Message.objects.filter(
            pk=message.pk, status__in=[MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.SENDING]
        ).update(status=MessageStatus.BOUNCED, error=reason[:500])
        message_event_record(
            message=message,
            kind=EventKind.BOUNCED,
            data={"reason": reason, "type": notice.bounce_type, "via": "provider"},
        )
    if hard and address:
        EmailSuppression.objects.get_or_create(
            brand=brand,
            email=address,
            defaults={"reason": SuppressionReason.HARD_BOUNCE, "detail": reason},
        )
        return "suppressed"
    return "bounced"
