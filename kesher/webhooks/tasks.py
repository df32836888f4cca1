"""Background work of the webhooks part: the dispatcher (asked for after each fan-out, and by beat)."""

from __future__ import annotations

from celery import shared_task

from kesher.webhooks.services import webhooks_dispatch


@shared_task(name="kesher.webhooks.tasks.webhooks_dispatch", ignore_result=True)
def webhooks_dispatch_task() -> int:
    """Send what is due; safe to run twice at once (claims skip what another run holds)."""
    return webhooks_dispatch()
