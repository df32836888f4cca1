"""Every write to the points ledger, rules, tiers, rewards, coupons and referrals.

Locking order, always: points accounts by primary key, then their lots, then rewards and coupons.
"""

from __future__ import annotations

import calendar
import copy
import secrets
import uuid
import zoneinfo
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Min, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_noop

from kesher.activity.models import Activity
from kesher.brands.models import Brand
from kesher.core.audit import SYSTEM, Actor, audit_record
from kesher.core.bulk import rows_in, rows_insert, rows_insert_values, rows_update
from kesher.core.errors import Conflict, InsufficientPoints, NotFound, PermissionDenied, ValidationFailed
from kesher.core.limits import check_bounds, check_points_credit, check_points_operation
from kesher.core.rows import row_get
from kesher.loyalty.models import (
    Coupon,
    EarningRule,
    LedgerEntry,
    LotConsumption,
    LoyaltyProgram,
    PointsAccount,
    PointsLot,
    Referral,
    Reward,
    Tier,
    TierChange,
)
from kesher.members.models import Member

COUPON_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

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


def account_open(*, member: Member) -> PointsAccount:
    program = program_of(member.brand_id)
    account, _ = PointsAccount.objects.get_or_create(
        member=member, defaults={"brand_id": member.brand_id, "allow_debt": program.allow_debt}
    )
    return account


def _lock_account(member_id: Any) -> PointsAccount:
    account = row_get(PointsAccount, lock=True, member_id=member_id)
    if account is None:
        raise PointsAccount.DoesNotExist(f"No points account for member {member_id}")
    return account


def _lock_accounts(member_ids: Iterable[Any]) -> dict[Any, PointsAccount]:
    """Lock several accounts in primary-key order, so two transfers never deadlock."""
    ordered = sorted(set(member_ids), key=str)
    return {account.member_id: account for account in rows_in(PointsAccount, "member_id", ordered, lock=True)}


def _refresh(account: PointsAccount) -> None:
    account.refresh_from_db(fields=["balance", "pending", "lifetime_earned", "lifetime_redeemed"])


# --- expiry dates --------------------------------------------------------------------------------


def lot_expiry(*, program: LoyaltyProgram, earned_at: datetime, time_zone: str) -> datetime | None:
    """When points earned at `earned_at` expire under the brand's policy (end of day in its time zone)."""
    if program.expiry == LoyaltyProgram.Expiry.NEVER:
        return None
    tz = zoneinfo.ZoneInfo(time_zone)
    local = earned_at.astimezone(tz)
    n = program.expiry_value
    if program.expiry == LoyaltyProgram.Expiry.DAYS:
        return local + timedelta(days=n)
    if program.expiry == LoyaltyProgram.Expiry.END_OF_MONTH:
        month_index = local.month - 1 + n
        year, month = local.year + month_index // 12, month_index % 12 + 1
        last_day = calendar.monthrange(year, month)[1]
        end = datetime(year, month, last_day, tzinfo=tz) + timedelta(days=1)
        return end
    end_year = local.year + max(n, 0)
    return datetime(end_year + 1, 1, 1, tzinfo=tz)


# --- earning -------------------------------------------------------------------------------------


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


# Whether a member is in a saved segment. The campaigns part, which owns segments, installs the answer.
SegmentMatcher = Callable[[Any, Member], bool]
_segment_matchers: list[SegmentMatcher] = []


def segment_matcher_install(matcher: SegmentMatcher) -> None:
    _segment_matchers[:] = [matcher]


def segment_contains(segment_id: Any, member: Member) -> bool:
    return bool(_segment_matchers) and _segment_matchers[0](segment_id, member)


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


@dataclass(frozen=True)
class _RulesAndTiers:
    stamp: uuid.UUID
    rules: tuple[EarningRule, ...]  # active, in priority order
    has_tiers: bool


_rules_cache: dict[Any, _RulesAndTiers] = {}  # brand id → the last rules and tiers this process read


def rules_changed(*, brand_id: Any) -> None:
    """Call after any change to a brand's earning rules or tiers: every process reads them again."""
    LoyaltyProgram.objects.filter(brand_id=brand_id).update(rules_stamp=uuid.uuid4())


def _rules_and_tiers(program: LoyaltyProgram) -> _RulesAndTiers:
    cached = _rules_cache.get(program.brand_id)
    if cached is None or cached.stamp != program.rules_stamp:
        rules = EarningRule.objects.filter(brand_id=program.brand_id, active=True).order_by(
            "priority", "created_at"
        )
        cached = _RulesAndTiers(
            stamp=program.rules_stamp,
            rules=tuple(rules.order_by("priority", "created_at")),
            has_tiers=Tier.objects.filter(brand_id=program.brand_id).exists(),
        )
        _rules_cache[program.brand_id] = cached
    return cached


def _active_rules(program: LoyaltyProgram, types: Iterable[str]) -> list[EarningRule]:
    wanted = set(types)
    rules = [rule for rule in _rules_and_tiers(program).rules if rule.activity_type in wanted]
    budgeted = [rule.pk for rule in rules if rule.budget_points is not None]
    if not budgeted:
        return rules
    # What a budget has spent changes with every award: read it fresh, into copies of the shared rules.
    spent = dict(EarningRule.objects.filter(pk__in=budgeted).values_list("pk", "spent_points"))
    fresh = []
    for rule in rules:
        if rule.pk in spent:
            rule = copy.copy(rule)
            rule.spent_points = spent[rule.pk]
        fresh.append(rule)
    return fresh


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


def referral_on_purchase_batch(activities: list[Activity]) -> None:
    for activity in activities:
        if activity.type == "purchase" and activity.member.referred_by_id is not None:
            referral_on_purchase(activity)


def _earn(
    *,
    account: PointsAccount,
    points: int,
    activity: Activity | None,
    rule: EarningRule | None,
    description: str,
    pending_until: datetime | None = None,
    expires_at: datetime | None = None,
    kind: str = LedgerEntry.Kind.EARN,
) -> LedgerEntry:
    check_points_credit(balance=account.balance, pending=account.pending, points=points)
    pending = pending_until is not None and pending_until > timezone.now()
    lot = PointsLot(
        account=account,
        brand_id=account.brand_id,
        activity=activity,
        rule=rule,
        points=points,
        remaining=points,
        earned_at=activity.occurred_at if activity else timezone.now(),
        state=PointsLot.State.PENDING if pending else PointsLot.State.AVAILABLE,
        available_at=pending_until if pending else None,
        expires_at=expires_at,
    )
    if pending:
        account.pending += points
    else:
        account.balance += points
    account.lifetime_earned += points
    entry = LedgerEntry(
        account=account,
        brand_id=account.brand_id,
        kind=kind,
        points=points,
        pending=pending,
        balance_after=account.balance,
        activity=activity,
        rule=rule,
        description=description[:300],
    )
    # The caller holds the account's row lock, so the in-memory counters are the database's: they are
    # written as they stand (the statements built without the ORM's per-call SQL building).
    rows_insert(PointsLot, [lot])
    rows_update(PointsAccount, [account], ["balance", "pending", "lifetime_earned"])
    rows_insert(LedgerEntry, [entry])
    entry._state.adding = False
    return entry


def _spendable_lots(account: PointsAccount) -> list[PointsLot]:
    return list(
        PointsLot.objects.select_for_update()
        .filter(account=account, state=PointsLot.State.AVAILABLE, remaining__gt=0)
        .order_by(F("expires_at").asc(nulls_last=True), "earned_at", "id")
    )


def _take_from_lots(
    *, account: PointsAccount, points: int, entry: LedgerEntry, lots: list[PointsLot] | None = None
) -> int:
    """Take up to `points` from lots (soonest-expiring first; never-expiring last). Returns what was taken."""
    left = points
    for lot in lots if lots is not None else _spendable_lots(account):
        if left == 0:
            break
        take = min(lot.remaining, left)
        if take <= 0:
            continue
        PointsLot.objects.filter(pk=lot.pk).update(remaining=F("remaining") - take)
        lot.remaining -= take
        LotConsumption.objects.create(entry=entry, lot=lot, points=take)
        left -= take
    return points - left


def _spend(
    *,
    account: PointsAccount,
    points: int,
    kind: str,
    description: str,
    activity: Activity | None = None,
    lifetime_redeemed: bool = False,
) -> LedgerEntry:
    """Take spendable points from an account the caller has locked; refuse when the balance is short."""
    updates: dict[str, Any] = {"balance": F("balance") - points}
    if lifetime_redeemed:
        updates["lifetime_redeemed"] = F("lifetime_redeemed") + points
    if not PointsAccount.objects.filter(pk=account.pk, balance__gte=points).update(**updates):
        raise InsufficientPoints(f"The balance is {account.balance}; {points} points are needed")
    _refresh(account)
    entry = LedgerEntry.objects.create(
        account=account,
        brand_id=account.brand_id,
        kind=kind,
        points=-points,
        balance_after=account.balance,
        activity=activity,
        description=description[:300],
    )
    if _take_from_lots(account=account, points=points, entry=entry) != points:
        # The account said the points were there; the lots disagree. Refuse rather than corrupt the ledger.
        raise Conflict(
            "The ledger's lots do not cover the balance; run `kesher ledger verify`",
            code="ledger_inconsistent",
        )
    return entry


# --- taking back: a return, or an activity whose points no longer stand --------------------------


def _reversed_so_far(*, account: PointsAccount, activity: Activity, exclude: Activity | None = None) -> int:
    """Points already taken back from what `activity` earned: its own reversals and its returns'."""
    taken = Q(activity=activity)
    if activity.type == "purchase":
        taken |= Q(activity__type="return", activity__attributes__purchase_id=str(activity.pk))
    entries = LedgerEntry.objects.filter(taken, account=account, kind=LedgerEntry.Kind.REVERSE, points__lt=0)
    if exclude is not None:
        entries = entries.exclude(activity=exclude)
    return -(entries.aggregate(total=Sum("points"))["total"] or 0)


def _earned_by(*, account: PointsAccount, activity: Activity) -> int:
    return (
        LedgerEntry.objects.filter(account=account, activity=activity, kind=LedgerEntry.Kind.EARN).aggregate(
            total=Sum("points")
        )["total"]
        or 0
    )


def points_reverse_for_return(activity: Activity) -> None:
    """Immediate consumer of `return`: reverse the purchase's points for the refunded share."""
    purchase = Activity.objects.filter(
        brand_id=activity.brand_id,
        member_id=activity.member_id,
        type="purchase",
        pk=_uuid_or_none(activity.attributes.get("purchase_id")),
    ).first()
    if purchase is None:
        raise ValidationFailed("No purchase of this member has that id", field="attributes.purchase_id")
    purchase_amount = Decimal(str(purchase.attributes["amount"]))
    refunded_before = sum(
        (
            Decimal(str(a.attributes.get("amount") or purchase_amount))
            for a in Activity.objects.filter(
                brand_id=activity.brand_id,
                member_id=activity.member_id,
                type="return",
                attributes__purchase_id=str(purchase.pk),
            ).exclude(pk=activity.pk)
        ),
        Decimal(0),
    )
    this_refund = Decimal(str(activity.attributes.get("amount") or (purchase_amount - refunded_before)))
    if refunded_before + this_refund > purchase_amount:
        raise ValidationFailed(
            f"Returns would exceed the purchase ({refunded_before + this_refund} > {purchase_amount})",
            field="attributes.amount",
        )
    account = _lock_account(activity.member_id)
    earned = _earned_by(account=account, activity=purchase)
    reversed_before = _reversed_so_far(account=account, activity=purchase, exclude=activity)
    share = (refunded_before + this_refund) / purchase_amount
    target = int((Decimal(earned) * share).to_integral_value(rounding=ROUND_FLOOR))
    if refunded_before + this_refund == purchase_amount:
        target = earned
    to_reverse = max(target - reversed_before, 0)
    entry = _take_back(
        account=account,
        source=purchase,
        activity=activity,
        points=to_reverse,
        description=gettext_noop("Points of a returned purchase"),
    )
    if entry is not None:
        activity.points_awarded += entry.points
    activity.balance_after = account.balance


def _uuid_or_none(raw: Any) -> Any:
    import uuid

    try:
        return uuid.UUID(str(raw))
    except ValueError:
        return None


def _take_back(
    *, account: PointsAccount, source: Activity, activity: Activity, points: int, description: str
) -> LedgerEntry | None:
    """Take `points` of what `source` earned back from an account the caller has locked, in one REVERSE
    entry on `activity`: lot by lot from the source's own lots (pending ones first, then the soonest to
    expire), then from the member's other spendable lots soonest-expiring first; what was already spent
    beyond that goes into debt where the program allows it, else is not taken. Own lots emptied here become
    `reversed`. `lifetime_earned` falls by what is taken. None when there is nothing to take; an entry of
    0 points when everything was spent (it records that the reversal happened)."""
    if points <= 0:
        return None
    program = program_of(account.brand_id)
    entry = LedgerEntry.objects.create(
        account=account,
        brand_id=account.brand_id,
        kind=LedgerEntry.Kind.REVERSE,
        points=0,
        balance_after=account.balance,
        activity=activity,
        description=description[:300],
    )
    own_lots = sorted(
        PointsLot.objects.select_for_update().filter(
            account=account,
            activity=source,
            remaining__gt=0,
            state__in=[PointsLot.State.PENDING, PointsLot.State.AVAILABLE],
        ),
        key=lambda lot: (
            lot.state != PointsLot.State.PENDING,
            lot.expires_at is None,
            lot.expires_at or lot.earned_at,
            lot.pk,
        ),
    )
    from_pending = 0
    from_balance = 0
    emptied: list[int] = []
    left = points
    for lot in own_lots:
        take = min(lot.remaining, left)
        if take <= 0:
            break
        _take_from_lots(account=account, points=take, entry=entry, lots=[lot])
        if lot.state == PointsLot.State.PENDING:
            from_pending += take
        else:
            from_balance += take
        if lot.remaining == 0:
            emptied.append(lot.pk)
        left -= take
    if emptied:
        PointsLot.objects.filter(pk__in=emptied).update(state=PointsLot.State.REVERSED)
    if left:
        # The source's points were already spent: take from other spendable lots, then into debt if allowed.
        taken = _take_from_lots(
            account=account, points=min(left, max(account.balance - from_balance, 0)), entry=entry
        )
        from_balance += taken
        left -= taken
    debt = left if (left and program.allow_debt) else 0
    reversed_points = from_pending + from_balance + debt
    PointsAccount.objects.filter(pk=account.pk).update(
        balance=F("balance") - from_balance - debt,
        pending=F("pending") - from_pending,
        lifetime_earned=F("lifetime_earned") - reversed_points,
    )
    _refresh(account)
    LedgerEntry.objects.filter(pk=entry.pk).update(points=-reversed_points, balance_after=account.balance)
    entry.points, entry.balance_after = -reversed_points, account.balance
    return entry


@transaction.atomic
def points_reverse_for_activity(
    *, activity: Activity, reason: str, actor: Actor = SYSTEM, points: int | None = None
) -> LedgerEntry | None:
    """Take back what an activity earned (all of it, or `points` of it) because it no longer stands: an
    acceptance that moved, a post removed as spam. Lot by lot from the activity's own lots (pending or
    spendable), then, where those points were spent, from the member's other spendable lots
    soonest-expiring first; below zero only where the program allows debt. Never more than the activity
    earned less what was taken back before (returns of a purchase included), and once per activity and
    reason: a second call with the same reason takes nothing and returns None. One REVERSE entry on the
    activity (0 points when everything was spent and debt is not allowed), `lifetime_earned` lowered by
    what is taken; audited when staff (or an API key) act. None when there was nothing left to take."""
    reason = reason.strip()
    if not reason:
        raise ValidationFailed("a reason is required", field="reason")
    if points is not None and points <= 0:
        raise ValidationFailed("points must be positive", field="points")
    account = PointsAccount.objects.select_for_update().filter(member_id=activity.member_id).first()
    if account is None:
        return None
    if LedgerEntry.objects.filter(
        account=account, activity=activity, kind=LedgerEntry.Kind.REVERSE, description=reason[:300]
    ).exists():
        return None
    left = _earned_by(account=account, activity=activity) - _reversed_so_far(
        account=account, activity=activity
    )
    wanted = left if points is None else min(points, left)
    entry = _take_back(account=account, source=activity, activity=activity, points=wanted, description=reason)
    if entry is not None and actor != SYSTEM:
        audit_record(
            brand=activity.brand,
            actor=actor,
            action="points.reverse",
            target_type="member",
            target_id=account.member_id,
            data={"activity": str(activity.pk), "points": entry.points, "reason": reason},
        )
    return entry


# --- rules --------------------------------------------------------------------------------------

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
    from kesher.activity.registry import registry

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


# --- tiers ----------------------------------------------------------------------------------------


def tier_create(
    *,
    brand: Brand,
    name: str,
    threshold: Decimal,
    multiplier: Decimal = Decimal(1),
    perks: str = "",
    texts: dict[str, str] | None = None,
    actor: Actor = SYSTEM,
) -> Tier:
    check_bounds({"threshold": threshold, "multiplier": multiplier})
    if threshold < 0:
        raise ValidationFailed("threshold must not be negative", field="threshold")
    if multiplier < 1:
        raise ValidationFailed("multiplier must be at least 1", field="multiplier")
    if Tier.objects.filter(brand=brand, name=name).exists():
        raise Conflict(f"A tier named {name!r} exists", field="name")
    with transaction.atomic():
        tier = Tier.objects.create(
            brand=brand, name=name, threshold=threshold, multiplier=multiplier, perks=perks, texts=texts or {}
        )
        rules_changed(brand_id=brand.pk)
        audit_record(
            brand=brand,
            actor=actor,
            action="tier.create",
            target_type="tier",
            target_id=tier.pk,
            data={"name": name, "threshold": str(threshold)},
        )
    return tier


def _period_start(program: LoyaltyProgram, now: datetime, time_zone: str) -> datetime:
    if program.tier_period == LoyaltyProgram.TierPeriod.CALENDAR_YEAR:
        return datetime(
            now.astimezone(zoneinfo.ZoneInfo(time_zone)).year, 1, 1, tzinfo=zoneinfo.ZoneInfo(time_zone)
        )
    return now - timedelta(days=365)


def tier_qualifying_value(*, account: PointsAccount, now: datetime | None = None) -> Decimal:
    """Points earned, or money spent, in the brand's tier period up to `now`."""
    now = now or timezone.now()
    program = program_of(account.brand_id)
    brand = Brand.objects.get(pk=account.brand_id)
    start = _period_start(program, now, brand.time_zone)
    if program.tier_basis == LoyaltyProgram.TierBasis.SPEND:
        purchases = Activity.objects.filter(
            member_id=account.member_id, type="purchase", occurred_at__gte=start, occurred_at__lte=now
        ).values_list("attributes", flat=True)
        spent = sum((Decimal(str(a.get("amount", "0"))) for a in purchases), Decimal(0))
        returns = Activity.objects.filter(
            member_id=account.member_id, type="return", occurred_at__gte=start, occurred_at__lte=now
        ).values_list("attributes", flat=True)
        return spent - sum((Decimal(str(a.get("amount") or 0)) for a in returns), Decimal(0))
    earned = (
        LedgerEntry.objects.filter(
            account=account,
            kind__in=[LedgerEntry.Kind.EARN, LedgerEntry.Kind.REVERSE],
            created_at__gte=start,
        )
        .exclude(activity__isnull=True)
        .aggregate(total=Sum("points"))["total"]
        or 0
    )
    return Decimal(earned)


def tier_for_value(*, brand_id: Any, value: Decimal) -> Tier | None:
    return Tier.objects.filter(brand_id=brand_id, threshold__lte=value).order_by("-threshold").first()


def tier_evaluate(
    *,
    account: PointsAccount,
    upgrade_only: bool,
    now: datetime | None = None,
    reason: str = gettext_noop("Qualified"),
) -> Tier | None:
    """Put the member in the tier they qualify for. Upgrades happen at once; downgrades only when asked."""
    if not Tier.objects.filter(brand_id=account.brand_id).exists():
        return None
    value = tier_qualifying_value(account=account, now=now)
    qualified = tier_for_value(brand_id=account.brand_id, value=value)
    current = account.tier
    if qualified == current:
        return current
    going_up = current is None or (qualified is not None and qualified.threshold > current.threshold)
    if upgrade_only and not going_up:
        return current
    PointsAccount.objects.filter(pk=account.pk).update(tier=qualified, tier_since=now or timezone.now())
    TierChange.objects.create(
        account=account, brand_id=account.brand_id, from_tier=current, to_tier=qualified, reason=reason
    )
    account.tier = qualified
    return qualified


def tiers_review(*, brand: Brand, now: datetime | None = None) -> int:
    """At the period end: downgrade who no longer qualifies (after the grace period). Safe to run twice."""
    now = now or timezone.now()
    program = program_of(brand.pk)
    changed = 0
    for member_id in PointsAccount.objects.filter(brand=brand, tier__isnull=False).values_list(
        "member_id", flat=True
    ):
        with transaction.atomic():
            account = (
                PointsAccount.objects.select_for_update(of=("self",))
                .select_related("tier")
                .get(member_id=member_id)
            )
            if account.tier_since and account.tier_since > now - timedelta(days=program.tier_grace_days):
                continue
            before = account.tier
            after = tier_evaluate(
                account=account, upgrade_only=False, now=now, reason=gettext_noop("Yearly review")
            )
            changed += before != after
    return changed


def tier_progress(*, account: PointsAccount) -> dict[str, Any]:
    """What the portal shows: the current tier, the next one and how far it is."""
    value = tier_qualifying_value(account=account)
    upcoming = (
        Tier.objects.filter(brand_id=account.brand_id, threshold__gt=value).order_by("threshold").first()
    )
    return {
        "tier": account.tier,
        "value": value,
        "next_tier": upcoming,
        "to_next": (upcoming.threshold - value) if upcoming else None,
    }


# --- rewards and redemptions --------------------------------------------------------------------

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
    if kind not in Reward.Kind.values:
        raise ValidationFailed(f"kind must be one of {', '.join(Reward.Kind.values)}", field="kind")
    check_bounds(
        {"cost_points": cost_points, "value": value, "stock": stock, "per_member_limit": per_member_limit}
    )
    if cost_points <= 0:
        raise ValidationFailed("cost_points must be positive", field="cost_points")
    if kind == Reward.Kind.DISCOUNT_PERCENT and not Decimal(0) < value <= Decimal(100):
        raise ValidationFailed("a percent discount is between 0 and 100", field="value")
    if available_from and available_until and available_until <= available_from:
        raise ValidationFailed("available_until must be after available_from", field="available_until")
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
    check_bounds(changes)
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


def _new_coupon_code(brand_id: Any) -> str:
    while True:
        code = "".join(secrets.choice(COUPON_ALPHABET) for _ in range(12))
        if not Coupon.objects.filter(brand_id=brand_id, code=code).exists():
            return code


def reward_open_to(*, reward: Reward, account: PointsAccount, now: datetime | None = None) -> str | None:
    """Why this member may not take this reward now, or None when they may."""
    now = now or timezone.now()
    if not reward.active:
        return "reward_inactive"
    if reward.available_from and now < reward.available_from:
        return "reward_not_yet_available"
    if reward.available_until and now >= reward.available_until:
        return "reward_no_longer_available"
    tier_ids = {tier.pk for tier in reward.tiers.all()}
    if tier_ids and account.tier_id not in tier_ids:
        return "tier_required"
    return None


def check_redemption(*, member: Member, reward: Reward) -> PointsAccount:
    """Lock the member's account and check they may take this reward now."""
    if reward.brand_id != member.brand_id:
        raise NotFound("No such reward", field="reward_id", code="reward_not_found")
    if member.status in ("blocked", "erased"):
        raise Conflict(f"The member is {member.status}", field="member_id", code="member_inactive")
    account = _lock_account(member.pk)
    refusal = reward_open_to(reward=reward, account=account)
    if refusal is not None:
        raise Conflict("This reward is not open to the member now", field="reward_id", code=refusal)
    if account.balance < reward.cost_points:
        raise InsufficientPoints(
            f"The reward costs {reward.cost_points} points and the balance is {account.balance}",
            field="reward_id",
        )
    if reward.per_member_limit is not None:
        taken = Coupon.objects.filter(member=member, reward=reward).exclude(status=Coupon.Status.VOID).count()
        if taken >= reward.per_member_limit:
            raise Conflict("The member reached this reward's limit", field="reward_id", code="limit_reached")
    return account


def do_redemption(*, account: PointsAccount, member: Member, reward: Reward) -> Coupon:
    if reward.stock is not None:
        taken = Reward.objects.filter(pk=reward.pk, stock__gte=1).update(stock=F("stock") - 1)
        if not taken:
            raise Conflict("This reward is out of stock", field="reward_id", code="out_of_stock")
    entry = _spend(
        account=account,
        points=reward.cost_points,
        kind=LedgerEntry.Kind.REDEEM,
        description=reward.name,
        lifetime_redeemed=True,
    )
    now = timezone.now()
    return Coupon.objects.create(
        brand_id=member.brand_id,
        member=member,
        reward=reward,
        code=_new_coupon_code(member.brand_id),
        cost_points=reward.cost_points,
        entry=entry,
        issued_at=now,
        expires_at=now + timedelta(days=reward.coupon_valid_days),
    )


@transaction.atomic
def redemption_create(*, member: Member, reward: Reward) -> Coupon:
    account = check_redemption(member=member, reward=reward)
    return do_redemption(account=account, member=member, reward=reward)


def _lock_coupon(brand: Brand, code: str) -> Coupon:
    coupon = (
        Coupon.objects.select_for_update(of=("self",))
        .select_related("reward", "member")
        .filter(brand=brand, code=code.strip().upper().replace("-", ""))
        .first()
    )
    if coupon is None:
        raise NotFound("No coupon with this code", field="code", code="coupon_not_found")
    return coupon


@transaction.atomic
def coupon_redeem(*, brand: Brand, code: str, store: str = "", actor: Actor = SYSTEM) -> Coupon:
    """A cashier burns a coupon. Unknown: 404; used, cancelled or expired: 409."""
    coupon = _lock_coupon(brand, code)
    now = timezone.now()
    if coupon.status == Coupon.Status.USED:
        raise Conflict("This coupon was already used", field="code", code="coupon_used")
    if coupon.status == Coupon.Status.VOID:
        raise Conflict("This coupon was cancelled", field="code", code="coupon_void")
    if coupon.status == Coupon.Status.EXPIRED or coupon.expires_at <= now:
        raise Conflict("This coupon has expired", field="code", code="coupon_expired")
    coupon.status = Coupon.Status.USED
    coupon.used_at = now
    coupon.used_at_store = store[:200]
    coupon.save(update_fields=["status", "used_at", "used_at_store"])
    audit_record(
        brand=brand,
        actor=actor,
        action="coupon.redeem",
        target_type="coupon",
        target_id=coupon.pk,
        data={"store": store[:200]},
    )
    return coupon


def _refund_coupon(coupon: Coupon, *, description: str) -> LedgerEntry:
    account = _lock_account(coupon.member_id)
    program = program_of(coupon.brand_id)
    now = timezone.now()
    brand = Brand.objects.get(pk=coupon.brand_id)
    entry = _earn(
        account=account,
        points=coupon.cost_points,
        activity=None,
        rule=None,
        description=description,
        expires_at=lot_expiry(program=program, earned_at=now, time_zone=brand.time_zone),
        kind=LedgerEntry.Kind.REVERSE,
    )
    # Giving back redeemed points is not new earning.
    PointsAccount.objects.filter(pk=account.pk).update(
        lifetime_earned=F("lifetime_earned") - coupon.cost_points,
        lifetime_redeemed=F("lifetime_redeemed") - coupon.cost_points,
    )
    if coupon.reward.stock is not None:
        Reward.objects.filter(pk=coupon.reward_id).update(stock=F("stock") + 1)
    coupon.refund_entry = entry
    return entry


@transaction.atomic
def coupon_void(*, brand: Brand, code: str, reason: str, actor: Actor) -> Coupon:
    """Cancel an unused coupon; its points come back to the member. Audited."""
    coupon = _lock_coupon(brand, code)
    if coupon.status != Coupon.Status.ISSUED:
        raise Conflict(
            f"Only an unused coupon can be cancelled; this one is {coupon.status}",
            field="code",
            code=f"coupon_{coupon.status}",
        )
    _refund_coupon(coupon, description=gettext_noop("A cancelled coupon's points came back"))
    coupon.status = Coupon.Status.VOID
    coupon.save(update_fields=["status", "refund_entry"])
    audit_record(
        brand=brand,
        actor=actor,
        action="coupon.void",
        target_type="coupon",
        target_id=coupon.pk,
        data={"reason": reason[:300], "points": coupon.cost_points},
    )
    return coupon


def coupons_expire_due(*, now: datetime | None = None) -> int:
    """Expire unused coupons past their date; refund points where the brand's program says so. Safe twice."""
    now = now or timezone.now()
    done = 0
    due = Coupon.objects.filter(status=Coupon.Status.ISSUED, expires_at__lte=now).values_list("pk", flat=True)
    for coupon_id in list(due[:10_000]):
        with transaction.atomic():
            coupon = Coupon.objects.select_for_update(of=("self",)).select_related("reward").get(pk=coupon_id)
            if coupon.status != Coupon.Status.ISSUED:
                continue
            if program_of(coupon.brand_id).coupon_expiry_refund:
                _refund_coupon(coupon, description=gettext_noop("An expired coupon's points came back"))
            coupon.status = Coupon.Status.EXPIRED
            coupon.save(update_fields=["status", "refund_entry"])
            done += 1
    return done


# --- staff adjustments, transfers, surprises -------------------------------------------------------


@transaction.atomic
def points_adjust(*, member: Member, points: int, reason: str, actor: Actor) -> LedgerEntry:
    """Staff add or take points with a reason; audited."""
    if points == 0:
        raise ValidationFailed("points must not be zero", field="points")
    check_points_operation(points)
    if not reason.strip():
        raise ValidationFailed("a reason is required", field="reason")
    account = _lock_account(member.pk)
    if points > 0:
        program = program_of(member.brand_id)
        entry = _earn(
            account=account,
            points=points,
            activity=None,
            rule=None,
            description=reason.strip(),
            expires_at=lot_expiry(
                program=program, earned_at=timezone.now(), time_zone=member.brand.time_zone
            ),
            kind=LedgerEntry.Kind.ADJUST,
        )
    else:
        try:
            entry = _spend(
                account=account, points=-points, kind=LedgerEntry.Kind.ADJUST, description=reason.strip()
            )
        except InsufficientPoints:
            raise InsufficientPoints(
                f"The balance is {account.balance}; cannot take {-points}", field="points"
            ) from None
    audit_record(
        brand=member.brand,
        actor=actor,
        action="points.adjust",
        target_type="member",
        target_id=member.pk,
        data={"points": points, "reason": reason.strip()},
    )
    return entry


@transaction.atomic
def points_transfer(*, sender: Member, receiver: Member, points: int, actor: Actor = SYSTEM) -> LedgerEntry:
    """Move points between two members of one brand, where the brand allows it. Expiry dates travel along."""
    if sender.brand_id != receiver.brand_id:
        raise NotFound("No such member", field="to_member_id", code="member_not_found")
    if sender.pk == receiver.pk:
        raise ValidationFailed("A member cannot transfer to themselves", field="to_member_id")
    if points <= 0:
        raise ValidationFailed("points must be positive", field="points")
    if not program_of(sender.brand_id).allow_transfers:
        raise PermissionDenied("This club does not allow transfers", code="transfers_disabled")
    accounts = _lock_accounts([sender.pk, receiver.pk])
    check_points_credit(
        balance=accounts[receiver.pk].balance, pending=accounts[receiver.pk].pending, points=points
    )
    out = _spend(
        account=accounts[sender.pk],
        points=points,
        kind=LedgerEntry.Kind.TRANSFER,
        description=gettext_noop("Transferred to another member"),
    )
    receiving = accounts[receiver.pk]
    for consumption in out.consumptions.select_related("lot"):
        PointsLot.objects.create(
            account=receiving,
            brand_id=receiving.brand_id,
            points=consumption.points,
            remaining=consumption.points,
            earned_at=timezone.now(),
            expires_at=consumption.lot.expires_at,
        )
    PointsAccount.objects.filter(pk=receiving.pk).update(balance=F("balance") + points)
    _refresh(receiving)
    incoming = LedgerEntry.objects.create(
        account=receiving,
        brand_id=receiving.brand_id,
        kind=LedgerEntry.Kind.TRANSFER,
        points=points,
        balance_after=receiving.balance,
        description=gettext_noop("Transferred from another member"),
    )
    audit_record(
        brand=sender.brand,
        actor=actor,
        action="points.transfer",
        target_type="member",
        target_id=sender.pk,
        data={"to": str(receiver.pk), "points": points},
    )
    return incoming


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


# --- scheduled work: release pending, expire, warn -------------------------------------------------


def _each_account_with_due_lots(
    *, state: str, due: Q, handle: Callable[[PointsAccount, list[PointsLot]], int]
) -> int:
    """For every account holding such lots: lock it, then its lots, and let `handle` act in one transaction.

    Lots are re-read under the lock, so a second run (or a concurrent one) finds nothing left to do.
    """
    done = 0
    account_ids = PointsLot.objects.filter(due, state=state).values_list("account_id", flat=True).distinct()
    for account_id in list(account_ids):
        with transaction.atomic():
            account = _lock_account(account_id)
            lots = list(PointsLot.objects.select_for_update().filter(due, account=account, state=state))
            if lots:
                done += handle(account, lots)
    return done


def _release(account: PointsAccount, lots: list[PointsLot]) -> int:
    total = sum(lot.remaining for lot in lots)
    PointsLot.objects.filter(pk__in=[lot.pk for lot in lots]).update(state=PointsLot.State.AVAILABLE)
    PointsAccount.objects.filter(pk=account.pk).update(
        pending=F("pending") - total, balance=F("balance") + total
    )
    _refresh(account)
    if total:
        LedgerEntry.objects.create(
            account=account,
            brand_id=account.brand_id,
            kind=LedgerEntry.Kind.RELEASE,
            points=0,
            balance_after=account.balance,
            description=gettext_noop("Pending points became spendable"),
        )
    return total


def _expire(account: PointsAccount, lots: list[PointsLot]) -> int:
    total = sum(lot.remaining for lot in lots)
    if total:
        entry = LedgerEntry.objects.create(
            account=account,
            brand_id=account.brand_id,
            kind=LedgerEntry.Kind.EXPIRE,
            points=-total,
            balance_after=account.balance - total,
            description=gettext_noop("Points expired"),
        )
        _take_from_lots(account=account, points=total, entry=entry, lots=lots)
        PointsAccount.objects.filter(pk=account.pk).update(balance=F("balance") - total)
    PointsLot.objects.filter(pk__in=[lot.pk for lot in lots]).update(state=PointsLot.State.EXPIRED)
    return total


def lots_release_due(*, now: datetime | None = None) -> int:
    """Pending lots whose return window ended become spendable. Safe to run twice."""
    due = Q(available_at__lte=now or timezone.now())
    return _each_account_with_due_lots(state=PointsLot.State.PENDING, due=due, handle=_release)


def lots_expire_due(*, now: datetime | None = None) -> int:
    """Expire what is left of lots past their date, lot by lot. Safe to run twice."""
    due = Q(expires_at__lte=now or timezone.now())
    return _each_account_with_due_lots(state=PointsLot.State.AVAILABLE, due=due, handle=_expire)


def points_expiry_warn(*, now: datetime | None = None) -> int:
    """Emit `points_expiring` once per member and expiry day, for the campaigns part to send the reminder."""
    from kesher.activity.services import activity_record

    now = now or timezone.now()
    warned = 0
    for program in LoyaltyProgram.objects.exclude(expiry=LoyaltyProgram.Expiry.NEVER).select_related("brand"):
        horizon = now + timedelta(days=program.expiry_warning_days)
        due = (
            PointsLot.objects.filter(
                brand_id=program.brand_id,
                state=PointsLot.State.AVAILABLE,
                remaining__gt=0,
                expires_at__gt=now,
                expires_at__lte=horizon,
            )
            .values("account_id")
            .annotate(total=Sum("remaining"), first=Min("expires_at"))
        )
        for row in due:
            member = Member.objects.get(pk=row["account_id"])
            if member.status not in ("active", "prospect"):
                continue
            expiry_day = timezone.localtime(row["first"], zoneinfo.ZoneInfo(program.brand.time_zone)).date()
            _, created = activity_record(
                brand=program.brand,
                member=member,
                type="points_expiring",
                source="loyalty",
                external_id=f"expiring:{member.pk}:{expiry_day.isoformat()}",
                attributes={"points": row["total"], "expires_on": expiry_day.isoformat()},
            )
            warned += created
    return warned


# --- referrals ------------------------------------------------------------------------------------


def referral_on_signup(activity: Activity) -> None:
    """Immediate consumer of `signup`: link the friend to their referrer and note anything suspect."""
    friend = activity.member
    referrer = friend.referred_by
    if referrer is None or Referral.objects.filter(friend=friend).exists():
        return
    suspicions: list[str] = []
    if referrer.pk == friend.pk:
        suspicions.append("self_referral")
    if (friend.email and friend.email == referrer.email) or (friend.phone and friend.phone == referrer.phone):
        suspicions.append("same_contact_as_referrer")
    shared = Member.objects.filter(brand_id=friend.brand_id).exclude(pk=friend.pk)
    contact = Q()
    if friend.phone:
        contact |= Q(phone=friend.phone)
    if friend.email:
        local, _, domain = friend.email.partition("@")
        contact |= Q(email__iexact=f"{local.split('+')[0]}@{domain}")
    if contact and shared.filter(contact).exclude(pk=referrer.pk).exists():
        suspicions.append("contact_used_by_another_member")
    recent = Referral.objects.filter(
        referrer=referrer, created_at__gte=timezone.now() - timedelta(days=1)
    ).count()
    if recent >= program_of(friend.brand_id).referral_review_threshold:
        suspicions.append("many_referrals_in_a_day")
    Referral.objects.create(brand_id=friend.brand_id, referrer=referrer, friend=friend, suspicions=suspicions)


def referral_on_purchase(activity: Activity) -> None:
    """Immediate consumer of `purchase`: the friend's first purchase pays both sides (or waits for review)."""
    if activity.member.referred_by_id is None:
        return
    referral = (
        Referral.objects.select_for_update()
        .filter(friend_id=activity.member_id, status=Referral.Status.JOINED)
        .first()
    )
    if referral is None:
        return
    earlier = Activity.objects.filter(member_id=activity.member_id, type="purchase").exclude(pk=activity.pk)
    if earlier.exists():
        referral.suspicions = [*referral.suspicions, "not_the_first_purchase"]
    referral.purchase = activity
    if referral.suspicions:
        referral.status = Referral.Status.REVIEW
        referral.save(update_fields=["status", "suspicions", "purchase"])
        return
    referral.save(update_fields=["purchase"])
    transaction.on_commit(lambda: _pay_referral_later(referral.pk))


def _pay_referral_later(referral_id: Any) -> None:
    from kesher.loyalty.tasks import referral_pay

    referral_pay.delay(str(referral_id))


def referral_pay(*, referral_id: Any) -> bool:
    """Reward both sides through `referral` activities (the brand's rules decide the points). Safe twice."""
    from kesher.activity.services import activity_record

    with transaction.atomic():
        referral = (
            Referral.objects.select_for_update()
            .select_related("brand", "referrer", "friend")
            .get(pk=referral_id)
        )
        if (
            referral.status not in (Referral.Status.JOINED, Referral.Status.REVIEW)
            or referral.purchase_id is None
        ):
            return False
        for side, member in (("referrer", referral.referrer), ("friend", referral.friend)):
            activity_record(
                brand=referral.brand,
                member=member,
                type="referral",
                source="loyalty",
                external_id=f"referral:{referral.pk}:{side}",
                attributes={"referred_member_id": str(referral.friend_id), "side": side},
            )
        referral.status = Referral.Status.REWARDED
        referral.decided_at = timezone.now()
        referral.save(update_fields=["status", "decided_at"])
    return True


@transaction.atomic
def referral_decide(*, referral: Referral, approve: bool, actor: Actor) -> Referral:
    """Staff decide a suspect referral: approve pays both sides, reject closes it. Audited."""
    if referral.status != Referral.Status.REVIEW:
        raise Conflict(f"This referral is {referral.status}, not waiting for review", code="not_in_review")
    audit_record(
        brand=referral.brand,
        actor=actor,
        action="referral.approve" if approve else "referral.reject",
        target_type="referral",
        target_id=referral.pk,
        data={"suspicions": referral.suspicions},
    )
    if approve:
        referral_pay(referral_id=referral.pk)
    else:
        Referral.objects.filter(pk=referral.pk).update(
            status=Referral.Status.REJECTED, decided_at=timezone.now()
        )
    referral.refresh_from_db()
    return referral


# --- reports --------------------------------------------------------------------------------------


def points_liability(*, brand: Brand) -> dict[str, Any]:
    """Outstanding points, their money value and when they expire, by month."""
    from django.db.models.functions import TruncMonth

    program = program_of(brand.pk)
    lots = PointsLot.objects.filter(
        brand=brand, remaining__gt=0, state__in=[PointsLot.State.AVAILABLE, PointsLot.State.PENDING]
    )
    totals = lots.aggregate(points=Sum("remaining"))
    outstanding = totals["points"] or 0
    by_month = [
        {
            "month": row["month"].date().isoformat() if row["month"] else None,
            "points": row["points"],
            "value": str((Decimal(row["points"]) * program.point_value).quantize(Decimal("0.01"))),
        }
        for row in lots.annotate(month=TruncMonth("expires_at", tzinfo=zoneinfo.ZoneInfo(brand.time_zone)))
        .values("month")
        .annotate(points=Sum("remaining"))
        .order_by(F("month").asc(nulls_last=True))
    ]
    return {
        "outstanding_points": outstanding,
        "pending_points": lots.filter(state=PointsLot.State.PENDING).aggregate(p=Sum("remaining"))["p"] or 0,
        "value": str((Decimal(outstanding) * program.point_value).quantize(Decimal("0.01"))),
        "currency": brand.currency,
        "point_value": str(program.point_value),
        "by_expiry_month": by_month,
    }


# --- verification -------------------------------------------------------------------------------


def ledger_verify(*, brand: Brand | None = None) -> list[str]:
    """Every breach of the ledger's invariants, as readable lines; empty when all hold."""
    accounts = PointsAccount.objects.all()
    lots = PointsLot.objects.all()
    entries = LedgerEntry.objects.all()
    if brand is not None:
        accounts, lots, entries = (
            accounts.filter(brand=brand),
            lots.filter(brand=brand),
            entries.filter(brand=brand),
        )
    breaches: list[str] = []
    spendable = dict(
        lots.filter(state=PointsLot.State.AVAILABLE)
        .values_list("account_id")
        .annotate(total=Sum("remaining"))
    )
    pending = dict(
        lots.filter(state=PointsLot.State.PENDING).values_list("account_id").annotate(total=Sum("remaining"))
    )
    for account_id, balance, pend, allow_debt in accounts.values_list(
        "member_id", "balance", "pending", "allow_debt"
    ):
        lots_total = spendable.get(account_id, 0)
        # With debt allowed the balance may sit below the lots by the unrecovered amount, never above them.
        if balance != lots_total and not (allow_debt and balance < 0 and lots_total == 0):
            breaches.append(f"account {account_id}: balance {balance} != spendable lots {lots_total}")
        if pend != pending.get(account_id, 0):
            breaches.append(
                f"account {account_id}: pending {pend} != pending lots {pending.get(account_id, 0)}"
            )
        if balance < 0 and not allow_debt:
            breaches.append(f"account {account_id}: balance {balance} below zero")
    for lot_id in lots.filter(Q(remaining__lt=0) | Q(remaining__gt=F("points"))).values_list("id", flat=True):
        breaches.append(f"lot {lot_id}: remaining outside 0..points")
    for lot_id in lots.filter(
        state__in=[PointsLot.State.EXPIRED, PointsLot.State.REVERSED], remaining__gt=0
    ).values_list("id", flat=True):
        breaches.append(f"lot {lot_id}: expired but still holds points")
    uncovered = (
        entries.filter(
            kind__in=[LedgerEntry.Kind.REDEEM, LedgerEntry.Kind.EXPIRE, LedgerEntry.Kind.TRANSFER],
            points__lt=0,
        )
        .annotate(n=Count("consumptions"), covered=Sum("consumptions__points"))
        .exclude(covered=-F("points"))
        .values_list("id", flat=True)
    )
    for entry_id in uncovered:
        breaches.append(f"entry {entry_id}: not covered exactly by its lots")
    return breaches


# --- birthdays and store check-ins ------------------------------------------------------------------


def birthdays_emit(*, today: Any = None) -> int:
    """Emit one `birthday` activity per member on their birthday (the default rule gives 50 points).

    Runs from the tick; the (source, reference) key makes a second run that day do nothing. Members born
    on 29 February celebrate on 28 February in common years.
    """
    from kesher.activity.services import activity_record
    from kesher.members.selectors import members_born_on

    emitted = 0
    for brand in Brand.objects.all():
        local_today = today or timezone.localtime(timezone.now(), zoneinfo.ZoneInfo(brand.time_zone)).date()
        members = members_born_on(brand_id=brand.pk, day=local_today).filter(status="active")
        for member in members.iterator():
            _, created = activity_record(
                brand=brand,
                member=member,
                type="birthday",
                source="loyalty",
                external_id=f"birthday:{member.pk}:{local_today.year}",
                attributes={"year": local_today.year},
            )
            emitted += created
    return emitted


def store_check_in(*, member: Member, store_code: str, now: datetime | None = None) -> tuple[Activity, bool]:
    """A member scanned a store's QR code: one `visit` per store per day, which a rule may reward."""
    from kesher.activity.services import activity_record
    from kesher.loyalty.models import Store

    store = Store.objects.filter(brand_id=member.brand_id, code=store_code, active=True).first()
    if store is None:
        raise NotFound("No such store", field="store", code="store_not_found")
    now = now or timezone.now()
    day = timezone.localtime(now, zoneinfo.ZoneInfo(member.brand.time_zone)).date()
    return activity_record(
        brand=member.brand,
        member=member,
        type="visit",
        source="check_in",
        occurred_at=now,
        external_id=f"check-in:{member.pk}:{store.code}:{day.isoformat()}",
        attributes={"store": store.name},
    )
