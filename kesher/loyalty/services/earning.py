"""Earning: the points an activity gets under the brand's rules, posted in the activity's own transaction."""

from __future__ import annotations

import copy
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from django.db.models import F
from django.utils import timezone

from kesher.activity.models import Activity
from kesher.brands.models import Brand
from kesher.core.bulk import rows_insert_values, rows_update
from kesher.core.events import event_emit
from kesher.core.limits import check_points_credit
from kesher.loyalty.models import EarningRule, LedgerEntry, LoyaltyProgram, PointsAccount, PointsLot
from kesher.loyalty.services._ledger import POINTS_CHANGED, _earn, _lock_account, _lock_accounts
from kesher.loyalty.services._rule_cache import _active_rules, _rules_and_tiers
from kesher.loyalty.services.expiry import lot_expiry
from kesher.loyalty.services.program import program_of
from kesher.loyalty.services.rules import RULE_FIELDS
from kesher.loyalty.services.segments import segment_contains
from kesher.loyalty.services.tiers import tier_evaluate
from kesher.members.models import Member


def _purchase_lines(attributes: dict[str, Any]) -> list[dict[str, Any]]:
    return list(attributes.get("items") or [])


def _rule_matches(rule: EarningRule, activity: Activity, account: PointsAccount) -> bool:
    attributes = activity.attributes
    local = timezone.localtime(activity.occurred_at, zoneinfo.ZoneInfo(activity.brand.time_zone))
    amount = Decimal(str(attributes.get("amount", "0")))
    checks = [
        not rule.stores or attributes.get("store") in rule.stores,
        not rule.channels or attributes.get("channel") in rule.channels,
        rule.min_amount is None or amount >= rule.min_amount,
        not rule.days_of_week or local.weekday() in rule.days_of_week,
        rule.hour_from is None or local.hour >= rule.hour_from,
        rule.hour_to is None or local.hour < rule.hour_to,
        not rule.tiers or (account.tier is not None and account.tier.name in rule.tiers),
        not rule.skus or any(line.get("sku") in rule.skus for line in _purchase_lines(attributes)),
        not rule.categories
        or any(line.get("category") in rule.categories for line in _purchase_lines(attributes)),
        not rule.birthday_month_only
        or (activity.member.birthday is not None and activity.member.birthday.month == local.month),
        rule.budget_points is None or rule.spent_points < rule.budget_points,
    ]
    if not all(checks):
        return False
    if rule.segment_id is not None and not segment_contains(rule.segment_id, activity.member):
        return False
    if rule.first_purchase_only:
        earlier = Activity.objects.filter(member_id=activity.member_id, type="purchase").exclude(
            pk=activity.pk
        )
        if earlier.filter(occurred_at__lte=activity.occurred_at).exists():
            return False
    return True


def _rule_base_points(rule: EarningRule, activity: Activity) -> int:
    if rule.effect == EarningRule.Effect.FIXED:
        return rule.points
    amount = Decimal(str(activity.attributes.get("amount", "0")))
    if rule.skus or rule.categories:
        # Points on the matching lines only.
        amount = sum(
            (
                Decimal(str(line.get("unit_price") or 0)) * int(line.get("quantity") or 1)
                for line in _purchase_lines(activity.attributes)
                if (not rule.skus or line.get("sku") in rule.skus)
                and (not rule.categories or line.get("category") in rule.categories)
            ),
            Decimal(0),
        )
    units = (amount / rule.per_amount).to_integral_value(rounding=ROUND_FLOOR)
    return int(units) * rule.points


def _within_limits(rule: EarningRule, activity: Activity, time_zone: str) -> bool:
    local = timezone.localtime(activity.occurred_at, zoneinfo.ZoneInfo(time_zone))
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    windows = [
        (rule.daily_limit, day, day + timedelta(days=1)),
        (rule.weekly_limit, day - timedelta(days=(local.weekday() + 1) % 7), None),  # weeks start on Sunday
        (rule.monthly_limit, day.replace(day=1), None),
    ]
    for limit, start, end in windows:
        if limit is None:
            continue
        awarded = LedgerEntry.objects.filter(
            account_id=activity.member_id,
            rule=rule,
            kind=LedgerEntry.Kind.EARN,
            activity__occurred_at__gte=start,
        )
        if end is not None:
            awarded = awarded.filter(activity__occurred_at__lt=end)
        if awarded.count() >= limit:
            return False
    return True


def _rules_in_force(rules: list[EarningRule], activity: Activity) -> list[EarningRule]:
    now = activity.occurred_at
    return [
        rule
        for rule in rules
        if rule.activity_type == activity.type
        and (rule.valid_from is None or rule.valid_from <= now)
        and (rule.valid_until is None or rule.valid_until > now)
    ]


def _compute_awards(
    rules: list[EarningRule], activity: Activity, account: PointsAccount, *, check_limits: bool
) -> list[tuple[EarningRule, int]]:
    """Which rules give how many points for this activity (before budgets), in priority order."""
    tier_multiplier = account.tier.multiplier if account.tier_id and account.tier else Decimal(1)
    awards: list[tuple[EarningRule, int]] = []
    multipliers: list[tuple[EarningRule, Decimal]] = []
    for rule in rules:
        if not _rule_matches(rule, activity, account):
            continue
        if check_limits and not _within_limits(rule, activity, activity.brand.time_zone):
            continue
        if rule.effect == EarningRule.Effect.MULTIPLIER:
            multipliers.append((rule, rule.multiplier))
            continue
        points = _rule_base_points(rule, activity)
        if points > 0:
            awards.append((rule, points))
            if not rule.stackable:
                break
    base = sum(points for _, points in awards)
    for rule, factor in multipliers:  # extra points: base × (factor − 1), credited to the multiplier rule
        extra = int((Decimal(base) * (factor - 1)).to_integral_value(rounding=ROUND_FLOOR))
        if extra > 0:
            awards.append((rule, extra))
    if tier_multiplier != 1 and awards:
        extra = int((Decimal(base) * (tier_multiplier - 1)).to_integral_value(rounding=ROUND_FLOOR))
        if extra > 0:
            awards.append((awards[0][0], extra))
    total = sum(points for _, points in awards)
    check_points_credit(balance=account.balance, pending=account.pending, points=total, field="attributes")
    return awards


def _lot_dates(program: LoyaltyProgram, activity: Activity) -> tuple[datetime | None, datetime | None]:
    """(pending until, expires at) for points earned by this activity."""
    pending_until = None
    if activity.type == "purchase" and program.pending_days:
        pending_until = activity.occurred_at + timedelta(days=program.pending_days)
    expires_at = lot_expiry(
        program=program, earned_at=activity.occurred_at, time_zone=activity.brand.time_zone
    )
    return pending_until, expires_at


def points_earn_for_activity(activity: Activity) -> None:
    """The immediate consumer: award what the brand's rules say, in the activity's own transaction."""
    program = program_of(activity.brand_id)
    rules = _rules_in_force(_active_rules(program, [activity.type]), activity)
    account = _lock_account(activity.member_id)
    activity.balance_after = account.balance
    if not rules:
        return
    pending_until, expires_at = _lot_dates(program, activity)
    total = 0
    for rule, points in _compute_awards(rules, activity, account, check_limits=True):
        if rule.budget_points is not None:
            granted = EarningRule.objects.filter(
                pk=rule.pk, spent_points__lte=rule.budget_points - points
            ).update(spent_points=F("spent_points") + points)
            if not granted:
                continue
        _earn(
            account=account,
            points=points,
            activity=activity,
            rule=rule,
            description=rule.name,
            pending_until=pending_until,
            expires_at=expires_at,
        )
        total += points
    activity.points_awarded += total
    activity.balance_after = account.balance
    if total and _rules_and_tiers(program).has_tiers:
        tier_evaluate(account=account, upgrade_only=True, now=activity.occurred_at)


def _needs_one_by_one(rule: EarningRule) -> bool:
    """Rules whose outcome depends on other rows (limits, budgets, first purchase, tiers)."""
    return bool(
        rule.daily_limit
        or rule.weekly_limit
        or rule.monthly_limit
        or rule.budget_points is not None
        or rule.first_purchase_only
        or rule.tiers
        or rule.segment_id is not None
    )


def points_earn_batch(activities: list[Activity]) -> None:
    """The batch form of the earn consumer, for bulk recording: same awards, a handful of queries.

    Members with an activity whose rules look at other rows (limits, budgets, first purchase), and every
    member of a brand with tiers, go one by one through points_earn_for_activity.
    """
    if not activities:
        return
    brand_id = activities[0].brand_id
    program = program_of(brand_id)
    rules = _active_rules(program, {activity.type for activity in activities})
    one_by_one_types = {rule.activity_type for rule in rules if _needs_one_by_one(rule)}
    if _rules_and_tiers(program).has_tiers:
        one_by_one_types = {activity.type for activity in activities}
    accounts = _lock_accounts(activity.member_id for activity in activities)  # every lock first, in key order
    # A member with any such activity goes one by one for all of theirs, so balances follow the call's order.
    slow_members = {activity.member_id for activity in activities if activity.type in one_by_one_types}
    for activity in activities:
        if activity.member_id in slow_members:
            points_earn_for_activity(activity)
    simple = [activity for activity in activities if activity.member_id not in slow_members]
    if not simple:
        return
    if slow_members:  # their accounts changed one by one: read every counter again (still locked)
        accounts = _lock_accounts(activity.member_id for activity in simple)
    now = timezone.now()
    lots: list[tuple[Any, ...]] = []  # values for _LOT_COLUMNS: the instances are never read again
    entries: list[tuple[Any, ...]] = []  # values for _ENTRY_COLUMNS
    touched: set[Any] = set()
    for activity in simple:
        account = accounts[activity.member_id]
        in_force = _rules_in_force(rules, activity)
        awards = _compute_awards(in_force, activity, account, check_limits=False) if in_force else []
        pending_until, expires_at = _lot_dates(program, activity) if awards else (None, None)
        pending = pending_until is not None and pending_until > now
        state = PointsLot.State.PENDING if pending else PointsLot.State.AVAILABLE
        for rule, points in awards:
            lots.append(
                (
                    account.pk,
                    brand_id,
                    activity.pk,
                    rule.pk,
                    points,
                    points,
                    activity.occurred_at,
                    state,
                    pending_until if pending else None,
                    expires_at,
                )
            )
            if pending:
                account.pending += points
            else:
                account.balance += points
            account.lifetime_earned += points
            entries.append(
                (
                    account.pk,
                    brand_id,
                    LedgerEntry.Kind.EARN,
                    points,
                    pending,
                    account.balance,
                    activity.pk,
                    rule.pk,
                    rule.name[:300],
                )
            )
            activity.points_awarded += points
            touched.add(account.pk)
            event_emit(
                brand_id=brand_id,
                type=POINTS_CHANGED,
                data={
                    "member_id": str(account.member_id),
                    "kind": LedgerEntry.Kind.EARN,
                    "points": points,
                    "pending": pending,
                    "balance": account.balance,
                    "pending_balance": account.pending,
                    "activity_id": str(activity.pk),
                },
            )
        activity.balance_after = account.balance
    rows_insert_values(PointsLot, _LOT_COLUMNS, lots)
    rows_insert_values(LedgerEntry, _ENTRY_COLUMNS, entries)
    rows_update(PointsAccount, [accounts[pk] for pk in touched], ["balance", "pending", "lifetime_earned"])


_LOT_COLUMNS = (
    "account_id",
    "brand_id",
    "activity_id",
    "rule_id",
    "points",
    "remaining",
    "earned_at",
    "state",
    "available_at",
    "expires_at",
)


_ENTRY_COLUMNS = (
    "account_id",
    "brand_id",
    "kind",
    "points",
    "pending",
    "balance_after",
    "activity_id",
    "rule_id",
    "description",
)


# Conditions a preview takes as met: it shows what the rule gives when it applies, not whether it applies now.
_PREVIEW_CLEARED: dict[str, Any] = {
    "stores": [],
    "channels": [],
    "days_of_week": [],
    "hour_from": None,
    "hour_to": None,
    "tiers": [],
    "skus": [],
    "categories": [],
    "first_purchase_only": False,
    "birthday_month_only": False,
    "segment_id": None,
    "budget_points": None,
    "valid_from": None,
    "valid_until": None,
}


def _preview_copy(rule: EarningRule) -> EarningRule:
    shown = copy.copy(rule)
    for name, value in _PREVIEW_CLEARED.items():
        setattr(shown, name, value)
    return shown


@dataclass(frozen=True)
class EarningPreview:
    amount: Decimal
    rule_points: int  # what this rule alone gives (a multiplier: its extra over the other rules)
    total_points: int  # with the brand's other active rules of the same activity, for a member with no tier


def earning_rule_preview(
    *, brand: Brand, values: dict[str, Any], amount: Decimal, rule_id: Any = None
) -> EarningPreview:
    """What a sample activity (a purchase of `amount`) earns under a rule as typed, before it is saved: the
    rule's own points and the total with the brand's other active rules, their conditions taken as met
    (minimum amount apart). Saves nothing."""
    known = {name: value for name, value in values.items() if name in RULE_FIELDS and value is not None}
    candidate = _preview_copy(EarningRule(brand=brand, **known))
    if rule_id is not None:
        candidate.pk = rule_id
    activity = Activity(
        brand=brand,
        member=Member(brand=brand),
        type=candidate.activity_type,
        occurred_at=timezone.now(),
        attributes={"amount": str(amount)},
    )
    account = PointsAccount(brand=brand, balance=0, pending=0)
    others = [
        _preview_copy(rule)
        for rule in EarningRule.objects.filter(
            brand=brand, active=True, activity_type=candidate.activity_type
        ).exclude(pk=rule_id)
    ]
    epoch = timezone.now()
    rules = sorted(
        [*others, candidate],
        key=lambda rule: (rule.priority, rule.created_at is None, rule.created_at or epoch),
    )
    awards = _compute_awards(rules, activity, account, check_limits=False)
    alone = _compute_awards([candidate], activity, account, check_limits=False)
    rule_points = sum(points for rule, points in awards if rule is candidate)
    if candidate.effect != EarningRule.Effect.MULTIPLIER:
        rule_points = sum(points for _, points in alone)
    return EarningPreview(
        amount=amount, rule_points=rule_points, total_points=sum(points for _, points in awards)
    )
