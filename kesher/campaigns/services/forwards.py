"""Forward to a friend: a member shares their message with a few addresses; the friend gets an untracked
copy."""

from __future__ import annotations

from email.utils import formataddr
from functools import partial

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import mark_safe

from kesher.campaigns import rendering, selectors
from kesher.campaigns.channels import EmailChannel, NotSent, Refused
from kesher.campaigns.models import (
    EventKind,
    Message,
    MessageForward,
    MessageStatus,
    MessagingSettings,
)
from kesher.campaigns.services.composing import sender_address
from kesher.campaigns.services.contents import contents_compile
from kesher.campaigns.services.events import message_event_record
from kesher.core.errors import Conflict, ValidationFailed
from kesher.core.tasks import enqueue
from kesher.members.normalize import normalize_email

FORWARDS_PER_MESSAGE = 5  # a member may share a message with a few friends, not mail a list through us


def message_forward(*, message: Message, to: str) -> MessageForward:
    """The member forwards their message to a friend's address: once per address, at most
    FORWARDS_PER_MESSAGE per message, only a message that was sent. The friend's copy leaves after the
    commit (forward_send), and the message gets a `forwarded` event."""
    address = normalize_email(to, field="to") or ""
    if not address:
        raise ValidationFailed("to is required", field="to")
    if message.status not in (MessageStatus.SENT, MessageStatus.DELIVERED):
        raise Conflict("Only a message that was sent can be forwarded", field="to", code="not_sent")
    if address == (message.to or "").lower():
        raise ValidationFailed("Forward it to a friend's address, not your own", field="to")
    if selectors.email_suppressed(brand_id=message.brand_id, email=address):
        raise Conflict("Mail cannot reach this address", field="to", code="undeliverable")
    with transaction.atomic():
        # The message row is the lock: two forms sent at once cannot both squeeze under the cap.
        Message.objects.select_for_update().filter(pk=message.pk).first()
        forwards = MessageForward.objects.filter(message=message)
        if forwards.filter(to=address).exists():
            raise Conflict("This message was already forwarded to that address", field="to", code="forwarded")
        if forwards.count() >= FORWARDS_PER_MESSAGE:
            raise Conflict(
                f"A message can be forwarded to {FORWARDS_PER_MESSAGE} friends",
                field="to",
                code="forward_limit",
            )
        forward = MessageForward.objects.create(brand_id=message.brand_id, message=message, to=address)
        transaction.on_commit(partial(_forward_later, forward.pk))
    message_event_record(message=message, kind=EventKind.FORWARDED, data={"forward_id": forward.pk})
    return forward


def _forward_later(forward_id: int) -> None:
    enqueue("kesher.campaigns.tasks.forward_send_task", forward_id)


def forward_send(*, forward_id: int) -> bool:
    """Send the friend's copy once: the row is marked before the send, so a retry never sends twice."""
    now = timezone.now()
    if not MessageForward.objects.filter(pk=forward_id, sent_at__isnull=True, error="").update(sent_at=now):
        return False
    forward = MessageForward.objects.select_related(
        "message", "message__campaign", "message__campaign__ab_winner", "message__brand", "message__member"
    ).get(pk=forward_id)
    ms = selectors.messaging_settings(brand=forward.message.brand)
    try:
        with EmailChannel() as channel:
            channel.send(friend_email_build(forward.message, ms, forward.to))
    except (NotSent, Refused) as exc:
        MessageForward.objects.filter(pk=forward_id).update(error=str(exc)[:300])
        return False
    return True


def friend_email_build(message: Message, ms: MessagingSettings, to: str) -> EmailMultiAlternatives:
    """The friend's copy: the campaign's text rendered for nobody in particular (no name, points, coupon or
    card of the member), links as they are (no tracking), no pixel and no member's unsubscribe link."""
    campaign = message.campaign
    sender = ms.sender_name or message.brand.name
    contents = contents_compile(campaign, message.variant or campaign.ab_winner)
    locale, content = contents.for_locale(message.locale)
    rendered = rendering.content_render(
        content,
        rendering.member_context(first_name="", last_name="", locale=locale, brand=sender, interests=[]),
    )
    subject = rendering.subject_frame(rendered.subject, advertising=message.advertising)
    context = {
        "subject": subject,
        "body_text": rendered.body,
        "body_html": mark_safe(rendering.body_html(rendered.body, lambda _index, url: url)),
        "direction": "rtl" if translation.get_language_info(locale)["bidi"] else "ltr",
        "language": locale,
        "sender": sender,
        "friend": message.member.first_name or rendering.fallback_first_name(locale),
        "postal_address": ms.postal_address,
    }
    with translation.override(locale):
        text = render_to_string("campaigns/email/forward.txt", context)
        html = render_to_string("campaigns/email/forward.html", context)
    email = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=formataddr((sender, sender_address(ms))),
        to=[to],
        reply_to=[ms.reply_to] if ms.reply_to else None,
        headers={"X-Kesher-Campaign": str(message.campaign_id), "X-Kesher-Forwarded": "1"},
    )
    email.attach_alternative(html, "text/html")
    return email
