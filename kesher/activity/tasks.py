"""Background work on activities: tasks per (activity, consumer), safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import IntegrityError, transaction

from kesher.activity.models import Activity, ConsumerRun
from kesher.activity.registry import registry

log = logging.getLogger(__name__)


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
    """Run an activity's deferred consumers (one message for all of them); a retry skips those done."""
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
