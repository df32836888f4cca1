"""Background work of the reviews part: the daily review requests."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from kesher.brands.models import Brand
from kesher.reviews.services import review_requests_send


@shared_task(name="kesher.reviews.tasks.review_requests_daily")
def review_requests_daily() -> dict[str, Any]:
    """Every brand's due review requests, sent once each (safe to run twice: a sent request is not due)."""
    done: dict[str, Any] = {}
    for brand in Brand.objects.all():
        run = review_requests_send(brand=brand)
        done[brand.slug] = {"sent": run.sent, "skipped": run.skipped, "failed": run.failed}
    return done
