"""Every write for campaigns: segments, campaigns, queuing one message per member, delivering each at most
once, and recording what happens to it afterwards (opens, clicks, unsubscribes, receipts, conversions)."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import formataddr, parseaddr
from functools import partial
from itertools import islice
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from kesher.activity.models import Activity
from kesher.activity.services import activity_record
from kesher.brands.models import Brand
from kesher.campaigns import rendering, selectors, tracking
from kesher.campaigns.channels import EmailChannel, NotSent, Refused, Sms, SmsProvider, sms_provider
from kesher.campaigns.models import (
    ADVERTISING_MARK,
    AbMetric,
    AbState,
    Campaign,
    CampaignChannel,
    CampaignStatus,
    CampaignVariant,
    ConsentBasis,
    EmailSuppression,
    EventKind,
    Message,
    MessageCoupon,
    MessageEvent,
    MessageForward,
    MessageStatus,
    MessagingSettings,
    Segment,
    SuppressionReason,
    consent_channel,
)
from kesher.campaigns.quiet_hours import sms_allowed, sms_next_allowed
from kesher.campaigns.rules import rules_parse
from kesher.core.audit import SYSTEM, Actor, audit_record
from kesher.core.errors import Conflict, KesherError, NotFound, ValidationFailed
from kesher.loyalty.models import Coupon, Reward
from kesher.members.models import Member, MemberStatus
from kesher.members.normalize import normalize_email, normalize_phone
from kesher.members.services import consent_set

log = logging.getLogger(__name__)

QUEUE_CHUNK = 1000  # members rendered and written per transaction
DELIVER_BATCH = 100  # messages per delivery task (one SMTP connection)
MAX_ATTEMPTS = 8
ACTIVITY_SOURCE = "campaigns"
OPT_OUT_WORDS = {"הסר", "הסרה", "stop", "unsubscribe", "remove"}
UPDATABLE_SETTINGS = {
    "sender_name",
    "sender_email",
    "reply_to",
    "postal_address",
    "sms_sender",
    "sms_provider_url",
    "sms_opt_out_word",
    "quiet_start",
    "quiet_end",
    "quiet_on_shabbat",
    "weekly_advertising_cap",
    "conversion_days",
    "email_per_second",
    "sms_per_second",
    "bounce_signature_required",
}


# --- settings and segments ---------------------------------------------------------------------------


@transaction.atomic
def messaging_settings_update(
    *, brand: Brand, changes: dict[str, Any], actor: Actor = SYSTEM
) -> MessagingSettings:
    unknown = set(changes) - UPDATABLE_SETTINGS
    if unknown:
        name = sorted(unknown)[0]
        raise ValidationFailed(f"{name} cannot be changed here", field=name)
    for name in ("sender_email", "reply_to"):
        if changes.get(name):
            changes[name] = normalize_email(changes[name], field=name)
    if changes.get("sms_provider_url"):
        try:
            sms_provider(changes["sms_provider_url"])
        except ValueError as exc:
            raise ValidationFailed(str(exc), field="sms_provider_url") from None
    current, _ = MessagingSettings.objects.select_for_update().get_or_create(brand=brand)
    for name, value in changes.items():
        setattr(current, name, value)
    current.save()
    audit_record(
        brand=brand,
        actor=actor,
        action="messaging_settings.update",
        target_type="brand",
        target_id=brand.pk,
        # Credentials in the provider URL stay out of the audit log.
        data={name: str(value) for name, value in changes.items() if name != "sms_provider_url"},
    )
    return current


@transaction.atomic
def segment_create(*, brand: Brand, name: str, rules: dict[str, Any], actor: Actor = SYSTEM) -> Segment:
    name = " ".join(name.split())
    if not name:
        raise ValidationFailed("name is required", field="name")
    parsed = rules_parse(rules)
    if Segment.objects.filter(brand=brand, name=name).exists():
        raise Conflict(f"A segment named {name!r} already exists", field="name", code="duplicate_segment")
    segment = Segment.objects.create(brand=brand, name=name, rules=parsed.model_dump(mode="json"))
    audit_record(
        brand=brand,
        actor=actor,
        action="segment.create",
        target_type="segment",
        target_id=segment.pk,
        data={"name": name, "rules": segment.rules},
    )
    return segment


# --- campaigns ---------------------------------------------------------------------------------------


def _clean_translations(channel: str, raw: dict[str, Any] | None, main_locale: str) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for locale, content in (raw or {}).items():
        if locale not in Brand.Locale.values or locale == main_locale:
            raise ValidationFailed(
                f"translations.{locale}: a translation is into the other language (he or en)",
                field=f"translations.{locale}",
            )
        if not isinstance(content, dict) or not str(content.get("body", "")).strip():
            raise ValidationFailed(
                f"translations.{locale}.body is required", field=f"translations.{locale}.body"
            )
        subject = str(content.get("subject", "")).strip()
        if channel == CampaignChannel.EMAIL and not subject:
            raise ValidationFailed(
                f"translations.{locale}.subject is required for email", field=f"translations.{locale}.subject"
            )
        clean[locale] = {"subject": subject, "body": str(content["body"])}
    return clean


def _clean_blocks(raw: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    blocks = []
    for index, block in enumerate(raw or []):
        text = str(block.get("text", "")).strip()
        if not text:
            raise ValidationFailed(f"blocks.{index}.text is required", field=f"blocks.{index}.text")
        interests = [" ".join(str(tag).split()).lower() for tag in block.get("interests") or []]
        blocks.append({"interests": [tag for tag in interests if tag], "text": text})
    return blocks


@transaction.atomic
def campaign_create(
    *,
    brand: Brand,
    name: str,
    channel: str,
    subject: str = "",
    body: str,
    advertising: bool,
    segment: Segment | None = None,
    locale: str | None = None,
    translations: dict[str, Any] | None = None,
    blocks: list[dict[str, Any]] | None = None,
    variants: list[dict[str, Any]] | None = None,
    ab_test_percent: int | None = None,
    ab_wait_hours: int | None = None,
    ab_metric: str | None = None,
    coupon_reward: Reward | None = None,
    actor: Actor = SYSTEM,
) -> Campaign:
    name = " ".join(name.split())
    if not name:
        raise ValidationFailed("name is required", field="name")
    if channel not in CampaignChannel.values:
        raise ValidationFailed("channel must be email, sms or portal", field="channel")
    clean_variants = _clean_variants(channel, variants, ab_test_percent, ab_wait_hours, ab_metric)
    if clean_variants and not body.strip():
        # The first variant stands for the campaign where one text is shown (lists, previews).
        subject, body = clean_variants[0]["subject"], clean_variants[0]["body"]
    subject = " ".join(subject.split())
    if channel != CampaignChannel.SMS and not subject:
        raise ValidationFailed(f"subject is required for {channel}", field="subject")
    if not body.strip():
        raise ValidationFailed("body is required", field="body")
    if coupon_reward is not None and coupon_reward.brand_id != brand.pk:
        raise ValidationFailed("coupon_reward belongs to another brand", field="coupon_reward")
    locale = locale or brand.default_locale
    if locale not in Brand.Locale.values:
        raise ValidationFailed("locale must be he or en", field="locale")
    if segment is not None and segment.brand_id != brand.pk:
        raise ValidationFailed("segment belongs to another brand", field="segment")
    clean_translations = _clean_translations(channel, translations, locale)
    clean_blocks = _clean_blocks(blocks)
    # Compile everything now, so a mistake is a 422 at creation and never a failure mid-send.
    for index, variant in enumerate(clean_variants):
        try:
            rendering.content_compile(variant["subject"], variant["body"], clean_blocks)
            for content in _clean_translations(channel, variant["translations"], locale).values():
                rendering.content_compile(content["subject"], content["body"], clean_blocks)
        except ValidationFailed as exc:
            raise ValidationFailed(f"variants.{index}.{exc.message}", field=f"variants.{index}") from None
    rendering.content_compile(subject, body, clean_blocks)
    for content in clean_translations.values():
        rendering.content_compile(content["subject"], content["body"], clean_blocks)
    campaign = Campaign.objects.create(
        brand=brand,
        name=name,
        channel=channel,
        locale=locale,
        subject=subject,
        body=body,
        translations=clean_translations,
        blocks=clean_blocks,
        advertising=advertising,
        segment=segment,
        coupon_reward=coupon_reward,
        ab_test_percent=(ab_test_percent or DEFAULT_AB_PERCENT) if clean_variants else None,
        ab_wait_hours=ab_wait_hours or DEFAULT_AB_WAIT_HOURS,
        ab_metric=ab_metric or AbMetric.OPENED,
        created_by=actor.label,
    )
    for position, variant in enumerate(clean_variants):
        CampaignVariant.objects.create(
            campaign=campaign,
            position=position,
            name=variant["name"] or chr(ord("A") + position),
            subject=variant["subject"],
            body=variant["body"],
            translations=_clean_translations(channel, variant["translations"], locale),
        )
    audit_record(
        brand=brand,
        actor=actor,
        action="campaign.create",
        target_type="campaign",
        target_id=campaign.pk,
        data={
            "name": name,
            "channel": channel,
            "advertising": advertising,
            "variants": len(clean_variants),
            "coupon_reward": str(coupon_reward.pk) if coupon_reward else None,
        },
    )
    return campaign


DEFAULT_AB_PERCENT = 20
DEFAULT_AB_WAIT_HOURS = 4
MAX_VARIANTS = 5


def _clean_variants(
    channel: str,
    raw: list[dict[str, Any]] | None,
    percent: int | None,
    wait_hours: int | None,
    metric: str | None,
) -> list[dict[str, Any]]:
    variants = raw or []
    if not variants:
        for name, value in (
            ("ab_test_percent", percent),
            ("ab_wait_hours", wait_hours),
            ("ab_metric", metric),
        ):
            if value is not None:
                raise ValidationFailed(f"{name} needs variants", field=name)
        return []
    if not 2 <= len(variants) <= MAX_VARIANTS:
        raise ValidationFailed(f"an A/B test has 2 to {MAX_VARIANTS} variants", field="variants")
    if percent is not None and not 1 <= percent <= 100:
        raise ValidationFailed("ab_test_percent must be 1 to 100", field="ab_test_percent")
    if wait_hours is not None and not 1 <= wait_hours <= 24 * 14:
        raise ValidationFailed("ab_wait_hours must be 1 to 336", field="ab_wait_hours")
    if metric is not None and metric not in AbMetric.values:
        raise ValidationFailed("ab_metric must be opened or clicked", field="ab_metric")
    if channel == CampaignChannel.SMS and (metric or AbMetric.OPENED) == AbMetric.OPENED:
        raise ValidationFailed("an SMS has no opens: choose ab_metric clicked", field="ab_metric")
    clean = []
    for index, variant in enumerate(variants):
        subject = " ".join(str(variant.get("subject") or "").split())
        body = str(variant.get("body") or "")
        if channel != CampaignChannel.SMS and not subject:
            raise ValidationFailed(f"variants.{index}.subject is required", field=f"variants.{index}.subject")
        if not body.strip():
            raise ValidationFailed(f"variants.{index}.body is required", field=f"variants.{index}.body")
        clean.append(
            {
                "name": " ".join(str(variant.get("name") or "").split())[:50],
                "subject": subject,
                "body": body,
                "translations": variant.get("translations") or {},
            }
        )
    return clean


@dataclass(frozen=True)
class SendOutcome:
    campaign: Campaign
    started: bool  # False: it was sent before, and this call sent nothing new
    audience: selectors.AudienceBreakdown


def campaign_send(*, campaign: Campaign, actor: Actor = SYSTEM) -> SendOutcome:
    """Start sending. Idempotent: only the first call moves a draft on; a later one changes nothing."""
    with transaction.atomic():
        started = (
            Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.DRAFT).update(
                status=CampaignStatus.QUEUING, send_requested_at=timezone.now()
            )
            == 1
        )
        if started:
            audit_record(
                brand=campaign.brand,
                actor=actor,
                action="campaign.send",
                target_type="campaign",
                target_id=campaign.pk,
                data={"name": campaign.name},
            )
            transaction.on_commit(lambda: _queue_later(campaign.pk))
        audience = selectors.campaign_audience_breakdown(campaign=campaign)
    campaign.refresh_from_db()
    return SendOutcome(campaign=campaign, started=started, audience=audience)


def _queue_later(campaign_id: uuid.UUID) -> None:
    from kesher.campaigns.tasks import campaign_queue_task

    campaign_queue_task.delay(str(campaign_id))


@dataclass
class _Contents:
    by_locale: dict[str, rendering.CompiledContent]
    main: str
    names: set[str]

    def for_locale(self, locale: str) -> tuple[str, rendering.CompiledContent]:
        if locale in self.by_locale:
            return locale, self.by_locale[locale]
        return self.main, self.by_locale[self.main]


def _contents(campaign: Campaign, variant: CampaignVariant | None = None) -> _Contents:
    """The campaign's templates compiled per language; a variant's own subject, body and translations."""
    source: Campaign | CampaignVariant = variant if variant is not None else campaign
    by_locale = {campaign.locale: rendering.content_compile(source.subject, source.body, campaign.blocks)}
    sources = [source.subject, source.body, *(block["text"] for block in campaign.blocks)]
    for locale, content in source.translations.items():
        by_locale[locale] = rendering.content_compile(content["subject"], content["body"], campaign.blocks)
        sources += [content["subject"], content["body"]]
    return _Contents(by_locale=by_locale, main=campaign.locale, names=rendering.names_used(*sources))


def _test_group_size(campaign: Campaign, reachable: int, variants: int) -> int:
    """How many members the A/B test goes to: the test share of the audience, at least one per variant."""
    share = round(reachable * (campaign.ab_test_percent or 100) / 100)
    return min(reachable, max(share, variants))


def campaign_queue(*, campaign_id: uuid.UUID | str) -> int:
    """Render and write one message per member the campaign may reach, then hand them to delivery.
    Safe to run again after a crash: members who already have their message are skipped.

    With A/B variants this runs twice: first for the test group (the variants in turn, so they split it
    evenly), then, once ab_tests_decide chose the winner, for everyone else with the winner's text."""
    campaign = Campaign.objects.select_related("brand", "segment", "coupon_reward", "ab_winner").get(
        pk=campaign_id
    )
    if campaign.status != CampaignStatus.QUEUING:
        return 0
    brand = campaign.brand
    ms = selectors.messaging_settings(brand=brand)
    variants = list(CampaignVariant.objects.filter(campaign=campaign).order_by("position"))
    testing = bool(variants) and campaign.ab_state != AbState.DECIDED
    if testing:
        contents_list = [_contents(campaign, variant) for variant in variants]
    else:
        contents_list = [_contents(campaign, campaign.ab_winner)]
    names = set().union(*(contents.names for contents in contents_list))
    breakdown = selectors.campaign_audience_breakdown(campaign=campaign)
    earlier = campaign.exclusions or {}
    exclusions = {
        "inactive": breakdown.inactive,
        "no_address": breakdown.no_address,
        "no_consent": breakdown.no_consent,
        # The rollout after an A/B test adds to what the test group's queuing counted.
        "no_consent_proof": earlier.get("no_consent_proof", 0) if variants else 0,
        "frequency_cap": earlier.get("frequency_cap", 0) if variants else 0,
    }
    if campaign.coupon_reward_id:
        exclusions["no_coupon"] = earlier.get("no_coupon", 0) if variants else 0
    existing = Message.objects.filter(campaign=campaign).count()
    resumed = existing > 0
    already = Message.objects.filter(campaign=campaign, member=OuterRef("pk"))
    audience = selectors.campaign_audience(campaign=campaign).exclude(Exists(already)).order_by("pk")
    if testing:
        # Member keys are random (UUID4), so the first ones in key order are a random sample.
        wanted = _test_group_size(campaign, breakdown.reachable, len(variants)) - existing
        audience = audience[: max(wanted, 0)]
    address = selectors.address_field(campaign.channel)
    fields = ["pk", "first_name", "last_name", "locale", "interests", "card_number", address]
    if campaign.advertising:
        fields.append("consent_event_id")
    if "points" in names:
        fields.append("points__balance")
    cap = ms.weekly_advertising_cap if campaign.advertising else None
    sender = ms.sender_name or brand.name
    queued = 0
    written = existing
    last_pk = None
    # One pass over the audience (a server-side cursor on PostgreSQL, held across the chunks' commits):
    # re-querying "the next 1,000 after X" would rescan the brand's members for every chunk.
    stream = audience.values(*fields).iterator(chunk_size=QUEUE_CHUNK)
    while True:
        rows = list(islice(stream, QUEUE_CHUNK))
        if not rows:
            break
        after, last_pk = last_pk, rows[-1]["pk"]
        now = timezone.now()
        # Members come in primary-key order, so a chunk is a key range: no long IN lists.
        expiring = (
            selectors.points_expiring_by_member(brand=brand, after=after, upto=last_pk, now=now)
            if "points_expiring" in names
            else {}
        )
        counts = (
            selectors.advertisements_this_week(
                brand=brand, after=after, upto=last_pk, exclude_campaign=campaign
            )
            if cap is not None
            else {}
        )
        not_before = _first_send_time(campaign, ms, now)
        # A coupon is issued in the same transaction as the message that carries it.
        with transaction.atomic() if campaign.coupon_reward_id else nullcontext():
            messages: list[dict[str, Any]] = []
            for row in rows:
                if campaign.advertising and row["consent_event_id"] is None:
                    exclusions["no_consent_proof"] += 1
                    continue
                if cap is not None and counts.get(row["pk"], 0) >= cap:
                    exclusions["frequency_cap"] += 1
                    continue
                coupon = None
                if campaign.coupon_reward is not None:
                    coupon = message_coupon_issue(campaign=campaign, member_id=row["pk"])
                    if coupon is None:
                        exclusions["no_coupon"] += 1
                        continue
                variant_index = written % len(contents_list)
                locale, content = contents_list[variant_index].for_locale(row["locale"])
                message_id = uuid.uuid4()
                rendered = rendering.content_render(
                    content,
                    rendering.member_context(
                        first_name=row["first_name"],
                        last_name=row["last_name"],
                        locale=locale,
                        brand=sender,
                        interests=row["interests"] or [],
                        points=row.get("points__balance") or 0,
                        points_expiring=expiring.get(row["pk"], 0),
                        card_number=row["card_number"],
                        coupon=coupon,
                        forward_url=tracking.forward_url(message_id) if "forward_url" in names else "",
                    ),
                )
                written += 1
                messages.append(
                    {
                        "id": message_id,
                        "brand_id": brand.pk,
                        "campaign_id": campaign.pk,
                        "member_id": row["pk"],
                        "channel": campaign.channel,
                        "to": row[address] if campaign.channel != CampaignChannel.PORTAL else "portal",
                        "locale": locale,
                        "subject": rendering.subject_frame(
                            rendered.subject, advertising=campaign.advertising
                        )[:400],
                        "body": rendered.body,
                        "advertising": campaign.advertising,
                        "consent_basis": ConsentBasis.CONSENT
                        if campaign.advertising
                        else ConsentBasis.SERVICE,
                        "consent_event_id": row.get("consent_event_id"),
                        "variant_id": variants[variant_index].pk if testing else None,
                        "not_before": not_before,
                        "created_at": now,
                    }
                )
            with transaction.atomic():
                _messages_write(messages)
                queued += _queued_events_record(campaign, after, last_pk, now)
                Campaign.objects.filter(pk=campaign.pk).update(exclusions=exclusions)
        _dispatch([m["id"] for m in messages], not_before)
    finished: dict[str, Any] = {"status": CampaignStatus.SENDING}
    if testing:
        finished.update(ab_state=AbState.TESTING, ab_test_queued_at=timezone.now())
    if not variants or testing:  # the rollout after an A/B test keeps the time the campaign started
        finished["queued_at"] = timezone.now()
    Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.QUEUING).update(
        exclusions=exclusions, **finished
    )
    if resumed:
        # An earlier run died between writing messages and handing them over: hand over what still waits.
        waiting = Message.objects.filter(
            campaign=campaign, status=MessageStatus.QUEUED, not_before__isnull=True
        )
        _dispatch(list(waiting.values_list("pk", flat=True)), None)
    campaign_finish_if_done(campaign_id=campaign.pk)
    return queued


def message_coupon_issue(
    *, campaign: Campaign, member_id: uuid.UUID, journey_run_id: uuid.UUID | None = None
) -> rendering.CouponValue | None:
    """The coupon for this member's message of the campaign (for a journey's send step: of the step's
    campaign, in this run), issued once through loyalty's free surprise grant: a second call (a retry, a
    resumed queuing, a concurrent worker) gets the first one back. None when the reward ran out.

    Call it inside the transaction that writes the message, so a message that is not written leaves no
    coupon behind. Campaign queuing and journey send steps both come here."""
    from kesher.loyalty.services import reward_surprise_grant

    reward = campaign.coupon_reward
    assert reward is not None
    mine = MessageCoupon.objects.filter(campaign=campaign, member_id=member_id, journey_run_id=journey_run_id)
    found = mine.select_related("coupon").first()
    if found is not None:
        return rendering.CouponValue(found.coupon.code, found.coupon.expires_at)
    wallet = Coupon.objects.filter(member_id=member_id, reward=reward)
    try:
        with transaction.atomic():
            before = set(wallet.values_list("pk", flat=True))
            granted = reward_surprise_grant(
                brand=campaign.brand,
                members=[Member(pk=member_id, brand_id=campaign.brand_id)],
                reward=reward,
                reason=f"{'journey' if campaign.journey_id else 'campaign'} {campaign.name}"[:200],
                budget=reward.cost_points,
                actor=SYSTEM,
            )
            if not granted:
                raise _OutOfStock  # and leave nothing behind (not even the grant's audit row)
            # Ours is the new coupon that no message holds: another sender's coupon for this member and
            # reward is committed together with its MessageCoupon, so it is never taken for ours.
            coupon = (
                wallet.exclude(pk__in=before)
                .exclude(pk__in=MessageCoupon.objects.filter(member_id=member_id).values("coupon_id"))
                .order_by("-issued_at", "pk")
                .first()
            )
            assert coupon is not None
            MessageCoupon.objects.create(
                brand_id=campaign.brand_id,
                campaign=campaign,
                member_id=member_id,
                journey_run_id=journey_run_id,
                coupon=coupon,
            )
    except _OutOfStock:
        return None
    except IntegrityError:  # another run issued it first: use theirs (ours was rolled back)
        found = mine.select_related("coupon").get()
        coupon = found.coupon
    return rendering.CouponValue(coupon.code, coupon.expires_at)


class _OutOfStock(Exception):
    """The reward ran out: rolls back the empty grant."""


MESSAGE_DEFAULTS: dict[str, Any] = {
    "status": MessageStatus.QUEUED,
    "claim_token": "",
    "attempts": 0,
    "provider_ref": "",
    "error": "",
}


def _messages_write(messages: list[dict[str, Any]]) -> None:
    """Write a chunk of new messages. On PostgreSQL by COPY (several times faster than INSERT for 100,000
    rows); if a concurrent run wrote some of these members first, the unique (campaign, member) refuses
    the COPY and the rows go in by INSERT instead, theirs kept and ours skipped (a delivery task given an
    id that was never written skips it)."""
    if not messages:
        return
    if connection.vendor == "postgresql":
        names = [*messages[0], *MESSAGE_DEFAULTS]
        column_of = {field.attname: field.column for field in Message._meta.concrete_fields}
        columns = ", ".join(f'"{column_of[name]}"' for name in names)
        try:
            statement = f"COPY {Message._meta.db_table} ({columns}) FROM STDIN"
            # COPY goes to the driver directly: wrap its errors, so a duplicate is Django's IntegrityError.
            with (
                transaction.atomic(),
                connection.wrap_database_errors,
                connection.cursor() as cursor,
                cursor.cursor.copy(statement) as copy,
            ):
                for message in messages:
                    copy.write_row([*message.values(), *MESSAGE_DEFAULTS.values()])
            return
        except IntegrityError:
            pass
    Message.objects.bulk_create(
        [Message(**MESSAGE_DEFAULTS, **message) for message in messages],
        ignore_conflicts=True,
        batch_size=1000,
    )


def _queued_events_record(campaign: Campaign, after: uuid.UUID | None, upto: uuid.UUID, now: datetime) -> int:
    """One `queued` event for each message of the chunk that has none, in a single INSERT ... SELECT."""
    events, messages = MessageEvent._meta.db_table, Message._meta.db_table
    uuid_value = Message._meta.pk.get_db_prep_value  # type: ignore[union-attr]
    params: list[Any] = [
        connection.ops.adapt_datetimefield_value(now),
        uuid_value(campaign.pk, connection),
        uuid_value(upto, connection),
    ]
    lower = ""
    if after is not None:
        lower = "AND m.member_id > %s"
        params.append(uuid_value(after, connection))
    sql = (
        f"INSERT INTO {events} (brand_id, campaign_id, message_id, kind, occurred_at, data) "
        f"SELECT m.brand_id, m.campaign_id, m.id, 'queued', %s, '{{}}' FROM {messages} m "
        f"WHERE m.campaign_id = %s AND m.member_id <= %s {lower} "
        f"AND NOT EXISTS (SELECT 1 FROM {events} e WHERE e.message_id = m.id AND e.kind = 'queued')"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


def _first_send_time(campaign: Campaign, ms: MessagingSettings, now: datetime) -> datetime | None:
    if campaign.channel != CampaignChannel.SMS:
        return None
    allowed = sms_next_allowed(ms, now, campaign.brand.time_zone)
    return None if allowed == now else allowed


def _dispatch(message_ids: list[uuid.UUID], not_before: datetime | None) -> None:
    from kesher.campaigns.tasks import message_deliver_task

    if not_before is not None and settings.CELERY_TASK_ALWAYS_EAGER:
        return  # in-process, a task "for later" would run now: messages_dispatch_due hands them over
    for start in range(0, len(message_ids), DELIVER_BATCH):
        batch = [str(pk) for pk in message_ids[start : start + DELIVER_BATCH]]
        if not_before is None:
            message_deliver_task.delay(batch)
        else:
            message_deliver_task.apply_async(args=(batch,), eta=not_before)


def campaign_finish_if_done(*, campaign_id: uuid.UUID) -> bool:
    waiting = Message.objects.filter(
        campaign_id=OuterRef("pk"), status__in=[MessageStatus.QUEUED, MessageStatus.SENDING]
    )
    return (
        Campaign.objects.filter(pk=campaign_id, status=CampaignStatus.SENDING)
        .exclude(ab_state=AbState.TESTING)  # the rest of the audience still waits for the winner
        .exclude(Exists(waiting))
        .update(status=CampaignStatus.SENT, finished_at=timezone.now())
        == 1
    )


def ab_tests_decide(*, now: datetime | None = None) -> int:
    """Every A/B test whose wait is over: choose the variant with the best open (or click) rate in its
    test group (a tie goes to the earlier variant) and queue the winner for the rest of the audience.
    Run every few minutes (Celery beat; cron in the embedded mode). Returns how many were decided."""
    now = now or timezone.now()
    decided = 0
    due = Campaign.objects.filter(ab_state=AbState.TESTING, ab_test_queued_at__isnull=False)
    for campaign in due:
        started = campaign.ab_test_queued_at
        if started is None or started + timedelta(hours=campaign.ab_wait_hours) > now:
            continue
        stats = selectors.campaign_variant_stats(campaign=campaign)
        if not stats:
            continue
        key = "open_rate" if campaign.ab_metric == AbMetric.OPENED else "click_rate"
        winner = max(stats, key=lambda row: (row[key], -stats.index(row)))
        with transaction.atomic():
            # The state change is the claim: a second decider running at once changes nothing.
            claimed = Campaign.objects.filter(pk=campaign.pk, ab_state=AbState.TESTING).update(
                ab_state=AbState.DECIDED,
                ab_winner_id=winner["id"],
                ab_decided_at=now,
                status=CampaignStatus.QUEUING,
            )
            if not claimed:
                continue
            audit_record(
                brand=campaign.brand,
                actor=SYSTEM,
                action="campaign.ab_winner",
                target_type="campaign",
                target_id=campaign.pk,
                data={
                    "winner": winner["name"],
                    "metric": campaign.ab_metric,
                    "rates": {row["name"]: row[key] for row in stats},
                },
            )
            transaction.on_commit(partial(_queue_later, campaign.pk))
        decided += 1
    return decided


# --- delivery ----------------------------------------------------------------------------------------


@dataclass
class DeliveryOutcome:
    sent: int = 0
    bounced: int = 0
    failed: int = 0
    suppressed: int = 0
    deferred: int = 0
    skipped: int = 0
    later: list[tuple[list[str], datetime]] = field(default_factory=list)


def _claim(message_ids: list[uuid.UUID], token: str, now: datetime) -> set[uuid.UUID]:
    """Take the messages for this delivery attempt with one atomic update, committed before anything is
    sent: no other worker can then send them. A redelivered task (same token) takes back what it held
    when it died, which is exactly what it had not finished sending."""
    due = Q(status=MessageStatus.QUEUED) & (Q(not_before__isnull=True) | Q(not_before__lte=now))
    mine = Q(status=MessageStatus.SENDING, claim_token=token)
    Message.objects.filter(Q(pk__in=message_ids) & (due | mine)).update(
        status=MessageStatus.SENDING, claim_token=token, claimed_at=now, attempts=F("attempts") + 1
    )
    held = Message.objects.filter(pk__in=message_ids, status=MessageStatus.SENDING, claim_token=token)
    return set(held.values_list("pk", flat=True))


def _finish(message: Message, token: str, status: str, **changes: Any) -> bool:
    return (
        Message.objects.filter(pk=message.pk, status=MessageStatus.SENDING, claim_token=token).update(
            status=status, **changes
        )
        == 1
    )


def _release(message: Message, token: str, error: str, now: datetime) -> datetime | None:
    """Nothing left: give the message back to the queue for a later try (or give up after MAX_ATTEMPTS)."""
    attempts = Message.objects.filter(pk=message.pk).values_list("attempts", flat=True).first() or 0
    if attempts >= MAX_ATTEMPTS:
        _finish(message, token, MessageStatus.FAILED, error=f"gave up after {attempts} tries: {error}"[:500])
        return None
    later = now + timedelta(seconds=min(60 * 2 ** (attempts - 1), 3600))
    _finish(message, token, MessageStatus.QUEUED, claim_token="", not_before=later, error=error[:500])
    return later


def _throttle(key: str, per_second: int | None) -> None:
    """At most `per_second` sends per brand and channel across every worker sharing the cache."""
    if not per_second:
        return
    while True:
        window = int(time.time())
        bucket = f"campaigns:rate:{key}:{window}"
        cache.add(bucket, 0, timeout=5)
        try:
            used = cache.incr(bucket)
        except ValueError:
            cache.set(bucket, 1, timeout=5)
            used = 1
        if used <= per_second:
            return
        time.sleep(max(0.0, window + 1 - time.time()))


def _still_receiving(messages: list[Message]) -> set[uuid.UUID]:
    """The messages whose member may still get them now: consent can be withdrawn after queuing."""
    channel = consent_channel(messages[0].channel)
    members = {
        row["pk"]: row
        for row in Member.objects.filter(pk__in=[m.member_id for m in messages]).values(
            "pk", "status", f"consent_{channel}"
        )
    }
    suppressed: set[str] = set()
    if messages[0].channel == CampaignChannel.EMAIL:
        # A hard bounce since queuing: the address is known not to exist.
        suppressed = set(
            EmailSuppression.objects.filter(
                brand_id=messages[0].brand_id, email__in=[m.to for m in messages]
            ).values_list("email", flat=True)
        )
    allowed = set()
    for message in messages:
        member = members.get(message.member_id)
        if member is None or member["status"] not in (MemberStatus.ACTIVE, MemberStatus.PROSPECT):
            continue
        if message.to in suppressed:
            continue
        if not message.advertising or member[f"consent_{channel}"]:
            allowed.add(message.pk)
    return allowed


def messages_deliver(*, message_ids: Iterable[str | uuid.UUID], claim_token: str) -> DeliveryOutcome:
    """Send each message at most once. Must run outside a transaction: each claim commits before its send."""
    with _commits_without_flush_wait():
        return _messages_deliver(message_ids=message_ids, claim_token=claim_token)


@contextmanager
def _commits_without_flush_wait() -> Iterator[None]:
    """On PostgreSQL, don't wait for each claim's and mark's WAL flush (synchronous_commit off): a commit is
    at once visible to every worker, so a worker that dies still sends nothing twice; only a crash of the
    database server itself could lose its last fraction of a second of marks and repeat those messages.
    Waiting for the disk on every message would cap one worker at the disk's flush rate."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def _messages_deliver(*, message_ids: Iterable[str | uuid.UUID], claim_token: str) -> DeliveryOutcome:
    outcome = DeliveryOutcome()
    wanted = [uuid.UUID(str(pk)) for pk in message_ids]
    messages = list(
        Message.objects.filter(pk__in=wanted)
        .filter(Q(status=MessageStatus.QUEUED) | Q(status=MessageStatus.SENDING, claim_token=claim_token))
        .select_related("campaign", "brand")
        .order_by("brand_id", "channel")
    )
    outcome.skipped = len(wanted) - len(messages)
    groups: dict[tuple[uuid.UUID, str], list[Message]] = {}
    for message in messages:
        groups.setdefault((message.brand_id, message.channel), []).append(message)
    for (_brand_id, channel), group in groups.items():
        brand = group[0].brand
        ms = selectors.messaging_settings(brand=brand)
        now = timezone.now()
        if channel == CampaignChannel.SMS and not sms_allowed(ms, now, brand.time_zone):
            _defer(
                [m for m in group if m.status == MessageStatus.QUEUED],
                sms_next_allowed(ms, now, brand.time_zone),
                outcome,
            )
            continue
        try:
            if channel == CampaignChannel.EMAIL:
                with EmailChannel() as email_channel:
                    _deliver_group(group, claim_token, ms, outcome, partial(_email_send, email_channel, ms))
            elif channel == CampaignChannel.PORTAL:
                # A notice is "sent" when it is marked so: the portal shows it from then on.
                _deliver_group(group, claim_token, ms, outcome, lambda message: "")
            else:
                provider = sms_provider(ms.sms_provider_url or None)
                _deliver_group(group, claim_token, ms, outcome, partial(_sms_send, provider, ms))
        except NotSent as exc:  # the channel could not even be opened: nothing was claimed
            log.warning("channel unavailable", extra={"channel": channel, "error": str(exc)})
            _defer(group, now + timedelta(minutes=1), outcome)
    for campaign_id in {m.campaign_id for m in messages}:
        campaign_finish_if_done(campaign_id=campaign_id)
    return outcome


def _defer(group: list[Message], until: datetime, outcome: DeliveryOutcome) -> None:
    ids = [m.pk for m in group]
    Message.objects.filter(pk__in=ids, status=MessageStatus.QUEUED).update(not_before=until)
    outcome.deferred += len(ids)
    outcome.later.append(([str(pk) for pk in ids], until))


def _deliver_group(
    group: list[Message],
    token: str,
    ms: MessagingSettings,
    outcome: DeliveryOutcome,
    send: Callable[[Message], str | None],
) -> None:
    per_second = {CampaignChannel.EMAIL: ms.email_per_second, CampaignChannel.SMS: ms.sms_per_second}.get(
        CampaignChannel(group[0].channel)
    )
    held = _claim([m.pk for m in group], token, timezone.now())
    outcome.skipped += len(group) - len(held)
    group = [m for m in group if m.pk in held]
    allowed = _still_receiving(group) if group else set()
    for message in group:
        now = timezone.now()
        if message.pk not in allowed:
            _finish(
                message,
                token,
                MessageStatus.SUPPRESSED,
                error="consent withdrawn, member inactive or address undeliverable",
            )
            outcome.suppressed += 1
            continue
        _throttle(f"{message.brand_id}:{message.channel}", per_second)
        try:
            provider_ref = send(message) or ""
        except NotSent as exc:
            later = _release(message, token, str(exc), now)
            if later is not None:
                outcome.deferred += 1
                outcome.later.append(([str(message.pk)], later))
            else:
                outcome.failed += 1
            continue
        except Refused as exc:
            _finish(message, token, MessageStatus.BOUNCED, error=str(exc)[:500], sent_at=now)
            message_event_record(message=message, kind=EventKind.BOUNCED, data={"reason": str(exc)[:300]})
            outcome.bounced += 1
            continue
        except Exception as exc:
            # It may have left: never send it again, and say so.
            log.exception("message failed", extra={"message_id": str(message.pk)})
            _finish(message, token, MessageStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:500])
            outcome.failed += 1
            continue
        _mark_sent(message, token, provider_ref)
        outcome.sent += 1


def _mark_sent(message: Message, token: str, provider_ref: str) -> None:
    """One commit per message, right after it left: the narrowest window a crash can fall into. On
    PostgreSQL the status change and its `sent` event are one statement (one round trip)."""
    sent_at = timezone.now()
    data = {"consent_basis": message.consent_basis, "consent_event_id": message.consent_event_id}
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        messages, events = Message._meta.db_table, MessageEvent._meta.db_table
        sql = (
            f"WITH done AS (UPDATE {messages} SET status = %s, sent_at = %s, provider_ref = %s, error = '' "
            f"WHERE id = %s AND status = %s AND claim_token = %s RETURNING id, brand_id, campaign_id) "
            f"INSERT INTO {events} (brand_id, campaign_id, message_id, kind, occurred_at, data) "
            f"SELECT brand_id, campaign_id, id, %s, %s, %s::jsonb FROM done"
        )
        params: list[Any] = [
            MessageStatus.SENT,
            sent_at,
            provider_ref[:200],
            message.pk,
            MessageStatus.SENDING,
            token,
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, EventKind.SENT, sent_at, json.dumps(data)])
        return
    with transaction.atomic():
        if _finish(
            message, token, MessageStatus.SENT, sent_at=sent_at, provider_ref=provider_ref[:200], error=""
        ):
            MessageEvent.objects.create(
                brand_id=message.brand_id,
                campaign_id=message.campaign_id,
                message=message,
                kind=EventKind.SENT,
                occurred_at=sent_at,
                data=data,
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


def _email_send(channel: EmailChannel, ms: MessagingSettings, message: Message) -> str:
    channel.send(email_build(message, ms))
    return ""


def _sms_send(provider: SmsProvider, ms: MessagingSettings, message: Message) -> str:
    return provider.send(
        Sms(
            to=message.to,
            text=sms_text(message, ms),
            sender=ms.sms_sender,
            reference=str(message.pk),
            status_url=tracking.receipt_url(message.pk),
        )
    )


def messages_dispatch_due(*, now: datetime | None = None, limit: int = 10_000) -> int:
    """Hand over messages held for quiet hours or a retry whose time has come (run every minute)."""
    now = now or timezone.now()
    due = list(
        Message.objects.filter(status=MessageStatus.QUEUED, not_before__lte=now)
        .order_by("not_before")
        .values_list("pk", flat=True)[:limit]
    )
    if due:
        _dispatch(due, None)
    return len(due)


# --- what happens after sending ----------------------------------------------------------------------


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


# --- preview and test sends --------------------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    subject: str
    text: str
    html: str
    sms_parts: int
    warnings: list[dict[str, str]]


def _sample_message(campaign: Campaign, member: Member, variant: CampaignVariant | None = None) -> Message:
    ms = selectors.messaging_settings(brand=campaign.brand)
    contents = _contents(campaign, variant)
    locale, content = contents.for_locale(member.locale)
    from kesher.loyalty.selectors import points_summary

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
        _sms_send(sms_provider(ms.sms_provider_url or None), ms, message)
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


# --- forward to a friend -----------------------------------------------------------------------------

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
    from kesher.campaigns.tasks import forward_send_task

    forward_send_task.delay(forward_id)


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
    contents = _contents(campaign, message.variant or campaign.ab_winner)
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


# --- bounce and complaint notices --------------------------------------------------------------------


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


# --- portal notices ----------------------------------------------------------------------------------


def portal_notice_read(*, user_id: Any, message_id: Any) -> bool:
    """The member read a notice (shown in their portal): its `opened` event. True when new."""
    message = (
        Message.objects.filter(pk=message_id, member__user_id=user_id, channel=CampaignChannel.PORTAL)
        .exclude(status__in=[MessageStatus.QUEUED, MessageStatus.SENDING, MessageStatus.SUPPRESSED])
        .first()
    )
    if message is None:
        raise NotFound("No such notice", code="notice_not_found")
    return message_open(message=message)


def portal_notices_read_all(*, user_id: Any) -> int:
    unread = [m for m in selectors.portal_notices(user_id=user_id, limit=500) if not getattr(m, "read", True)]
    return sum(message_open(message=message) for message in unread)
