"""Earning rules: staff create and change them; every change makes each process read the rules again."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction

from kesher.activity.registry import registry
from kesher.brands.models import Brand
from kesher.core.audit import SYSTEM, Actor, audit_record
from kesher.core.errors import ValidationFailed
from kesher.core.limits import check_bounds
from kesher.loyalty.models import EarningRule
from kesher.loyalty.services._rule_cache import rules_changed

RULE_FIELDS = {
    "name",
    "activity_type",
    "effect",
    "points",
    "per_amount",
    "min_amount",
    "stores",
    "multiplier",
    "skus",
    "categories",
    "channels",
    "days_of_week",
    "hour_from",
    "hour_to",
    "tiers",
    "first_purchase_only",
    "birthday_month_only",
    "daily_limit",
    "weekly_limit",
    "monthly_limit",
    "budget_points",
    "stackable",
    "priority",
    "valid_from",
    "valid_until",
    "active",
    "segment_id",
}


def _check_rule(values: dict[str, Any]) -> None:
    check_bounds(values)
    if values.get("activity_type") not in registry.types:
        raise ValidationFailed(
            f"Unknown activity type {values.get('activity_type')!r}", field="activity_type"
        )
    if values.get("effect") not in EarningRule.Effect.values:
        raise ValidationFailed("effect must be fixed, per_unit or multiplier", field="effect")
    if values.get("effect") == EarningRule.Effect.MULTIPLIER and Decimal(values.get("multiplier") or 1) <= 1:
        raise ValidationFailed("a multiplier rule needs a multiplier above 1", field="multiplier")
    if (
        values.get("valid_from")
        and values.get("valid_until")
        and values["valid_until"] <= values["valid_from"]
    ):
        raise ValidationFailed("valid_until must be after valid_from", field="valid_until")
    for day in values.get("days_of_week") or []:
        if not 0 <= int(day) <= 6:
            raise ValidationFailed("days_of_week are 0 (Monday) to 6 (Sunday)", field="days_of_week")
    for name in ("hour_from", "hour_to"):
        if values.get(name) is not None and not 0 <= values[name] <= 24:
            raise ValidationFailed(f"{name} is an hour from 0 to 24", field=name)


def earning_rule_create(*, brand: Brand, actor: Actor = SYSTEM, **values: Any) -> EarningRule:
    unknown = set(values) - RULE_FIELDS
    if unknown:
        raise ValidationFailed(f"Unknown rule field {sorted(unknown)[0]!r}", field=sorted(unknown)[0])
    _check_rule(values)
    with transaction.atomic():
        rule = EarningRule.objects.create(brand=brand, **{k: v for k, v in values.items() if v is not None})
        rules_changed(brand_id=brand.pk)
        audit_record(
            brand=brand,
            actor=actor,
            action="earning_rule.create",
            target_type="earning_rule",
            target_id=rule.pk,
            data={"name": rule.name, "activity_type": rule.activity_type, "points": rule.points},
        )
    return rule


@transaction.atomic
def earning_rule_update(*, rule: EarningRule, changes: dict[str, Any], actor: Actor) -> EarningRule:
    unknown = set(changes) - RULE_FIELDS
    if unknown:
        raise ValidationFailed(f"Unknown rule field {sorted(unknown)[0]!r}", field=sorted(unknown)[0])
    current = {name: getattr(rule, name) for name in RULE_FIELDS}
    _check_rule({**current, **changes})
    for name, value in changes.items():
        setattr(rule, name, value)
    rule.save()
    rules_changed(brand_id=rule.brand_id)
    audit_record(
        brand=rule.brand,
        actor=actor,
        action="earning_rule.update",
        target_type="earning_rule",
        target_id=rule.pk,
        data={k: str(v) for k, v in changes.items()},
    )
    return rule
