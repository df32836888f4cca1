"""Campaigns over the API, mounted under /api/v1/campaigns (manage scope): segments and their counts,
campaigns, sending (idempotent), stats, previews and test sends, and the brand's messaging settings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import StringConstraints

from kesher.api.auth import actor_of, brand_of, require_scope
from kesher.api.common import ERRORS, ClockTime, PatchField, idempotent
from kesher.api.common import StrictInput as Strict
from kesher.campaigns import journeys, selectors, services, tracking
from kesher.campaigns.models import (
    Campaign,
    CampaignChannel,
    CampaignVariant,
    EmailSuppression,
    MessagingSettings,
    Segment,
)
from kesher.campaigns.rules import rules_parse
from kesher.core.errors import NotFound
from kesher.loyalty.models import Reward
from kesher.members.models import Member
from kesher.members.normalize import normalize_phone
from kesher.members.selectors import member_get

router = Router()

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


# --- shapes ------------------------------------------------------------------------------------------


class SegmentIn(Strict):
    name: Name
    rules: dict[str, Any] = Field(
        default_factory=dict,
        description='{"match": "all"|"any", "conditions": [{"kind": "interests", "any": ["fashion"]}, ...]}; '
        "kinds: field, locale, interests, consent, purchased, no_purchase, points, activity, joined, group",
    )


class RulesIn(Strict):
    rules: dict[str, Any] = Field(default_factory=dict)


class AudienceCountOut(Schema):
    members: int
    reachable: dict[str, int]


class SegmentOut(Schema):
    id: UUID
    name: str
    rules: dict[str, Any]
    created_at: datetime
    count: AudienceCountOut | None = None


class TranslationIn(Strict):
    subject: Annotated[str, StringConstraints(max_length=300)] = ""
    body: Annotated[str, StringConstraints(min_length=1, max_length=20_000)]


class BlockIn(Strict):
    interests: list[Annotated[str, StringConstraints(max_length=50)]] = Field(
        default_factory=list, max_length=50
    )
    text: Annotated[str, StringConstraints(min_length=1, max_length=5000)]


class VariantIn(Strict):
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] = Field(
        "", description="Empty: A, B, C ..."
    )
    subject: Annotated[str, StringConstraints(max_length=300)] = ""
    body: Annotated[str, StringConstraints(min_length=1, max_length=20_000)]
    translations: dict[str, TranslationIn] = Field(default_factory=dict)


class CampaignIn(Strict):
    name: Name
    channel: Literal["email", "sms", "portal"] = Field(
        description="portal: a notice shown to the member in the portal"
    )
    subject: Annotated[str, StringConstraints(max_length=300)] = Field(
        "", description="Required for email. An advertisement's gets the legal mark (פרסומת) in front"
    )
    body: Annotated[str, StringConstraints(max_length=20_000)] = Field(
        "",
        description="A template: {{ first_name }}, {{ last_name }}, {{ full_name }}, {{ brand }}, "
        "{{ points }}, {{ points_expiring }}, {{ block }}, {{ card_number }}, {{ coupon }} (with "
        "coupon_reward), {{ forward_url }}; links in it are tracked. Required unless variants are given",
    )
    advertising: bool
    segment: UUID | None = Field(None, description="A saved segment; none: every member who may receive it")
    locale: Literal["he", "en"] | None = Field(None, description="The language of subject and body")
    translations: dict[str, TranslationIn] = Field(
        default_factory=dict, description="The other language, for members who read it"
    )
    blocks: list[BlockIn] = Field(
        default_factory=list,
        max_length=20,
        description="Content blocks by interest; {{ block }} becomes the first about one of the member's "
        "interests, else the first with no interests",
    )
    variants: list[VariantIn] = Field(
        default_factory=list,
        max_length=5,
        description="An A/B test: 2 to 5 versions; ab_test_percent of the audience gets them split evenly, "
        "and after ab_wait_hours the best by ab_metric goes to everyone else",
    )
    ab_test_percent: int | None = Field(None, ge=1, le=100, description="Default 20")
    ab_wait_hours: int | None = Field(None, ge=1, le=336, description="Default 4")
    ab_metric: Literal["opened", "clicked"] | None = Field(None, description="Default opened")
    coupon_reward: UUID | None = Field(
        None, description="A reward of the catalog: each message issues its member one coupon ({{ coupon }})"
    )


class VariantOut(Schema):
    id: UUID
    name: str
    subject: str
    body: str


class CampaignOut(Schema):
    id: UUID
    name: str
    channel: str
    locale: str
    subject: str
    body: str
    advertising: bool
    segment: UUID | None
    status: str
    created_at: datetime
    send_requested_at: datetime | None
    queued_at: datetime | None
    finished_at: datetime | None
    coupon_reward: UUID | None = None
    variants: list[VariantOut] = Field(default_factory=list)
    ab_test_percent: int | None = None
    ab_wait_hours: int | None = None
    ab_metric: str | None = None
    ab_state: str = ""
    ab_winner: UUID | None = None
    warnings: list[dict[str, str]] = Field(default_factory=list)


class AudienceOut(Schema):
    in_segment: int
    reachable: int
    no_address: int
    no_consent: int
    inactive: int


class SendOut(Schema):
    id: UUID
    status: str
    started: bool = Field(description="False when an earlier call started it: this one sent nothing new")
    audience: AudienceOut


class VariantStatsOut(Schema):
    id: UUID
    name: str
    subject: str
    messages: int
    sent: int
    opened: int
    clicked: int
    open_rate: float
    click_rate: float
    winner: bool


class StatsOut(Schema):
    id: UUID
    status: str
    messages: int
    progress: float
    queued: int
    sent: int
    delivered: int
    bounced: int
    opened: int
    clicked: int
    forwarded: int
    unsubscribed: int
    complained: int
    converted: int
    failed: int
    suppressed: int
    excluded: dict[str, int]
    rates: dict[str, float]
    variants: list[VariantStatsOut] = Field(default_factory=list)
    ab_state: str = ""
    ab_winner: UUID | None = None


class PreviewIn(Strict):
    member_id: UUID | None = Field(
        None, description="A sample member; the first one the campaign reaches when absent"
    )
    variant: UUID | None = Field(None, description="An A/B test's variant; the first when absent")


class PreviewOut(Schema):
    member_id: UUID
    subject: str
    text: str
    html: str
    sms_parts: int
    warnings: list[dict[str, str]]


class TestSendIn(Strict):
    to: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254)] = Field(
        description="A staff email address (email campaign) or phone number (SMS campaign)"
    )
    member_id: UUID | None = None


class SettingsIn(Strict):
    sender_name: Annotated[str, StringConstraints(max_length=100)] | None = None
    sender_email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254)] | None = None
    reply_to: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254)] | None = None
    postal_address: Annotated[str, StringConstraints(max_length=300)] | None = None
    sms_sender: Annotated[str, StringConstraints(max_length=11)] | None = None
    sms_provider_url: Annotated[str, StringConstraints(max_length=500)] | None = None
    sms_opt_out_word: Annotated[str, StringConstraints(min_length=1, max_length=20)] = PatchField()
    quiet_start: ClockTime = PatchField()
    quiet_end: ClockTime = PatchField()
    quiet_on_shabbat: bool = PatchField()
    weekly_advertising_cap: int | None = Field(None, ge=0, le=100)
    conversion_days: int = PatchField(ge=1, le=90)
    email_per_second: int | None = Field(None, ge=0, le=100_000)
    sms_per_second: int | None = Field(None, ge=0, le=100_000)
    bounce_signature_required: bool = PatchField(
        description="Refuse (401) bounce notices without a valid X-Kesher-Signature header"
    )


class SettingsOut(Schema):
    sender_name: str
    sender_email: str
    reply_to: str
    postal_address: str
    sms_sender: str
    sms_provider_configured: bool
    sms_opt_out_word: str
    quiet_start: ClockTime
    quiet_end: ClockTime
    quiet_on_shabbat: bool
    weekly_advertising_cap: int | None
    conversion_days: int
    email_per_second: int | None
    sms_per_second: int | None
    bounce_webhook_url: str = Field(
        description="Give this to the mail provider for bounce and complaint notices (keep it secret)"
    )
    bounce_signing_secret: str = Field(
        description="The key of the X-Kesher-Signature header on bounce notices: "
        't=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" keyed by this secret> (keep it secret)'
    )
    bounce_signature_required: bool = Field(
        description="Notices without a valid signature no more than 5 minutes old are refused with 401"
    )


# --- helpers -----------------------------------------------------------------------------------------


def _manage(request: HttpRequest) -> None:
    require_scope(request, "manage")


def _campaign_out(campaign: Campaign, warnings: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {
        "id": str(campaign.id),
        "name": campaign.name,
        "channel": campaign.channel,
        "locale": campaign.locale,
        "subject": campaign.subject,
        "body": campaign.body,
        "advertising": campaign.advertising,
        "segment": str(campaign.segment_id) if campaign.segment_id else None,
        "status": campaign.status,
        "created_at": campaign.created_at.isoformat(),
        "send_requested_at": campaign.send_requested_at.isoformat() if campaign.send_requested_at else None,
        "queued_at": campaign.queued_at.isoformat() if campaign.queued_at else None,
        "finished_at": campaign.finished_at.isoformat() if campaign.finished_at else None,
        "coupon_reward": str(campaign.coupon_reward_id) if campaign.coupon_reward_id else None,
        "variants": [
            {"id": str(v.pk), "name": v.name, "subject": v.subject, "body": v.body}
            for v in campaign.variants.all()  # ordered by position; prefetched on lists
        ],
        "ab_test_percent": campaign.ab_test_percent,
        "ab_wait_hours": campaign.ab_wait_hours if campaign.ab_test_percent else None,
        "ab_metric": campaign.ab_metric if campaign.ab_test_percent else None,
        "ab_state": campaign.ab_state,
        "ab_winner": str(campaign.ab_winner_id) if campaign.ab_winner_id else None,
        "warnings": warnings or [],
    }


def _segment_out(segment: Segment, with_count: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(segment.id),
        "name": segment.name,
        "rules": segment.rules,
        "created_at": segment.created_at.isoformat(),
    }
    if with_count:
        count = selectors.rules_count(brand=segment.brand, rules=segment.rules)
        out["count"] = {"members": count.members, "reachable": count.reachable}
    return out


def _settings_out(ms: MessagingSettings) -> dict[str, Any]:
    return {
        "sender_name": ms.sender_name or ms.brand.name,
        "sender_email": ms.sender_email,
        "reply_to": ms.reply_to,
        "postal_address": ms.postal_address,
        "sms_sender": ms.sms_sender,
        "sms_provider_configured": bool(ms.sms_provider_url),
        "sms_opt_out_word": ms.sms_opt_out_word,
        "quiet_start": ms.quiet_start,
        "quiet_end": ms.quiet_end,
        "quiet_on_shabbat": ms.quiet_on_shabbat,
        "weekly_advertising_cap": ms.weekly_advertising_cap,
        "conversion_days": ms.conversion_days,
        "email_per_second": ms.email_per_second,
        "sms_per_second": ms.sms_per_second,
        "bounce_webhook_url": tracking.bounce_url(ms.brand_id),
        "bounce_signing_secret": tracking.bounce_signing_secret(ms.brand_id),
        "bounce_signature_required": ms.bounce_signature_required,
    }


def _sample_member(campaign: Campaign, member_id: UUID | None) -> Member:
    if member_id is not None:
        return member_get(brand=campaign.brand, member_id=member_id)
    member = selectors.campaign_audience(campaign=campaign).order_by("pk").first()
    if member is None:
        member = selectors.campaign_segment_members(campaign=campaign).order_by("pk").first()
    if member is None:
        raise NotFound(
            "The campaign reaches no member to show it as; give member_id", code="no_sample_member"
        )
    return member


def _reward(brand: Any, reward_id: UUID | None) -> Reward | None:
    if reward_id is None:
        return None
    found = Reward.objects.filter(brand=brand, pk=reward_id, active=True).first()
    if found is None:
        raise NotFound("No such reward", field="coupon_reward", code="reward_not_found")
    return found


# --- segments ----------------------------------------------------------------------------------------


@router.post("/segments", response={201: SegmentOut, **ERRORS}, summary="Save a segment (manage)")
def create_segment(request: HttpRequest, payload: SegmentIn) -> Status[Any]:
    _manage(request)
    brand = brand_of(request)

    def perform() -> tuple[int, Any]:
        segment = services.segment_create(
            brand=brand, name=payload.name, rules=payload.rules, actor=actor_of(request)
        )
        return 201, _segment_out(segment, with_count=True)

    return idempotent(request, payload.model_dump(mode="json"), perform)


@router.get("/segments", response={200: list[SegmentOut], **ERRORS}, summary="Saved segments (manage)")
def list_segments(request: HttpRequest) -> list[dict[str, Any]]:
    _manage(request)
    return [_segment_out(segment) for segment in selectors.segment_list(brand=brand_of(request))]


@router.post(
    "/segments/count",
    response={200: AudienceCountOut, **ERRORS},
    summary="Count rules before saving (manage)",
)
def count_rules(request: HttpRequest, payload: RulesIn) -> dict[str, Any]:
    _manage(request)
    count = selectors.rules_count(brand=brand_of(request), rules=rules_parse(payload.rules))
    return {"members": count.members, "reachable": count.reachable}


@router.get("/segments/{uuid:segment_id}", response={200: SegmentOut, **ERRORS}, summary="A segment (manage)")
def get_segment(request: HttpRequest, segment_id: UUID) -> dict[str, Any]:
    _manage(request)
    return _segment_out(
        selectors.segment_get(brand=brand_of(request), segment_id=segment_id), with_count=True
    )


@router.get(
    "/segments/{uuid:segment_id}/count",
    response={200: AudienceCountOut, **ERRORS},
    summary="How many members a segment holds now (manage)",
)
def count_segment(request: HttpRequest, segment_id: UUID) -> dict[str, Any]:
    _manage(request)
    segment = selectors.segment_get(brand=brand_of(request), segment_id=segment_id)
    count = selectors.rules_count(brand=segment.brand, rules=segment.rules)
    return {"members": count.members, "reachable": count.reachable}


# --- messaging settings ------------------------------------------------------------------------------


@router.get("/settings", response={200: SettingsOut, **ERRORS}, summary="Sender, quiet hours, caps (manage)")
def get_settings(request: HttpRequest) -> dict[str, Any]:
    _manage(request)
    return _settings_out(selectors.messaging_settings(brand=brand_of(request)))


@router.patch(
    "/settings", response={200: SettingsOut, **ERRORS}, summary="Change messaging settings (manage)"
)
def patch_settings(request: HttpRequest, payload: SettingsIn) -> Status[Any]:
    _manage(request)
    changes = payload.model_dump(exclude_unset=True)
    for name in (
        "sender_name",
        "sender_email",
        "reply_to",
        "postal_address",
        "sms_sender",
        "sms_provider_url",
    ):
        if name in changes and changes[name] is None:
            changes[name] = ""

    def perform() -> tuple[int, Any]:
        ms = services.messaging_settings_update(
            brand=brand_of(request), changes=changes, actor=actor_of(request)
        )
        return 200, _settings_out(ms)

    return idempotent(request, payload.model_dump(mode="json", exclude_unset=True), perform)


# --- the suppression list ----------------------------------------------------------------------------


class SuppressionOut(Schema):
    email: str
    reason: str
    detail: str
    created_at: datetime


class SuppressionPageOut(Schema):
    items: list[SuppressionOut]
    next_cursor: str | None


@router.get(
    "/suppressions",
    response={200: SuppressionPageOut, **ERRORS},
    summary="Addresses no email goes to, in address order (manage)",
)
def list_suppressions(
    request: HttpRequest,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,  # type: ignore[type-arg]
) -> dict[str, Any]:
    _manage(request)
    page = selectors.suppression_list(brand=brand_of(request), cursor=cursor, limit=limit)
    return {"items": page.suppressions, "next_cursor": page.next_cursor}


@router.delete(
    "/suppressions/{email}",
    response={200: SuppressionOut, **ERRORS},
    summary="Allow email to an address again (manage, audited)",
)
def delete_suppression(request: HttpRequest, email: str) -> EmailSuppression:
    _manage(request)
    return services.email_suppression_remove(brand=brand_of(request), email=email, actor=actor_of(request))


# --- campaigns ---------------------------------------------------------------------------------------


@router.post("", response={201: CampaignOut, **ERRORS}, summary="Create a campaign (manage)")
def create_campaign(request: HttpRequest, payload: CampaignIn) -> Status[Any]:
    _manage(request)
    brand = brand_of(request)

    def perform() -> tuple[int, Any]:
        segment = (
            selectors.segment_get(brand=brand, segment_id=payload.segment)
            if payload.segment is not None
            else None
        )
        campaign = services.campaign_create(
            brand=brand,
            name=payload.name,
            channel=payload.channel,
            subject=payload.subject,
            body=payload.body,
            advertising=payload.advertising,
            segment=segment,
            locale=payload.locale,
            translations={locale: t.model_dump() for locale, t in payload.translations.items()},
            blocks=[block.model_dump() for block in payload.blocks],
            variants=[variant.model_dump() for variant in payload.variants],
            ab_test_percent=payload.ab_test_percent,
            ab_wait_hours=payload.ab_wait_hours,
            ab_metric=payload.ab_metric,
            coupon_reward=_reward(brand, payload.coupon_reward),
            actor=actor_of(request),
        )
        return 201, _campaign_out(campaign, services.content_warnings(campaign))

    return idempotent(request, payload.model_dump(mode="json"), perform)


@router.get("", response={200: list[CampaignOut], **ERRORS}, summary="Campaigns, newest first (manage)")
def list_campaigns(request: HttpRequest) -> list[dict[str, Any]]:
    _manage(request)
    return [_campaign_out(campaign) for campaign in selectors.campaign_list(brand=brand_of(request))]


@router.get("/{uuid:campaign_id}", response={200: CampaignOut, **ERRORS}, summary="A campaign (manage)")
def get_campaign(request: HttpRequest, campaign_id: UUID) -> dict[str, Any]:
    _manage(request)
    campaign = selectors.campaign_get(brand=brand_of(request), campaign_id=campaign_id)
    return _campaign_out(campaign, services.content_warnings(campaign))


@router.get(
    "/{uuid:campaign_id}/audience",
    response={200: AudienceOut, **ERRORS},
    summary="Who it would reach now, and who is left out (manage)",
)
def get_audience(request: HttpRequest, campaign_id: UUID) -> selectors.AudienceBreakdown:
    _manage(request)
    campaign = selectors.campaign_get(brand=brand_of(request), campaign_id=campaign_id)
    return selectors.campaign_audience_breakdown(campaign=campaign)


@router.post(
    "/{uuid:campaign_id}/send",
    response={200: SendOut, 202: SendOut, **ERRORS},
    summary="Send it (manage); a second call sends nothing new",
)
def send_campaign(request: HttpRequest, campaign_id: UUID) -> Status[Any]:
    _manage(request)
    brand = brand_of(request)

    def perform() -> tuple[int, Any]:
        campaign = selectors.campaign_get(brand=brand, campaign_id=campaign_id)
        outcome = services.campaign_send(campaign=campaign, actor=actor_of(request))
        audience = outcome.audience
        return 202 if outcome.started else 200, {
            "id": str(campaign.id),
            "status": outcome.campaign.status,
            "started": outcome.started,
            "audience": {
                "in_segment": audience.in_segment,
                "reachable": audience.reachable,
                "no_address": audience.no_address,
                "no_consent": audience.no_consent,
                "inactive": audience.inactive,
            },
        }

    return idempotent(request, {"campaign": str(campaign_id)}, perform)


@router.get("/{uuid:campaign_id}/stats", response={200: StatsOut, **ERRORS}, summary="The funnel (manage)")
def get_stats(request: HttpRequest, campaign_id: UUID) -> dict[str, Any]:
    _manage(request)
    campaign = selectors.campaign_get(brand=brand_of(request), campaign_id=campaign_id)
    stats = selectors.campaign_stats(campaign=campaign)
    return {
        "id": campaign.id,
        "status": stats.status,
        "messages": stats.messages,
        "progress": stats.progress,
        **stats.funnel,
        "failed": stats.statuses.get("failed", 0),
        "suppressed": stats.statuses.get("suppressed", 0),
        "excluded": stats.excluded,
        "rates": stats.rates,
        "variants": selectors.campaign_variant_stats(campaign=campaign),
        "ab_state": campaign.ab_state,
        "ab_winner": campaign.ab_winner_id,
    }


@router.post(
    "/{uuid:campaign_id}/preview",
    response={200: PreviewOut, **ERRORS},
    summary="The message as a sample member would get it, with size warnings (manage)",
)
def preview_campaign(request: HttpRequest, campaign_id: UUID, payload: PreviewIn) -> dict[str, Any]:
    _manage(request)
    campaign = selectors.campaign_get(brand=brand_of(request), campaign_id=campaign_id)
    member = _sample_member(campaign, payload.member_id)
    variant = None
    if payload.variant is not None:
        variant = CampaignVariant.objects.filter(campaign=campaign, pk=payload.variant).first()
        if variant is None:
            raise NotFound("No such variant of this campaign", field="variant", code="variant_not_found")
    preview = services.campaign_preview(campaign=campaign, member=member, variant=variant)
    return {
        "member_id": member.pk,
        "subject": preview.subject,
        "text": preview.text,
        "html": preview.html,
        "sms_parts": preview.sms_parts,
        "warnings": preview.warnings,
    }


@router.post(
    "/{uuid:campaign_id}/test",
    response={202: dict[str, str], **ERRORS},
    summary="Send it to a staff address as a sample member would get it (manage)",
)
def test_send_campaign(request: HttpRequest, campaign_id: UUID, payload: TestSendIn) -> Status[Any]:
    _manage(request)
    campaign = selectors.campaign_get(brand=brand_of(request), campaign_id=campaign_id)
    member = _sample_member(campaign, payload.member_id)
    if campaign.channel == CampaignChannel.EMAIL:
        from kesher.members.normalize import normalize_email

        to = normalize_email(payload.to, field="to") or ""
    else:
        to = normalize_phone(payload.to, default_country=campaign.brand.default_country, field="to") or ""
    services.campaign_test_send(campaign=campaign, member=member, to=to, actor=actor_of(request))
    return Status(202, {"to": to})


# --- journeys ----------------------------------------------------------------------------------------


class JourneyIn(Strict):
    name: Name
    trigger: Literal["activity", "birthday", "hebrew_birthday", "join_anniversary", "inactivity"]
    trigger_activity: Annotated[str, StringConstraints(max_length=64)] = Field(
        "", description="For trigger=activity: the activity type that starts it (signup, visit, purchase ...)"
    )
    inactivity_days: int | None = Field(None, ge=1, le=3650, description="For trigger=inactivity")
    status: Literal["active", "paused"] = "active"
    steps: list[dict[str, Any]] = Field(
        description='Ordered: {"type": "wait", "days": 2}, {"type": "condition", "consent": "email"} or '
        '{"type": "condition", "rules": {...}}, {"type": "send", "channel": "email", "subject": ..., '
        '"body": ..., "advertising": true, "translations": {"en": {...}}, "coupon_reward": <reward id>}, '
        "where coupon_reward (optional, a reward of the brand's catalog) gives each member's message from "
        "the step a coupon of its own, {{ coupon }} in the text (once per member and run; out of stock, "
        "the step is skipped for that member, outcome no_coupon), "
        '{"type": "points", "points": 50, "reason": ...}, {"type": "tag", "tag": ...}, '
        '{"type": "notify", "email": ..., "subject": ..., "body": ...}',
        max_length=30,
    )


class JourneyInstallIn(Strict):
    kind: Literal["welcome", "birthday", "post_visit", "win_back", "points_expiry", "satisfaction_survey"]


class JourneyOut(Schema):
    id: UUID
    name: str
    kind: str
    trigger: str
    trigger_activity: str
    inactivity_days: int | None
    status: str
    steps: list[dict[str, Any]]
    created_at: datetime
    runs: dict[str, int]
    step_campaigns: list[UUID]


def _journey_out(journey: Any, runs: dict[str, int] | None = None) -> dict[str, Any]:
    if runs is None:
        runs = selectors.journey_run_counts(journeys=[journey])[journey.pk]
    return {
        "id": journey.pk,
        "name": journey.name,
        "kind": journey.kind,
        "trigger": journey.trigger,
        "trigger_activity": journey.trigger_activity,
        "inactivity_days": journey.inactivity_days,
        "status": journey.status,
        "steps": journey.steps,
        "created_at": journey.created_at,
        "runs": runs,
        "step_campaigns": [c.pk for c in journey.step_campaigns.order_by("journey_step")],
    }


@router.get(
    "/journeys", response={200: list[JourneyOut], **ERRORS}, summary="Journeys and their runs (manage)"
)
def list_journeys(request: HttpRequest) -> list[dict[str, Any]]:
    _manage(request)
    journeys = selectors.journey_list(brand=brand_of(request))
    counts = selectors.journey_run_counts(journeys=journeys)
    return [_journey_out(journey, counts[journey.pk]) for journey in journeys]


@router.post("/journeys", response={201: JourneyOut, **ERRORS}, summary="Create a journey (manage)")
def create_journey(request: HttpRequest, payload: JourneyIn) -> Status[Any]:
    _manage(request)
    brand = brand_of(request)

    def perform() -> tuple[int, Any]:
        journey = journeys.journey_create(
            brand=brand,
            name=payload.name,
            trigger=payload.trigger,
            trigger_activity=payload.trigger_activity,
            inactivity_days=payload.inactivity_days,
            status=payload.status,
            steps=payload.steps,
            actor=actor_of(request),
        )
        return 201, _journey_out(journey)

    return idempotent(request, payload.model_dump(mode="json"), perform)


@router.post(
    "/journeys/install",
    response={201: JourneyOut, **ERRORS},
    summary="Switch on a ready-made journey (manage)",
)
def install_journey(request: HttpRequest, payload: JourneyInstallIn) -> Status[Any]:
    _manage(request)
    brand = brand_of(request)

    def perform() -> tuple[int, Any]:
        journey = journeys.journey_install(brand=brand, kind=payload.kind, actor=actor_of(request))
        return 201, _journey_out(journey)

    return idempotent(request, payload.model_dump(mode="json"), perform)


@router.get("/journeys/{uuid:journey_id}", response={200: JourneyOut, **ERRORS}, summary="A journey (manage)")
def get_journey(request: HttpRequest, journey_id: UUID) -> dict[str, Any]:
    _manage(request)
    return _journey_out(selectors.journey_get(brand=brand_of(request), journey_id=journey_id))


def _journey_status(request: HttpRequest, journey_id: UUID, status: str) -> Status[Any]:
    _manage(request)
    brand = brand_of(request)

    def perform() -> tuple[int, Any]:
        journey = selectors.journey_get(brand=brand, journey_id=journey_id)
        journey = journeys.journey_status_set(journey=journey, status=status, actor=actor_of(request))
        return 200, _journey_out(journey)

    return idempotent(request, {"journey": str(journey_id), "status": status}, perform)


@router.post(
    "/journeys/{uuid:journey_id}/pause",
    response={200: JourneyOut, **ERRORS},
    summary="Pause: runs wait where they are (manage)",
)
def pause_journey(request: HttpRequest, journey_id: UUID) -> Status[Any]:
    return _journey_status(request, journey_id, "paused")


@router.post(
    "/journeys/{uuid:journey_id}/resume",
    response={200: JourneyOut, **ERRORS},
    summary="Resume: runs go on from where they waited (manage)",
)
def resume_journey(request: HttpRequest, journey_id: UUID) -> Status[Any]:
    return _journey_status(request, journey_id, "active")
