"""A brand's loyalty program: the defaults a new brand starts with, and its settings."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_noop

from kesher.brands.models import Brand
from kesher.core.audit import Actor, audit_record
from kesher.core.errors import ValidationFailed
from kesher.core.limits import check_bounds
from kesher.core.rows import row_get
from kesher.loyalty.models import EarningRule, LoyaltyProgram, PointsAccount
from kesher.loyalty.services._rule_cache import rules_changed

# The default program a new brand starts with. All of it is editable.
DEFAULT_PROGRAM: list[dict[str, Any]] = [
    {
        "name": gettext_noop("1 point for every 1 ILS spent"),
        "activity_type": "purchase",
        "effect": EarningRule.Effect.PER_UNIT,
        "points": 1,
        "per_amount": Decimal("1"),
    },
    {
        "name": gettext_noop("Asking a question"),
        "activity_type": "question_asked",
        "effect": "fixed",
        "points": 1,
    },
    {
        "name": gettext_noop("Answering a question"),
        "activity_type": "answer_posted",
        "effect": "fixed",
        "points": 1,
    },
    {
        "name": gettext_noop("An answer marked correct"),
        "activity_type": "answer_accepted",
        "effect": "fixed",
        "points": 10,
    },
    {
        "name": gettext_noop("Sharing on social networks"),
        "activity_type": "social_share",
        "effect": "fixed",
        "points": 5,
        "daily_limit": 3,
    },
    {
        "name": gettext_noop("Writing a review"),
        "activity_type": "review_posted",
        "effect": "fixed",
        "points": 20,
    },
    {
        "name": gettext_noop("Referring a friend"),
        "activity_type": "referral",
        "effect": "fixed",
        "points": 100,
    },
    {"name": gettext_noop("Birthday gift"), "activity_type": "birthday", "effect": "fixed", "points": 50},
]


def program_install_defaults(*, brand: Brand) -> LoyaltyProgram:
    program, _ = LoyaltyProgram.objects.get_or_create(brand=brand)
    if not EarningRule.objects.filter(brand=brand).exists():
        for spec in DEFAULT_PROGRAM:
            EarningRule.objects.create(brand=brand, **spec)
        rules_changed(brand_id=brand.pk)
        program.refresh_from_db(fields=["rules_stamp"])
    return program


def program_of(brand_id: Any) -> LoyaltyProgram:
    program = row_get(LoyaltyProgram, brand_id=brand_id)  # read on every activity: SQL built once
    if program is None:
        program, _ = LoyaltyProgram.objects.get_or_create(brand_id=brand_id)
    return program


PROGRAM_FIELDS = {
    "pending_days",
    "expiry",
    "expiry_value",
    "expiry_warning_days",
    "allow_transfers",
    "allow_debt",
    "coupon_expiry_refund",
    "point_value",
    "tier_basis",
    "tier_period",
    "tier_grace_days",
    "referral_review_threshold",
    "hebrew_dates",
}


@transaction.atomic
def program_update(*, brand: Brand, changes: dict[str, Any], actor: Actor) -> LoyaltyProgram:
    unknown = set(changes) - PROGRAM_FIELDS
    if unknown:
        raise ValidationFailed(f"Unknown program setting {sorted(unknown)[0]!r}", field=sorted(unknown)[0])
    check_bounds(changes)
    if "expiry" in changes and changes["expiry"] not in LoyaltyProgram.Expiry.values:
        raise ValidationFailed("expiry must be never, days, end_of_month or end_of_year", field="expiry")
    program = LoyaltyProgram.objects.select_for_update().get(brand=brand)
    for name, value in changes.items():
        setattr(program, name, value)
    program.save()
    if "allow_debt" in changes:
        PointsAccount.objects.filter(brand=brand).update(allow_debt=program.allow_debt)
    audit_record(
        brand=brand,
        actor=actor,
        action="program.update",
        target_type="program",
        target_id=brand.pk,
        data={k: str(v) for k, v in changes.items()},
    )
    return program
