"""Scheduled and background loyalty work. Every task is safe to run twice."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from kesher.brands.models import Brand
from kesher.loyalty import services


@shared_task(acks_late=True)
def referral_pay(referral_id: str) -> bool:
    return services.referral_pay(referral_id=referral_id)


@shared_task
def loyalty_tick() -> dict[str, Any]:
    """Everything time-driven in the ledger: release pending points, expire lots and coupons, warn."""
    return {
        "released": services.lots_release_due(),
        "expired": services.lots_expire_due(),
        "coupons_expired": services.coupons_expire_due(),
        "expiry_warnings": services.points_expiry_warn(),
        "birthdays": services.birthdays_emit(),
    }


@shared_task
def tiers_review_all() -> int:
    return sum(services.tiers_review(brand=brand) for brand in Brand.objects.all())
