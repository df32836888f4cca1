"""A brand's review rules, changed by its staff and audited."""

from __future__ import annotations

from django.db import transaction

from kesher.brands.models import Brand
from kesher.core.audit import Actor, audit_record
from kesher.core.errors import ValidationFailed
from kesher.reviews.models import ReviewSettings

MAX_REQUEST_DAYS = 365


def review_settings_update(
    *,
    brand: Brand,
    actor: Actor,
    require_purchase: bool | None = None,
    request_after_days: int | None = None,
    rights_wording: str | None = None,
) -> ReviewSettings:
    if request_after_days is not None and not 0 <= request_after_days <= MAX_REQUEST_DAYS:
        raise ValidationFailed(f"request_after_days is 0 to {MAX_REQUEST_DAYS}", field="request_after_days")
    with transaction.atomic():
        row, _created = ReviewSettings.objects.select_for_update().get_or_create(brand=brand)
        before = {"require_purchase": row.require_purchase, "request_after_days": row.request_after_days}
        if require_purchase is not None:
            row.require_purchase = require_purchase
        if request_after_days is not None:
            row.request_after_days = request_after_days
        if rights_wording is not None:
            row.rights_wording = rights_wording.strip()
        row.save()
        audit_record(
            brand=brand,
            actor=actor,
            action="reviews.settings",
            target_type="review_settings",
            target_id=brand.pk,
            data={
                "before": before,
                "after": {
                    "require_purchase": row.require_purchase,
                    "request_after_days": row.request_after_days,
                },
            },
        )
    return row
