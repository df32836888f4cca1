"""The rewards catalog: staff create and change rewards."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction

from kesher.brands.models import Brand
from kesher.core.audit import SYSTEM, Actor, audit_record
from kesher.core.errors import ValidationFailed
from kesher.core.limits import check_bounds
from kesher.loyalty.models import Reward, Tier

REWARD_FIELDS = {
    "name",
    "cost_points",
    "kind",
    "value",
    "stock",
    "per_member_limit",
    "description",
    "coupon_valid_days",
    "texts",
    "available_from",
    "available_until",
    "active",
}


def _check_reward(values: dict[str, Any]) -> None:
    """The same checks for a new reward and for a changed one (with its other fields as they are)."""
    kind = values.get("kind")
    if kind not in Reward.Kind.values:
        raise ValidationFailed(f"kind must be one of {', '.join(Reward.Kind.values)}", field="kind")
    check_bounds({name: values.get(name) for name in ("cost_points", "value", "stock", "per_member_limit")})
    if int(values.get("cost_points") or 0) <= 0:
        raise ValidationFailed("cost_points must be positive", field="cost_points")
    value = Decimal(values.get("value") or 0)
    if kind == Reward.Kind.DISCOUNT_PERCENT and not Decimal(0) < value <= Decimal(100):
        raise ValidationFailed("a percent discount is between 0 and 100", field="value")
    available_from, available_until = values.get("available_from"), values.get("available_until")
    if available_from and available_until and available_until <= available_from:
        raise ValidationFailed("available_until must be after available_from", field="available_until")


def reward_create(
    *,
    brand: Brand,
    name: str,
    cost_points: int,
    kind: str,
    value: Decimal = Decimal(0),
    stock: int | None = None,
    per_member_limit: int | None = None,
    description: str = "",
    coupon_valid_days: int = 90,
    texts: dict[str, Any] | None = None,
    available_from: datetime | None = None,
    available_until: datetime | None = None,
    tiers: list[str] | None = None,
    actor: Actor = SYSTEM,
) -> Reward:
    _check_reward(
        {
            "kind": kind,
            "cost_points": cost_points,
            "value": value,
            "stock": stock,
            "per_member_limit": per_member_limit,
            "available_from": available_from,
            "available_until": available_until,
        }
    )
    tier_rows = list(Tier.objects.filter(brand=brand, name__in=tiers or []))
    if len(tier_rows) != len(set(tiers or [])):
        raise ValidationFailed("Unknown tier name", field="tiers")
    with transaction.atomic():
        reward = Reward.objects.create(
            brand=brand,
            name=name,
            cost_points=cost_points,
            kind=kind,
            value=value,
            stock=stock,
            per_member_limit=per_member_limit,
            description=description,
            coupon_valid_days=coupon_valid_days,
            texts=texts or {},
            available_from=available_from,
            available_until=available_until,
        )
        reward.tiers.set(tier_rows)
        audit_record(
            brand=brand,
            actor=actor,
            action="reward.create",
            target_type="reward",
            target_id=reward.pk,
            data={"name": name, "cost_points": cost_points},
        )
    return reward


@transaction.atomic
def reward_update(*, reward: Reward, changes: dict[str, Any], actor: Actor) -> Reward:
    unknown = set(changes) - REWARD_FIELDS
    if unknown:
        raise ValidationFailed(f"Unknown reward field {sorted(unknown)[0]!r}", field=sorted(unknown)[0])
    reward = Reward.objects.select_for_update().get(pk=reward.pk)
    _check_reward({**{name: getattr(reward, name) for name in REWARD_FIELDS}, **changes})
    for name, value in changes.items():
        setattr(reward, name, value)
    reward.save()
    audit_record(
        brand=reward.brand,
        actor=actor,
        action="reward.update",
        target_type="reward",
        target_id=reward.pk,
        data={k: str(v) for k, v in changes.items()},
    )
    return reward
