"""Sending a campaign: the send request, queuing one rendered message per member it may reach, and handing
the messages to delivery."""

from __future__ import annotations

import uuid
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from kesher.campaigns import rendering, selectors, tracking
from kesher.campaigns.models import (
    AbState,
    Campaign,
    CampaignChannel,
    CampaignStatus,
    CampaignVariant,
    ConsentBasis,
    Message,
    MessageEvent,
    MessageStatus,
    MessagingSettings,
)
from kesher.campaigns.quiet_hours import sms_next_allowed
from kesher.campaigns.services.contents import contents_compile
from kesher.campaigns.services.coupons import message_coupon_issue
from kesher.core.audit import SYSTEM, Actor, audit_record
from kesher.core.tasks import enqueue

QUEUE_CHUNK = 1000  # members rendered and written per transaction


DELIVER_BATCH = 100  # messages per delivery task (one SMTP connection)


@dataclass(frozen=True)
class SendOutcome:
    campaign: Campaign
    started: bool  # False: it was sent before, and this call sent nothing new
    audience: selectors.AudienceBreakdown


def campaign_send(*, campaign: Campaign, actor: Actor = SYSTEM, scheduled: bool = False) -> SendOutcome:
    """Start sending now, a draft or a scheduled campaign (`scheduled`: only a scheduled one, as its time
    came). Idempotent: only the first call moves it on; a later one changes nothing."""
    starts = [CampaignStatus.SCHEDULED] if scheduled else [CampaignStatus.DRAFT, CampaignStatus.SCHEDULED]
    with transaction.atomic():
        started = (
            Campaign.objects.filter(pk=campaign.pk, status__in=starts).update(
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
                data={"name": campaign.name, "scheduled": scheduled},
            )
            transaction.on_commit(lambda: queuing_start(campaign_id=campaign.pk))
        audience = selectors.campaign_audience_breakdown(campaign=campaign)
    campaign.refresh_from_db()
    return SendOutcome(campaign=campaign, started=started, audience=audience)


def queuing_start(*, campaign_id: uuid.UUID) -> None:
    """Queue the campaign's messages in the background (campaign_queue, through its task)."""
    enqueue("kesher.campaigns.tasks.campaign_queue_task", str(campaign_id))


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
        contents_list = [contents_compile(campaign, variant) for variant in variants]
    else:
        contents_list = [contents_compile(campaign, campaign.ab_winner)]
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
        not_before = send_time_choose(campaign=campaign, ms=ms, now=now)
        # A coupon is issued in the same transaction as the message that carries it.
        with transaction.atomic() if campaign.coupon_reward_id else nullcontext():
            messages: list[dict[str, Any]] = []
            refused: dict[str, list[uuid.UUID]] = {}
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
                try:
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
                except rendering.RenderRefused as exc:
                    # Past the render's bounds for this member: the message is failed with the reason.
                    refused.setdefault(exc.message[:500], []).append(message_id)
                    rendered = rendering.Rendered(subject="", body="")
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
                for reason, ids in refused.items():
                    Message.objects.filter(pk__in=ids, status=MessageStatus.QUEUED).update(
                        status=MessageStatus.FAILED, error=reason
                    )
                queued += _queued_events_record(campaign, after, last_pk, now)
                Campaign.objects.filter(pk=campaign.pk).update(exclusions=exclusions)
        failed = {pk for ids in refused.values() for pk in ids}
        messages_dispatch(
            message_ids=[m["id"] for m in messages if m["id"] not in failed], not_before=not_before
        )
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
        messages_dispatch(message_ids=list(waiting.values_list("pk", flat=True)), not_before=None)
    campaign_finish_if_done(campaign_id=campaign.pk)
    return queued


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


def send_time_choose(*, campaign: Campaign, ms: MessagingSettings, now: datetime) -> datetime | None:
    """When a message of the campaign queued now may first leave: None for at once, else the end of the
    brand's SMS quiet hours."""
    if campaign.channel != CampaignChannel.SMS:
        return None
    allowed = sms_next_allowed(ms, now, campaign.brand.time_zone)
    return None if allowed == now else allowed


def messages_dispatch(*, message_ids: list[uuid.UUID], not_before: datetime | None) -> None:
    """Hand queued messages to delivery, DELIVER_BATCH to a task. Messages held until `not_before` wait in
    the database: messages_dispatch_due hands them over when their time comes (never an ETA in the
    broker, which Redis would hand out twice once it outlived the visibility timeout)."""
    if not_before is not None:
        return
    for start in range(0, len(message_ids), DELIVER_BATCH):
        batch = [str(pk) for pk in message_ids[start : start + DELIVER_BATCH]]
        enqueue("kesher.campaigns.tasks.message_deliver_task", batch)


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
