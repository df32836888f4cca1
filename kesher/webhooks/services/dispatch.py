"""Sending due deliveries: claim a batch (FOR UPDATE SKIP LOCKED), post them side by side (up to
`KESHER_WEBHOOKS_SEND_CONCURRENCY` at once), record what came back.

A claim moves the delivery's `next_attempt_at` on by the lease and counts the attempt in the claiming
transaction, so no other worker sees it as due while it is being sent; a worker that dies hands it back
when the lease runs out. The outcome is written only where the claim is still this worker's. Retries
follow the Standard Webhooks schedule with jitter (at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h,
20 h, 24 h: about three days); a later `Retry-After` is honoured; 410 Gone disables the endpoint.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from kesher.webhooks.models import Attempt, Delivery, DeliveryStatus, Endpoint
from kesher.webhooks.sending import Answer, post, signed_headers
from kesher.webhooks.services.endpoints import endpoint_secrets
from kesher.webhooks.services.fanout import routes_changed
from kesher.webhooks.services.health import owners_tell

log = logging.getLogger(__name__)

# Seconds to wait before each attempt of a round (the first at once).
SCHEDULE = (0, 5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 14 * 3600, 20 * 3600, 24 * 3600)
JITTER = 0.1  # each wait is stretched or shrunk by up to a tenth, so retries of many messages spread out
MAX_RETRY_AFTER = 24 * 3600
BATCH = 200
# The owners are told when this many deliveries in a row failed every attempt, or attempts have been
# failing for FAILING_NOTICE_AFTER.
FAILED_DELIVERIES_NOTICE = 5
FAILING_NOTICE_AFTER = timedelta(hours=24)


def send_concurrency() -> int:
    """How many posts one dispatcher has in flight at once (`KESHER_WEBHOOKS_SEND_CONCURRENCY`)."""
    return max(1, int(getattr(settings, "KESHER_WEBHOOKS_SEND_CONCURRENCY", 16)))


def claim_lease() -> timedelta:
    """How long a claim holds: longer than a whole batch sent at the timeout."""
    return timedelta(seconds=int(getattr(settings, "KESHER_WEBHOOKS_CLAIM_LEASE_SECONDS", 900)))


def retry_delay(
    number_in_round: int, retry_after: float | None = None, *, rng: random.Random | None = None
) -> float | None:
    """Seconds before the next attempt once attempt `number_in_round` (1-based) failed; None when the round
    is spent."""
    if number_in_round >= len(SCHEDULE):
        return None
    wait = SCHEDULE[number_in_round] * (1 + (rng or random).uniform(-JITTER, JITTER))
    if retry_after is not None:
        wait = max(wait, min(retry_after, MAX_RETRY_AFTER))
    return wait


def deliveries_claim(*, token: str, now: datetime, limit: int = BATCH) -> list[Delivery]:
    """Claim up to `limit` due deliveries of active endpoints; rows another worker is claiming are skipped."""
    with transaction.atomic():
        ids = list(
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now, endpoint__active=True)
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return []
        Delivery.objects.filter(pk__in=ids).update(
            claim_token=token, next_attempt_at=now + claim_lease(), attempts=F("attempts") + 1
        )
    return list(Delivery.objects.filter(pk__in=ids, claim_token=token).select_related("endpoint"))


def delivery_send(delivery: Delivery, secrets: list[str]) -> Answer:
    body = delivery.body.encode()
    return post(delivery.endpoint.url, body, signed_headers(secrets, delivery.msg_id, int(time.time()), body))


@dataclass
class _Health:
    succeeded_last: bool = False
    any_success: bool = False
    failed_since_success: bool = False
    exhausted_since_success: int = 0
    gone: bool = False
    brand_id: uuid.UUID | None = None


def _record(token: str, sent: list[tuple[Delivery, Answer, datetime]]) -> None:
    """Write a batch's outcomes (only where the claim is still this worker's) and the endpoints' health."""
    attempts: list[Attempt] = []
    health: dict[uuid.UUID, _Health] = defaultdict(_Health)
    for delivery, answer, at in sent:
        code = answer.status_code
        attempts.append(
            Attempt(
                delivery_id=delivery.pk,
                number=delivery.attempts,
                at=at,
                status_code=code,
                duration_ms=answer.duration_ms,
                error=answer.error[:300],
                response_excerpt=answer.excerpt[:500],
            )
        )
        state = health[delivery.endpoint_id]
        state.brand_id = delivery.brand_id
        delivery.last_status_code, delivery.last_error, delivery.claim_token = code, answer.error[:300], ""
        if code is not None and 200 <= code < 300:
            delivery.status, delivery.finished_at, delivery.next_attempt_at = (
                DeliveryStatus.SUCCEEDED,
                at,
                None,
            )
            state.any_success, state.succeeded_last = True, True
            state.failed_since_success, state.exhausted_since_success = False, 0
            continue
        state.succeeded_last, state.failed_since_success = False, True
        if code == 410:
            state.gone = True
            wait = None
        else:
            wait = retry_delay(delivery.attempts - delivery.round_start, answer.retry_after)
        if wait is None:
            delivery.status, delivery.finished_at, delivery.next_attempt_at = DeliveryStatus.FAILED, at, None
            state.exhausted_since_success += 1
        else:
            delivery.next_attempt_at = at + timedelta(seconds=wait)
    now = timezone.now()
    # Successes are written one UPDATE per status code (Django's bulk_update builds a CASE per row and
    # field, which cost more than the posts); the rest, each with its own next attempt, row by row in one.
    succeeded: dict[int | None, tuple[list[uuid.UUID], datetime]] = {}
    others: list[Delivery] = []
    for delivery, _, at in sent:
        if delivery.status == DeliveryStatus.SUCCEEDED:
            ids, last = succeeded.get(delivery.last_status_code, ([], at))
            ids.append(delivery.pk)
            succeeded[delivery.last_status_code] = (ids, max(last, at))
        else:
            others.append(delivery)
    with transaction.atomic():
        for code, (ids, at) in succeeded.items():
            Delivery.objects.filter(claim_token=token, pk__in=ids).update(
                status=DeliveryStatus.SUCCEEDED,
                finished_at=at,
                next_attempt_at=None,
                last_status_code=code,
                last_error="",
                claim_token="",
            )
        if others:
            Delivery.objects.filter(claim_token=token).bulk_update(
                others,
                ["status", "finished_at", "next_attempt_at", "last_status_code", "last_error", "claim_token"],
            )
        Attempt.objects.bulk_create(attempts, ignore_conflicts=True)
        for endpoint_id, state in health.items():
            _health_write(endpoint_id, state, now)
    for endpoint_id, state in health.items():
        if state.failed_since_success or state.gone:
            _maybe_tell(endpoint_id, now, gone=state.gone)


def _health_write(endpoint_id: uuid.UUID, state: _Health, now: datetime) -> None:
    rows = Endpoint.objects.filter(pk=endpoint_id)
    if state.any_success:
        if state.failed_since_success:
            rows.update(
                consecutive_failures=state.exhausted_since_success, failing_since=now, owners_told_at=None
            )
        else:
            rows.exclude(consecutive_failures=0, failing_since=None, owners_told_at=None).update(
                consecutive_failures=0, failing_since=None, owners_told_at=None
            )
    else:
        rows.update(
            consecutive_failures=F("consecutive_failures") + state.exhausted_since_success,
            failing_since=Coalesce("failing_since", now),
        )
    if state.gone:
        rows.update(active=False, disabled_reason="the endpoint answered 410 Gone")
        routes_changed(state.brand_id)


def _maybe_tell(endpoint_id: uuid.UUID, now: datetime, *, gone: bool) -> None:
    """Tell the brand's owners, once per failing spell, that the endpoint keeps failing (or is gone)."""
    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update().filter(pk=endpoint_id, owners_told_at=None).first()
        if endpoint is None:
            return
        failing_long = (
            endpoint.failing_since is not None and endpoint.failing_since <= now - FAILING_NOTICE_AFTER
        )
        if not (gone or failing_long or endpoint.consecutive_failures >= FAILED_DELIVERIES_NOTICE):
            return
        endpoint.owners_told_at = now
        endpoint.save(update_fields=["owners_told_at"])
    owners_tell(endpoint=endpoint, gone=gone)


def _send(delivery: Delivery, secrets: list[str]) -> tuple[Delivery, Answer, datetime]:
    at = timezone.now()
    return delivery, delivery_send(delivery, secrets), at


def webhooks_dispatch(*, time_budget: float = 50.0, limit: int = BATCH) -> int:
    """Send every due delivery, batch by batch, for up to `time_budget` seconds; returns how many went."""
    token = uuid.uuid4().hex
    started = time.monotonic()
    sent_count = 0
    while time.monotonic() - started < time_budget:
        claimed = deliveries_claim(token=token, now=timezone.now(), limit=limit)
        if not claimed:
            break
        secrets: dict[uuid.UUID, list[str]] = {}
        for delivery in claimed:
            if delivery.endpoint_id not in secrets:
                secrets[delivery.endpoint_id] = endpoint_secrets(delivery.endpoint, timezone.now())

        # The posts of a batch go out side by side (HTTP only: no database work in the threads).
        with ThreadPoolExecutor(max_workers=min(send_concurrency(), len(claimed))) as pool:
            sent = list(pool.map(_send, claimed, [secrets[d.endpoint_id] for d in claimed]))
        _record(token, sent)
        sent_count += len(sent)
    return sent_count
