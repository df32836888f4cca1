"""What a message looks like when it leaves: the email (HTML and text, headers) and the SMS text built from
a message row."""

from __future__ import annotations

from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import mark_safe

from kesher.campaigns import rendering, tracking
from kesher.campaigns.channels import EmailChannel, Sms, SmsProvider
from kesher.campaigns.models import (
    Message,
    MessagingSettings,
)


def sender_address(ms: MessagingSettings) -> str:
    """The brand's sender address: its own, else the address of DEFAULT_FROM_EMAIL, else a placeholder."""
    return ms.sender_email or parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "club@localhost"


def message_id_header(message: Message, ms: MessagingSettings) -> str:
    """Stable per message, so a receiving system can recognise a copy."""
    domain = sender_address(ms).rpartition("@")[2] or "kesher.local"
    return f"<{message.pk}@{domain}>"


def email_build(message: Message, ms: MessagingSettings) -> EmailMultiAlternatives:
    """The email a member gets: HTML and plain text, right-to-left for Hebrew, the brand as the sender,
    one-click unsubscribe (RFC 8058) and the open pixel."""
    brand = message.brand
    sender = ms.sender_name or brand.name
    unsubscribe = tracking.unsubscribe_url(message.pk)
    text_body = rendering.links_replace(
        message.body, lambda index, _url: tracking.click_url(message.pk, index)
    )
    html_body = rendering.body_html(message.body, lambda index, _url: tracking.click_url(message.pk, index))
    context = {
        "subject": message.subject,
        "body_text": text_body,
        "body_html": mark_safe(html_body),  # built escaped by rendering.body_html
        "direction": "rtl" if translation.get_language_info(message.locale)["bidi"] else "ltr",
        "language": message.locale,
        "sender": sender,
        "brand": brand,  # its look (logo, colours) in the template
        "postal_address": ms.postal_address,
        "advertising": message.advertising,
        "unsubscribe_url": unsubscribe,
        "forward_url": tracking.forward_url(message.pk),
        "pixel_url": tracking.open_url(message.pk),
    }
    with translation.override(message.locale):
        text = render_to_string("campaigns/email/message.txt", context)
        html = render_to_string("campaigns/email/message.html", context)
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=text,
        from_email=formataddr((sender, sender_address(ms))),
        to=[message.to],
        reply_to=[ms.reply_to] if ms.reply_to else None,
        headers={
            "Message-ID": message_id_header(message, ms),
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-Kesher-Campaign": str(message.campaign_id),
        },
    )
    email.attach_alternative(html, "text/html")
    return email


def sms_text(message: Message, ms: MessagingSettings) -> str:
    body = rendering.links_replace(message.body, lambda index, _url: tracking.click_url(message.pk, index))
    return rendering.sms_frame(
        body,
        advertising=message.advertising,
        sender=ms.sender_name or message.brand.name,
        opt_out_word=ms.sms_opt_out_word,
        locale=message.locale,
    )


def email_send(channel: EmailChannel, ms: MessagingSettings, message: Message) -> str:
    channel.send(email_build(message, ms))
    return ""


def sms_send(provider: SmsProvider, ms: MessagingSettings, message: Message) -> str:
    return provider.send(
        Sms(
            to=message.to,
            text=sms_text(message, ms),
            sender=ms.sms_sender,
            reference=str(message.pk),
            status_url=tracking.receipt_url(message.pk),
        )
    )
