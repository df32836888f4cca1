"""Background work on activities: tasks per (activity, consumer), safe to run twice."""

from __future__ import annotations

import logging
import threading
import time

from celery import shared_task
from django.db import IntegrityError, transaction

from kesher.activity.models import Activity, ConsumerRun, OutboxEntry
from kesher.activity.registry import registry

log = logging.getLogger(__name__)

RELAY_DELAY = 1.0  # seconds: a relay asked for now runs this much later and takes all written meanwhile
RELAY_BATCH = 2000  # outbox entries claimed per transaction
DISPATCH_CHUNK = 500  # activities per deferred-consumer task


def _dispatch_one(activity_id: str, consumer_name: str) -> str:
    """Run one deferred consumer on one activity, unless it already ran (the ConsumerRun row says so)."""
    handle = registry.deferred_by_name.get(consumer_name)
    if handle is None:
        log.error("unknown consumer", extra={"consumer": consumer_name, "activity_id": activity_id})
        return "unknown-consumer"
    with transaction.atomic():
        activity = Activity.objects.select_related("member", "brand").filter(pk=activity_id).first()
        if activity is None:
            return "missing"
        try:
            with transaction.atomic():
                ConsumerRun.objects.create(activity=activity, consumer=consumer_name)
        except IntegrityError:
            return "already-done"
        handle(activity)
    return "done"


@shared_task(bind=True, max_retries=8, acks_late=True)
def activity_dispatch(self, activity_id: str, consumer_names: str | list[str]) -> str:  # type: ignore[no-untyped-def]
    """Run an activity's deferred consumers (one message for all of them); a retry skips those done.

    Activities are now relayed in batches through the outbox (activity_dispatch_many); this task stays
    for messages queued before that, and for running one activity's consumers by hand."""
    names = [consumer_names] if isinstance(consumer_names, str) else consumer_names
    outcomes = []
    for name in names:
        try:
            outcomes.append(_dispatch_one(activity_id, name))
        except Exception as exc:
            log.exception("consumer failed", extra={"consumer": name, "activity_id": activity_id})
            raise self.retry(exc=exc, countdown=min(2**self.request.retries, 300)) from exc
    return outcomes[0] if len(outcomes) == 1 else ",".join(outcomes)


@shared_task(bind=True, max_retries=8, acks_late=True)
def activity_dispatch_many(self, activity_ids: list[str], consumer_name: str) -> int:  # type: ignore[no-untyped-def]
    """One task for a bulk call's activities; a retry skips those already handled."""
    done = 0
    try:
        for activity_id in activity_ids:
            done += _dispatch_one(activity_id, consumer_name) == "done"
    except Exception as exc:
        log.exception("consumer failed", extra={"consumer": consumer_name, "activities": len(activity_ids)})
        raise self.retry(exc=exc, countdown=min(2**self.request.retries, 300)) from exc
    return done


def consumers_publish(owed: list[tuple[str, list[str]]]) -> None:
    """Send activities' deferred consumers as tasks: one per consumer and DISPATCH_CHUNK activities."""
    by_consumer: dict[str, list[str]] = {}
    for activity_id, names in owed:
        for name in names:
            by_consumer.setdefault(name, []).append(activity_id)
    for name, ids in by_consumer.items():
        for start in range(0, len(ids), DISPATCH_CHUNK):
            activity_dispatch_many.delay(ids[start : start + DISPATCH_CHUNK], name)


# --- the outbox relay ------------------------------------------------------------------------------

_kick_lock = threading.Lock()
_next_kick = 0.0


def outbox_kick() -> None:
    """After an activity's commit: ask for a relay, unless this process asked within RELAY_DELAY.

    The relay is published with a countdown of RELAY_DELAY, so it runs after every entry this process
    committed until it may ask again; the beat schedule runs one every 30 seconds besides, for entries
    whose relay was lost with a worker.
    """
    global _next_kick
    now = time.monotonic()
    with _kick_lock:
        if now < _next_kick:
            return
        _next_kick = now + RELAY_DELAY
    outbox_relay.apply_async(countdown=RELAY_DELAY)


def _claim(limit: int) -> list[tuple[str, list[str]]]:
    """Take up to `limit` outbox entries (oldest first), skipping any another relay is taking."""
    rows = list(
        OutboxEntry.objects.select_for_update(skip_locked=True)
        .order_by("id")
        .values_list("id", "activity_id", "consumers")[:limit]
    )
    if rows:
        OutboxEntry.objects.filter(id__in=[row[0] for row in rows]).delete()
    return [(str(activity_id), consumers) for _, activity_id, consumers in rows]


@shared_task(acks_late=True)
def outbox_relay(limit: int = RELAY_BATCH) -> int:
    """Publish the outbox as deferred-consumer tasks, DISPATCH_CHUNK activities each, until it is empty.

    Entries are deleted in the transaction that publishes them: if the commit fails after publishing,
    the next relay publishes them again, and the consumers' ConsumerRun guard makes that harmless.
    """
    relayed = 0
    while True:
        with transaction.atomic():
            claimed = _claim(limit)
            consumers_publish(claimed)
        relayed += len(claimed)
        if len(claimed) < limit:
            return relayed
