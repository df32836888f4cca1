"""Delivering queued messages: claiming each before its send, sending through the channel, and marking what
happened. The promise is at least once, with one Message-ID per message (docs/campaigns.md, "Delivery
promise"): a claim is a lease the sending worker renews, and a claim whose worker died runs out within
KESHER_CAMPAIGNS_CLAIM_LEASE_SECONDS and goes back to the queue."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from kesher.campaigns import selectors
from kesher.campaigns.channels import EmailChannel, NotSent, Refused, sms_provider
from kesher.campaigns.models import (
    CampaignChannel,
    CampaignStatus,
    EmailSuppression,
    EventKind,
    Message,
    MessageEvent,
    MessageStatus,
    MessagingSettings,
    consent_channel,
)
from kesher.campaigns.quiet_hours import sms_allowed, sms_next_allowed
from kesher.campaigns.services.composing import email_send, sms_send
from kesher.campaigns.services.events import message_event_record
from kesher.campaigns.services.scheduling import campaigns_start_due
from kesher.campaigns.services.sending import campaign_finish_if_done, messages_dispatch
from kesher.members.models import Member, MemberStatus

log = logging.getLogger(__name__)


MAX_ATTEMPTS = 8


@dataclass
class DeliveryOutcome:
    sent: int = 0
    bounced: int = 0
    failed: int = 0
    suppressed: int = 0
    deferred: int = 0
    skipped: int = 0


def claim_lease() -> timedelta:
    """How long a delivery claim holds without its worker renewing it."""
    return timedelta(seconds=settings.KESHER_CAMPAIGNS_CLAIM_LEASE_SECONDS)


def _expired(now: datetime) -> Q:
    return Q(status=MessageStatus.SENDING, claimed_at__lt=now - claim_lease())


def _claim(message_ids: list[uuid.UUID], token: str, now: datetime) -> set[uuid.UUID]:
    """Take the messages for this delivery attempt with one atomic update, committed before anything is
    sent: no other worker can then send them while the claim's lease runs. A redelivered task (same
    token) takes back what it held when it died, and any task takes a claim whose lease ran out."""
    due = (
        Q(status=MessageStatus.QUEUED)
        & (Q(not_before__isnull=True) | Q(not_before__lte=now))
        & ~Q(campaign__status=CampaignStatus.PAUSED)  # a paused campaign's messages wait
    )
    mine = Q(status=MessageStatus.SENDING, claim_token=token)
    Message.objects.filter(Q(pk__in=message_ids) & (due | mine | _expired(now))).update(
        status=MessageStatus.SENDING, claim_token=token, claimed_at=now, attempts=F("attempts") + 1
    )
    held = Message.objects.filter(pk__in=message_ids, status=MessageStatus.SENDING, claim_token=token)
    return set(held.values_list("pk", flat=True))


def _lease_renew(message_ids: list[uuid.UUID], token: str, now: datetime) -> set[uuid.UUID]:
    """The worker is alive: stretch its claim on the messages it has not sent yet; the ones it still holds
    (a claim that ran out and went to another worker is not sent here)."""
    mine = Message.objects.filter(pk__in=message_ids, status=MessageStatus.SENDING, claim_token=token)
    mine.update(claimed_at=now)
    return set(mine.values_list("pk", flat=True))


def message_claims_recover(*, now: datetime | None = None) -> int:
    """Messages whose claim ran out (the worker sending them died or hung) go back to the queue, due at
    once; a message that has used its MAX_ATTEMPTS fails instead. The one that was in the SMTP
    conversation when its worker died may have arrived: it is sent again with the same Message-ID.
    Returns how many went back to the queue."""
    now = now or timezone.now()
    expired = Message.objects.filter(_expired(now))
    campaigns = set(expired.filter(attempts__gte=MAX_ATTEMPTS).values_list("campaign_id", flat=True))
    if campaigns:
        expired.filter(attempts__gte=MAX_ATTEMPTS).update(
            status=MessageStatus.FAILED, error=f"gave up: its worker was lost {MAX_ATTEMPTS} times"
        )
    requeued = expired.update(
        status=MessageStatus.QUEUED,
        claim_token="",
        not_before=now,
        error="its worker was lost mid-send: queued again",
    )
    if requeued:
        log.warning("expired delivery claims queued again", extra={"messages": requeued})
    for campaign_id in campaigns:
        campaign_finish_if_done(campaign_id=campaign_id)
    return requeued


def messages_dispatch_due(*, now: datetime | None = None, limit: int = 10_000) -> int:
    """Run every minute (Celery beat; cron in the embedded mode): queue again the messages of a worker that
    was lost (message_claims_recover), then hand over the messages held for quiet hours or a retry whose
    time has come. Messages for later are never handed to the broker with an ETA: Redis gives an
    unacknowledged task to another worker after its visibility timeout, and two copies of one delivery
    task could then both send."""
    now = now or timezone.now()
    message_claims_recover(now=now)
    campaigns_start_due(now=now)
    due = list(
        Message.objects.filter(status=MessageStatus.QUEUED, not_before__lte=now)
        .exclude(campaign__status=CampaignStatus.PAUSED)
        .order_by("not_before")
        .values_list("pk", flat=True)[:limit]
    )
    if due:
        messages_dispatch(message_ids=due, not_before=None)
    return len(due)


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
    """Send each message this call holds once, marking it right after it left (a message another worker
    holds is skipped). Must run outside a transaction: each claim commits before its send."""
    with _commits_without_flush_wait():
        return _messages_deliver(message_ids=message_ids, claim_token=claim_token)


@contextmanager
def _commits_without_flush_wait() -> Iterator[None]:
    """On PostgreSQL, don't wait for each claim's and mark's WAL flush (synchronous_commit off): a commit is
    at once visible to every worker, so a worker that dies repeats at most the message it was sending; only
    a crash of the database server itself could lose its last fraction of a second of marks and repeat
    those messages (with their same Message-ID).
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
        .filter(
            Q(status=MessageStatus.QUEUED)
            | Q(status=MessageStatus.SENDING, claim_token=claim_token)
            | _expired(timezone.now())
        )
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
                    _deliver_group(group, claim_token, ms, outcome, partial(email_send, email_channel, ms))
            elif channel == CampaignChannel.PORTAL:
                # A notice is "sent" when it is marked so: the portal shows it from then on.
                _deliver_group(group, claim_token, ms, outcome, lambda message: "")
            else:
                provider = sms_provider(ms.sms_provider_url or None)
                _deliver_group(group, claim_token, ms, outcome, partial(sms_send, provider, ms))
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
    renew_every = claim_lease().total_seconds() / 4
    renewed = time.monotonic()
    for position, message in enumerate(group):
        if time.monotonic() - renewed >= renew_every:
            held = _lease_renew([m.pk for m in group[position:]], token, timezone.now())
            renewed = time.monotonic()
        if message.pk not in held:  # the claim ran out while this worker was stalled: another sends it
            outcome.skipped += 1
            continue
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
