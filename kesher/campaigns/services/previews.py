"""Previews and test sends: the message as one member would get it, with warnings on its size and tone;
nothing is counted."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext

from kesher.campaigns import rendering, selectors, tracking
from kesher.campaigns.channels import EmailChannel, sms_provider
from kesher.campaigns.models import (
    ADVERTISING_MARK,
    Campaign,
    CampaignChannel,
    CampaignVariant,
    ConsentBasis,
    Message,
)
from kesher.campaigns.services.composing import email_build, sms_send, sms_text
from kesher.campaigns.services.contents import contents_compile
from kesher.core.audit import SYSTEM, Actor, audit_record
from kesher.core.errors import ValidationFailed
from kesher.loyalty.selectors import points_summary
from kesher.members.models import Member


@dataclass(frozen=True)
class Preview:
    subject: str
    text: str
    html: str
    sms_parts: int
    warnings: list[dict[str, str]]


def _sample_message(campaign: Campaign, member: Member, variant: CampaignVariant | None = None) -> Message:
    ms = selectors.messaging_settings(brand=campaign.brand)
    contents = contents_compile(campaign, variant)
    locale, content = contents.for_locale(member.locale)
    summary = points_summary(member=member)
    message_id = uuid.uuid4()
    rendered = rendering.content_render(
        content,
        rendering.member_context(
            first_name=member.first_name,
            last_name=member.last_name,
            locale=locale,
            brand=ms.sender_name or campaign.brand.name,
            interests=member.interests or [],
            points=summary.balance,
            points_expiring=summary.expiring_soon,
            card_number=member.card_number,
            # A preview issues nothing: a sample code shows where the member's coupon will be.
            coupon=rendering.CouponValue(SAMPLE_COUPON_CODE) if campaign.coupon_reward_id else None,
            forward_url=tracking.forward_url(message_id),
        ),
    )
    return Message(
        id=message_id,
        brand=campaign.brand,
        campaign=campaign,
        member=member,
        channel=campaign.channel,
        to=(member.email if campaign.channel == CampaignChannel.EMAIL else member.phone) or "",
        locale=locale,
        subject=rendering.subject_frame(rendered.subject, advertising=campaign.advertising),
        body=rendered.body,
        advertising=campaign.advertising,
        consent_basis=ConsentBasis.CONSENT if campaign.advertising else ConsentBasis.SERVICE,
    )


def campaign_preview(
    *, campaign: Campaign, member: Member, variant: CampaignVariant | None = None
) -> Preview:
    """The message as this member would get it (nothing is written), with the size warnings; an A/B
    test's variant when one is given."""
    ms = selectors.messaging_settings(brand=campaign.brand)
    message = _sample_message(campaign, member, variant)
    if campaign.channel == CampaignChannel.PORTAL:
        return Preview(
            subject=message.subject,
            text=message.body,
            html=rendering.body_html(message.body, lambda _index, url: url),
            sms_parts=0,
            warnings=content_warnings(campaign),
        )
    if campaign.channel == CampaignChannel.EMAIL:
        email = email_build(message, ms)
        html = str(email.alternatives[0][0]) if email.alternatives else ""
        return Preview(
            subject=message.subject,
            text=str(email.body),
            html=html,
            sms_parts=0,
            warnings=content_warnings(campaign),
        )
    text = sms_text(message, ms)
    return Preview(
        subject="",
        text=text,
        html="",
        sms_parts=rendering.sms_segments(text),
        warnings=content_warnings(campaign, sample_sms=text),
    )


def campaign_test_send(*, campaign: Campaign, member: Member, to: str, actor: Actor = SYSTEM) -> None:
    """Send the message as `member` would get it to a staff address or phone; nothing is counted."""
    if campaign.channel == CampaignChannel.PORTAL:
        raise ValidationFailed("A portal notice has no test send; preview it instead", field="to")
    ms = selectors.messaging_settings(brand=campaign.brand)
    message = _sample_message(campaign, member)
    message.to = to
    with translation.override(message.locale):
        marker = "[" + gettext("Test") + "]"
    # The legal mark stays first, even on a test.
    if message.subject.startswith(f"{ADVERTISING_MARK}: "):
        message.subject = (
            f"{ADVERTISING_MARK}: {marker} {message.subject.removeprefix(f'{ADVERTISING_MARK}: ')}"
        )
    else:
        message.subject = f"{marker} {message.subject}".strip()
    if campaign.channel == CampaignChannel.EMAIL:
        with EmailChannel() as channel:
            channel.send(email_build(message, ms))
    else:
        sms_send(sms_provider(ms.sms_provider_url or None), ms, message)
    with transaction.atomic():
        audit_record(
            brand=campaign.brand,
            actor=actor,
            action="campaign.test_send",
            target_type="campaign",
            target_id=campaign.pk,
            data={"to": to, "as_member": str(member.pk)},
        )


SAMPLE_COUPON_CODE = "SAMPLE0COUPON"


LONG_SUBJECT = 70


LONG_BODY = 1500


MANY_SMS_PARTS = 2


def content_warnings(campaign: Campaign, sample_sms: str | None = None) -> list[dict[str, str]]:
    """Short by design: what makes a message long, heavy or impersonal."""
    warnings = []
    sources = [campaign.body, *(block["text"] for block in campaign.blocks)]
    if not rendering.names_used(*sources) & {"first_name", "full_name"}:
        warnings.append(
            {
                "code": "no_name",
                "message": gettext("The message does not greet the member by name ({{ first_name }})."),
            }
        )
    if campaign.channel == CampaignChannel.EMAIL and len(campaign.subject) > LONG_SUBJECT:
        warnings.append(
            {
                "code": "long_subject",
                "message": gettext("The subject is longer than %d characters.") % LONG_SUBJECT,
            }
        )
    if len(campaign.body) > LONG_BODY:
        warnings.append(
            {"code": "long_body", "message": gettext("The message is longer than %d characters.") % LONG_BODY}
        )
    links = rendering.links_in(campaign.body)
    if len(links) > 5:
        warnings.append({"code": "many_links", "message": gettext("The message has more than 5 links.")})
    if sample_sms is not None and rendering.sms_segments(sample_sms) > MANY_SMS_PARTS:
        warnings.append(
            {
                "code": "long_sms",
                "message": gettext("The SMS takes %d parts.") % rendering.sms_segments(sample_sms),
            }
        )
    return warnings
