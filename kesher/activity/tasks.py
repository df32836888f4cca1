"""Background work on activities: one task per (activity, consumer), safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import IntegrityError, transaction

from kesher.activity.models import Activity, ConsumerRun
from kesher.activity.registry import registry

log = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=8, acks_late=True)
def activity_dispatch(self, activity_id: str, consumer_name: str) -> str:  # type: ignore[no-untyped-def]
    handle = registry.deferred_by_name.get(consumer_name)
    if handle is None:
        log.error("unknown consumer", extra={"consumer": consumer_name, "activity_id": activity_id})
        return "unknown-consumer"
    try:
        with transaction.atomic():
            activity = Activity.objects.select_related("member", "brand").get(pk=activity_id)
            try:
                with transaction.atomic():
                    ConsumerRun.objects.create(activity=activity, consumer=consumer_name)
            except IntegrityError:
                return "already-done"
            handle(activity)
    except Activity.DoesNotExist:
        return "missing"
    except Exception as exc:
        log.exception("consumer failed", extra={"consumer": consumer_name, "activity_id": activity_id})
        raise self.retry(exc=exc, countdown=min(2**self.request.retries, 300)) from exc
    return "done"
