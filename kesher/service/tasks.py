"""The service part's background work: sending replies and the satisfaction question. Safe to retry."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="kesher.service.tasks.message_deliver")
def message_deliver(*, message_id: int) -> str:
    from kesher.service.services.delivery import message_deliver as deliver

    return deliver(message_id=message_id)


@shared_task(name="kesher.service.tasks.csat_ask")
def csat_ask(*, case_id: str) -> str:
    from kesher.service.services.csat import csat_ask as ask

    return ask(case_id=case_id)
