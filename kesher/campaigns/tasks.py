"""Background work for campaigns. Each task takes ids and is safe to run twice: queuing skips members who
have their message, delivery claims each message before sending it."""

from __future__ import annotations

import uuid
from datetime import datetime

from celery import shared_task
from django.utils import timezone

from kesher.campaigns import journeys, services


@shared_task(bind=True, acks_late=True, max_retries=5)
def campaign_queue_task(self, campaign_id: str) -> int:  # type: ignore[no-untyped-def]
    return services.campaign_queue(campaign_id=campaign_id)


@shared_task(bind=True, acks_late=True)
def message_deliver_task(self, message_ids: list[str]) -> dict[str, int]:  # type: ignore[no-untyped-def]
    # The task id is the claim token: a task the broker hands out again after its worker died is the same
    # task, and takes back the messages it held. If the broker is slower than the claim's lease, the
    # minute's messages_dispatch_due has queued them again already. Messages deferred by this run (quiet
    # hours, a retry) wait in the database for messages_dispatch_due.
    token = self.request.id or uuid.uuid4().hex
    outcome = services.messages_deliver(message_ids=message_ids, claim_token=token)
    return {
        "sent": outcome.sent,
        "bounced": outcome.bounced,
        "failed": outcome.failed,
        "suppressed": outcome.suppressed,
        "deferred": outcome.deferred,
        "skipped": outcome.skipped,
    }


@shared_task
def messages_dispatch_due_task() -> int:
    """Every minute (Celery beat): queue again what a lost worker held, and hand over messages held for
    quiet hours or a retry."""
    return services.messages_dispatch_due()


@shared_task
def journeys_advance_task(now: str | None = None) -> int:
    """Every minute (Celery beat): start date-triggered runs (once an hour) and advance the due runs.
    `now` (ISO 8601) moves the clock, for tests and replays."""
    return journeys.journeys_tick(now=datetime.fromisoformat(now) if now else timezone.now())


@shared_task
def ab_tests_decide_task() -> int:
    """Every few minutes (Celery beat): choose the winners of A/B tests whose wait is over and send them
    to the rest of their audience."""
    return services.ab_tests_decide()


@shared_task(bind=True, acks_late=True)
def forward_send_task(self, forward_id: int) -> bool:  # type: ignore[no-untyped-def]
    return services.forward_send(forward_id=forward_id)
