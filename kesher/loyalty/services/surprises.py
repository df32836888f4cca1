"""Surprises: staff give points or a free reward to one member or many, within a budget."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from kesher.brands.models import Brand
from kesher.core.audit import Actor, audit_record
from kesher.core.errors import NotFound, ValidationFailed
from kesher.loyalty.models import Coupon, LedgerEntry, Reward
from kesher.loyalty.services._coupon_codes import _new_coupon_code
from kesher.loyalty.services._ledger import _earn, _lock_account
from kesher.loyalty.services.expiry import lot_expiry
from kesher.loyalty.services.program import program_of
from kesher.members.models import Member


def surprise_grant(
    *, brand: Brand, members: Iterable[Member], points: int, reason: str, budget: int, actor: Actor
) -> int:
    """Give points to each member (one or a segment) within `budget`. Returns how many got them."""
    if points <= 0:
        raise ValidationFailed("points must be positive", field="points")
    if not reason.strip():
        raise ValidationFailed("a reason is required", field="reason")
    granted = 0
    program = program_of(brand.pk)
    with transaction.atomic():
        for member in members:
            if member.brand_id != brand.pk:
                raise NotFound("No such member", field="member_ids", code="member_not_found")
            if (granted + 1) * points > budget:
                break
            account = _lock_account(member.pk)
            _earn(
                account=account,
                points=points,
                activity=None,
                rule=None,
                description=reason.strip(),
                expires_at=lot_expiry(program=program, earned_at=timezone.now(), time_zone=brand.time_zone),
                kind=LedgerEntry.Kind.ADJUST,
            )
            granted += 1
        audit_record(
            brand=brand,
            actor=actor,
            action="points.surprise",
            target_type="brand",
            target_id=brand.pk,
            data={"points": points, "members": granted, "budget": budget, "reason": reason.strip()},
        )
    return granted


def reward_surprise_grant(
    *, brand: Brand, members: Iterable[Member], reward: Reward, reason: str, budget: int, actor: Actor
) -> int:
    """Give a reward (a coupon that cost the member nothing) to each member, while the budget (counted in
    the reward's points) and its stock last. Returns how many got it."""
    if reward.brand_id != brand.pk:
        raise NotFound("No such reward", field="reward_id", code="reward_not_found")
    if not reason.strip():
        raise ValidationFailed("a reason is required", field="reason")
    granted = 0
    now = timezone.now()
    with transaction.atomic():
        for member in members:
            if member.brand_id != brand.pk:
                raise NotFound("No such member", field="member_ids", code="member_not_found")
            if (granted + 1) * reward.cost_points > budget:
                break
            if reward.stock is not None and not Reward.objects.filter(pk=reward.pk, stock__gte=1).update(
                stock=F("stock") - 1
            ):
                break
            Coupon.objects.create(
                brand=brand,
                member=member,
                reward=reward,
                code=_new_coupon_code(brand.pk),
                cost_points=0,
                issued_at=now,
                expires_at=now + timedelta(days=reward.coupon_valid_days),
            )
            granted += 1
        audit_record(
            brand=brand,
            actor=actor,
            action="reward.surprise",
            target_type="reward",
            target_id=reward.pk,
            data={"members": granted, "budget": budget, "reason": reason.strip()},
        )
    return granted
