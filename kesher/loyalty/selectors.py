"""Reads of points, the ledger, rewards and coupons."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q, Sum
from django.utils import timezone

from kesher.brands.models import Brand
from kesher.core.errors import NotFound, ValidationFailed
from kesher.loyalty.models import (
    Coupon,
    EarningRule,
    LedgerEntry,
    PointsAccount,
    PointsLot,
    Referral,
    Reward,
)
from kesher.members.models import Member

EXPIRING_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class PointsSummary:
    balance: int
    pending: int
    lifetime_earned: int
    lifetime_redeemed: int
    expiring_soon: int
    expiring_before: datetime


def points_summary(*, member: Member) -> PointsSummary:
    account = PointsAccount.objects.get(member=member)
    horizon = timezone.now() + EXPIRING_WINDOW
    expiring = (
        PointsLot.objects.filter(
            account=account,
            state=PointsLot.State.AVAILABLE,
            expires_at__isnull=False,
            expires_at__lte=horizon,
        ).aggregate(total=Sum("remaining"))["total"]
        or 0
    )
    return PointsSummary(
        balance=account.balance,
        pending=account.pending,
        lifetime_earned=account.lifetime_earned,
        lifetime_redeemed=account.lifetime_redeemed,
        expiring_soon=expiring,
        expiring_before=horizon,
    )


@dataclass(frozen=True)
class LedgerPage:
    entries: list[LedgerEntry]
    next_cursor: str | None


def ledger_page(*, member: Member, cursor: str | None = None, limit: int = 50) -> LedgerPage:
    entries = LedgerEntry.objects.filter(account_id=member.pk).select_related("rule", "activity")
    if cursor:
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            created_raw, pk_raw = json.loads(base64.urlsafe_b64decode(padded))
            created, pk = datetime.fromisoformat(created_raw), uuid.UUID(pk_raw)
        except (ValueError, TypeError):
            raise ValidationFailed("cursor is not one this server gave out", field="cursor") from None
        entries = entries.filter(Q(created_at__lt=created) | Q(created_at=created, pk__lt=pk))
    rows = list(entries.order_by("-created_at", "-pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = (
            base64.urlsafe_b64encode(json.dumps([last.created_at.isoformat(), str(last.pk)]).encode())
            .decode()
            .rstrip("=")
        )
    return LedgerPage(entries=rows, next_cursor=next_cursor)


def rewards_available(*, brand: Brand, member: Member | None = None) -> list[Reward]:
    """The catalog: active, in stock and in its window; for a member, only what their tier opens."""
    now = timezone.now()
    rewards = (
        Reward.objects.filter(brand=brand, active=True)
        .filter(Q(stock__isnull=True) | Q(stock__gt=0))
        .filter(Q(available_from__isnull=True) | Q(available_from__lte=now))
        .filter(Q(available_until__isnull=True) | Q(available_until__gt=now))
        .prefetch_related("tiers")
    )
    if member is not None:
        tier_id = PointsAccount.objects.filter(member=member).values_list("tier_id", flat=True).first()
        rewards = rewards.filter(Q(tiers__isnull=True) | Q(tiers__id=tier_id)).distinct()
    return list(rewards)


def rule_get(*, brand: Brand, rule_id: str | uuid.UUID) -> EarningRule:
    try:
        return EarningRule.objects.get(brand=brand, pk=uuid.UUID(str(rule_id)))
    except (ValueError, EarningRule.DoesNotExist):
        raise NotFound(f"No earning rule with id {rule_id}", code="rule_not_found") from None


def referral_get(*, brand: Brand, referral_id: str | uuid.UUID) -> Referral:
    try:
        return Referral.objects.select_related("brand").get(brand=brand, pk=uuid.UUID(str(referral_id)))
    except (ValueError, Referral.DoesNotExist):
        raise NotFound(f"No referral with id {referral_id}", code="referral_not_found") from None


def reward_get(*, brand: Brand, reward_id: str | uuid.UUID) -> Reward:
    try:
        return Reward.objects.get(brand=brand, pk=uuid.UUID(str(reward_id)))
    except (ValueError, Reward.DoesNotExist):
        raise NotFound(f"No reward with id {reward_id}", field="reward_id", code="reward_not_found") from None


def coupon_wallet(*, member: Member) -> list[Coupon]:
    return list(member.coupons.select_related("reward").order_by("-issued_at"))


def reward_affordable_count(*, brand: Brand, cost_points: int, tier_names: list[str] | None = None) -> int:
    """How many of the brand's members have enough spendable points for a reward of this cost now (in one
    of these tiers, when the reward is for some tiers only)."""
    accounts = PointsAccount.objects.filter(brand=brand, balance__gte=cost_points)
    if tier_names:
        accounts = accounts.filter(tier__name__in=tier_names)
    return accounts.count()
