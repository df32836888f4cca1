"""The nightly recomputation of every brand's insights (Celery beat, or `kesher tick --insights`)."""

from __future__ import annotations

from celery import shared_task

from kesher.insights import services


@shared_task
def insights_refresh_all_task() -> int:
    return services.insights_refresh_all()
