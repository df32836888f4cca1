"""Background work for the community: safe to run twice."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from kesher.brands.models import Brand
from kesher.community.digests import digests_send_due
from kesher.community.services import badges_helpful_month


@shared_task
def badges_helpful_month_all() -> int:
    """Run early each month: award last month's "helpful member of the month" in every brand (once)."""
    last_month = timezone.localtime().replace(day=1) - timedelta(days=1)
    awarded = 0
    for brand in Brand.objects.all().iterator():
        awarded += badges_helpful_month(brand=brand, month=last_month) is not None
    return awarded


@shared_task(name="community.digest_send")
def digest_send() -> int:
    """Run hourly: send the digests that are due (each member's daily or weekly one, exactly once)."""
    return digests_send_due().sent
