"""Invitations to a survey: the tokenised link `/s/<token>/` that opens the survey for one member without
signing in, the contact-frequency rule over the invitation log, and the automatic invitation after an
activity (a purchase, a service contact) sent through the campaigns part's message delivery.

The rule: a member is invited at most once in the brand's `contact_interval_days` across all its surveys,
never twice to one survey, and never to a survey they answered. Invitations for one member are made one
at a time (their member row is locked), so two concurrent invitations cannot both pass the rule.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from kesher.activity.models import Activity
from kesher.activity.registry import ANY, consumer
from kesher.brands.look import base_url
from kesher.campaigns import selectors as campaign_selectors
from kesher.campaigns import services as campaign_services
from kesher.campaigns.models import (
    Campaign,
    CampaignStatus,
    ConsentBasis,
    EventKind,
    Message,
    MessageEvent,
    MessageStatus,
)
from kesher.core.audit import SYSTEM, Actor, audit_record
from kesher.core.errors import Conflict, ValidationFailed
from kesher.members.models import Member, MemberStatus
from kesher.surveys.models import (
    InvitationStatus,
    Survey,
    SurveyInvitation,
    SurveyRespondent,
    SurveyStatus,
)
from kesher.surveys.services.building import CHANNELS, survey_settings_get

LINK_PATH = "/s/{token}/"  # kesher/surveys/urls.py: surveys:respond


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_by_token(token: str) -> SurveyInvitation | None:
    if not token or len(token) > 100:
        return None
    return (
        SurveyInvitation.objects.select_related("survey", "survey__brand", "member", "member__brand")
        .filter(token_hash=token_hash(token), status=InvitationStatus.SENT)
        .first()
    )


def invitation_url(brand: object, token: str) -> str:
    return base_url(brand) + LINK_PATH.format(token=token)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Invited:
    invitation: SurveyInvitation
    token: str  # the link's secret: shown once, only its hash is kept ('' for a skipped invitation)
    url: str


def _refusal(survey: Survey, member: Member, now: datetime) -> str:
    """Why the member may not be invited now ('' when they may)."""
    if member.status not in (MemberStatus.ACTIVE, MemberStatus.PROSPECT):
        return "member_inactive"
    if SurveyRespondent.objects.filter(survey=survey, member=member).exists():
        return "answered"
    sent = SurveyInvitation.objects.filter(member=member, status=InvitationStatus.SENT)
    if sent.filter(survey=survey).exists():
        return "already_invited"
    days = survey_settings_get(brand=survey.brand).contact_interval_days
    if days and sent.filter(brand_id=survey.brand_id, created_at__gt=now - timedelta(days=days)).exists():
        return "contact_frequency"
    return ""


def _address(member: Member, channel: str) -> str:
    if channel == "portal":
        return "portal" if member.user_id else ""
    return (member.email if channel == "email" else member.phone) or ""


def _survey_campaign(survey: Survey, channel: str) -> Campaign:
    """The survey's own campaign per channel (made on first use): it holds the invitations' messages, so
    they are delivered, tracked and counted like every other message."""
    created_by = f"survey:{survey.pk}"
    found = Campaign.objects.filter(brand_id=survey.brand_id, created_by=created_by, channel=channel).first()
    if found is not None:
        return found
    return Campaign.objects.create(
        brand_id=survey.brand_id,
        name=f"{gettext('Survey')}: {survey.title(survey.brand.default_locale)}"[:200],
        channel=channel,
        locale=survey.brand.default_locale,
        subject="",
        body="",
        advertising=False,
        status=CampaignStatus.SENT,  # never a draft: it cannot be sent to a segment
        created_by=created_by,
        queued_at=timezone.now(),
    )


def _message_queue(
    invitation: SurveyInvitation, member: Member, to: str, url: str, not_before: datetime | None
) -> Message:
    survey = invitation.survey
    locale = member.locale if member.locale in ("he", "en") else survey.brand.default_locale
    with translation.override(locale):
        subject = gettext("%(brand)s: a minute for your opinion?") % {"brand": survey.brand.name}
        body = gettext("%(title)s\n\nTell us what you think (it takes a minute): %(url)s") % {
            "title": survey.title(locale),
            "url": url,
        }
    campaign = _survey_campaign(survey, invitation.channel)
    message = Message.objects.create(
        brand_id=survey.brand_id,
        campaign=campaign,
        member=member,
        channel=invitation.channel,
        to=to,
        locale=locale,
        subject=subject[:400],
        body=body,
        advertising=False,
        consent_basis=ConsentBasis.SERVICE,  # asking a customer about their purchase is not advertising
        not_before=not_before,
        status=MessageStatus.QUEUED,
    )
    MessageEvent.objects.create(
        brand_id=survey.brand_id,
        campaign=campaign,
        message=message,
        kind=EventKind.QUEUED,
        occurred_at=timezone.now(),
    )
    transaction.on_commit(
        lambda: campaign_services.messages_dispatch(message_ids=[message.pk], not_before=not_before)
    )
    return message


def survey_invite(
    *,
    survey: Survey,
    member: Member,
    channel: str = "",
    store: str = "",
    sku: str = "",
    source: str = "api",
    delay: timedelta | None = None,
    log_refusal: bool = False,
    now: datetime | None = None,
    actor: Actor = SYSTEM,
) -> Invited:
    """Invite the member: an `Invited` with the link, sent through `channel` when one is named ('' makes
    the link only, for a message sent elsewhere). Refused by the contact-frequency rule (or because they
    answered, or were invited to it before): 409 `contact_frequency` etc., or with `log_refusal` (the
    automatic invitations) the logged `skipped` invitation, without a link."""
    if member.brand_id != survey.brand_id:
        raise ValidationFailed("No such member", field="member_id")
    if survey.status != SurveyStatus.PUBLISHED:
        raise Conflict("This survey is not open for answers", code="survey_not_open")
    if channel and channel not in CHANNELS:
        raise ValidationFailed("email, sms or portal", field="channel")
    now = now or timezone.now()
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=member.pk)  # one invitation at a time per member
        reason = _refusal(survey, member, now)
        to = _address(member, channel) if channel and not reason else ""
        if channel and not reason:
            if not to:
                reason = "no_address"
            elif channel == "email" and campaign_selectors.email_suppressed(
                brand_id=survey.brand_id, email=to
            ):
                reason = "undeliverable"
        common = {
            "brand_id": survey.brand_id,
            "survey": survey,
            "member": member,
            "channel": channel,
            "source": source[:40],
            "store": store[:200],
            "sku": sku[:200],
            "created_at": now,
        }
        if reason:
            if not log_refusal:
                raise Conflict(_REFUSALS.get(reason, reason), code=reason)
            skipped = SurveyInvitation.objects.create(
                status=InvitationStatus.SKIPPED, reason=reason, **common
            )
            return Invited(invitation=skipped, token="", url="")
        token = secrets.token_urlsafe(24)
        invitation = SurveyInvitation.objects.create(
            status=InvitationStatus.SENT, token_hash=token_hash(token), **common
        )
        url = invitation_url(survey.brand, token)
        if channel:
            not_before = now + delay if delay else None
            message = _message_queue(invitation, member, to, url, not_before)
            SurveyInvitation.objects.filter(pk=invitation.pk).update(message_id=message.pk)
            invitation.message_id = message.pk
        if actor.user is not None or actor.api_key is not None:
            audit_record(
                brand=survey.brand,
                actor=actor,
                action="survey.invite",
                target_type="survey",
                target_id=survey.pk,
                data={"invitation_id": str(invitation.pk), "member_id": str(member.pk), "channel": channel},
            )
    return Invited(invitation=invitation, token=token, url=url)


_REFUSALS = {
    "contact_frequency": "This member was invited to a survey too recently (the brand's contact rule)",
    "answered": "This member has already answered this survey",
    "already_invited": "This member was already invited to this survey",
    "member_inactive": "This member cannot be invited",
    "no_address": "This member has no address on that channel",
    "undeliverable": "Mail to this member's address bounced",
}


def invitation_opened(*, invitation: SurveyInvitation) -> None:
    SurveyInvitation.objects.filter(pk=invitation.pk, opened_at__isnull=True).update(opened_at=timezone.now())


def _activity_context(activity: Activity) -> tuple[str, str]:
    attributes = activity.attributes or {}
    store = str(attributes.get("store") or "")
    items = attributes.get("items") or []
    sku = str(items[0].get("sku") or "") if items and isinstance(items[0], dict) else ""
    return store, sku


@consumer(ANY, name="surveys.invitations")
def surveys_on_activity(activity: Activity) -> None:
    """Deferred consumer: an activity invites its member to each published survey triggered by its type
    (after a purchase, after a service contact), with the store and product it names; the rule applies."""
    if activity.type == "survey_answered":
        return
    surveys = list(
        Survey.objects.select_related("brand").filter(
            brand_id=activity.brand_id, status=SurveyStatus.PUBLISHED, trigger_activity=activity.type
        )
    )
    if not surveys:
        return
    member = Member.objects.get(pk=activity.member_id)
    store, sku = _activity_context(activity)
    for survey in surveys:
        try:
            survey_invite(
                survey=survey,
                member=member,
                channel=survey.invite_channel,
                store=store,
                sku=sku,
                source=f"activity:{activity.type}"[:40],
                delay=timedelta(hours=survey.trigger_delay_hours) if survey.trigger_delay_hours else None,
                log_refusal=True,
            )
        except IntegrityError:  # the consumer ran twice at once for this member: the first one invited
            continue
