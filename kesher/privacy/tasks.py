"""Background work for privacy: the nightly retention of prospects who never joined. Safe to run twice."""

from __future__ import annotations

from celery import shared_task

from kesher.privacy.services import retention_run_all


@shared_task
def retention_run_all_task() -> int:
    """Run nightly: erase every brand's prospects kept longer than its retention period."""
    return sum(result.erased for result in retention_run_all())
