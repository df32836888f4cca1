"""Every write to the points ledger, rules, rewards and coupons. Accounts are locked before lots."""

from __future__ import annotations

import secrets
from datetime import timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_noop

from kesher.activity.models import Activity
from kesher.brands.models import Brand
from kesher.core.audit import SYSTEM, Actor, audit_record
from kesher.core.errors import Conflict, InsufficientPoints, NotFound, ValidationFailed
from kesher.loyalty.models import (
    Coupon,
    EarningRule,
    LedgerEntry,
    LotConsumption,
    PointsAccount,
    PointsLot,
    Reward,
)
from kesher.members.models import Member

COUPON_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

# The default program a new brand starts with (issue: loyalty engine). All of it is editable.
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


def program_install_defaults(*, brand: Brand) -> None:
    for spec in DEFAULT_PROGRAM:
        EarningRule.objects.create(brand=brand, **spec)


def account_open(*, member: Member) -> PointsAccount:
    account, _ = PointsAccount.objects.get_or_create(member=member, defaults={"brand_id": member.brand_id})
    return account


def _lock_account(member_id: Any) -> PointsAccount:
    return PointsAccount.objects.select_for_update().get(member_id=member_id)


# --- earning -------------------------------------------------------------------------------------


def _rule_points(rule: EarningRule, activity: Activity) -> int:
    attributes = activity.attributes
    if rule.stores and attributes.get("store") not in rule.stores:
        return 0
    amount = Decimal(str(attributes.get("amount", "0")))
    if rule.min_amount is not None and amount < rule.min_amount:
        return 0
    if rule.effect == EarningRule.Effect.FIXED:
        return rule.points
    units = (amount / rule.per_amount).to_integral_value(rounding=ROUND_FLOOR)
    return int(units) * rule.points


def _within_daily_limit(rule: EarningRule, activity: Activity) -> bool:
    if rule.daily_limit is None:
        return True
    day_start = timezone.localtime(activity.occurred_at).replace(hour=0, minute=0, second=0, microsecond=0)
    awarded = LedgerEntry.objects.filter(
        account_id=activity.member_id,
        rule=rule,
        kind=LedgerEntry.Kind.EARN,
        activity__occurred_at__gte=day_start,
        activity__occurred_at__lt=day_start + timedelta(days=1),
    ).count()
    return awarded < rule.daily_limit


def points_earn_for_activity(activity: Activity) -> None:
    """The immediate consumer: award what the brand's rules say, in the activity's own transaction."""
    now = activity.occurred_at
    rules = EarningRule.objects.filter(
        brand_id=activity.brand_id, activity_type=activity.type, active=True
    ).filter(
        Q(valid_from__isnull=True) | Q(valid_from__lte=now),
        Q(valid_until__isnull=True) | Q(valid_until__gt=now),
    )
    account = _lock_account(activity.member_id)
    total = 0
    for rule in rules:
        points = _rule_points(rule, activity)
        if points <= 0 or not _within_daily_limit(rule, activity):
            continue
        _earn(account=account, points=points, activity=activity, rule=rule, description=rule.name)
        total += points
    activity.points_awarded = total
    activity.balance_after = account.balance


def _earn(
    *,
    account: PointsAccount,
    points: int,
    activity: Activity | None,
    rule: EarningRule | None,
    description: str,
) -> LedgerEntry:
    PointsLot.objects.create(
        account=account,
        brand_id=account.brand_id,
        activity=activity,
        rule=rule,
        points=points,
        remaining=points,
        earned_at=timezone.now(),
    )
    PointsAccount.objects.filter(pk=account.pk).update(
        balance=F("balance") + points, lifetime_earned=F("lifetime_earned") + points
    )
    account.refresh_from_db(fields=["balance", "pending", "lifetime_earned", "lifetime_redeemed"])
    return LedgerEntry.objects.create(
        account=account,
        brand_id=account.brand_id,
        kind=LedgerEntry.Kind.EARN,
        points=points,
        balance_after=account.balance,
        activity=activity,
        rule=rule,
        description=description,
    )


def _take_from_lots(
    *, account: PointsAccount, points: int, entry: LedgerEntry, lots: list[PointsLot] | None = None
) -> None:
    """Spend `points` from lots, soonest-expiring first (never-expiring last), oldest first within."""
    if lots is None:
        lots = list(
            PointsLot.objects.select_for_update()
            .filter(account=account, state=PointsLot.State.AVAILABLE, remaining__gt=0)
            .order_by(F("expires_at").asc(nulls_last=True), "earned_at", "id")
        )
    left = points
    for lot in lots:
        if left == 0:
            break
        take = min(lot.remaining, left)
        PointsLot.objects.filter(pk=lot.pk).update(remaining=F("remaining") - take)
        LotConsumption.objects.create(entry=entry, lot=lot, points=take)
        left -= take
    if left:
        # The account said the points were there; lots disagree. Refuse rather than corrupt the ledger.
        raise Conflict(
            "The ledger's lots do not cover the balance; run `kesher ledger verify`",
            code="ledger_inconsistent",
        )


# --- rules --------------------------------------------------------------------------------------


def earning_rule_create(
    *,
    brand: Brand,
    name: str,
    activity_type: str,
    effect: str,
    points: int,
    per_amount: Decimal = Decimal(1),
    min_amount: Decimal | None = None,
    stores: list[str] | None = None,
    daily_limit: int | None = None,
    priority: int = 100,
    valid_from: Any = None,
    valid_until: Any = None,
    actor: Actor = SYSTEM,
) -> EarningRule:
    from kesher.activity.registry import registry

    if activity_type not in registry.types:
        raise ValidationFailed(f"Unknown activity type {activity_type!r}", field="activity_type")
    if effect not in EarningRule.Effect.values:
        raise ValidationFailed("effect must be fixed or per_unit", field="effect")
    if valid_from and valid_until and valid_until <= valid_from:
        raise ValidationFailed("valid_until must be after valid_from", field="valid_until")
    with transaction.atomic():
        rule = EarningRule.objects.create(
            brand=brand,
            name=name,
            activity_type=activity_type,
            effect=effect,
            points=points,
            per_amount=per_amount,
            min_amount=min_amount,
            stores=stores or [],
            daily_limit=daily_limit,
            priority=priority,
            valid_from=valid_from,
            valid_until=valid_until,
        )
        audit_record(
            brand=brand,
            actor=actor,
            action="earning_rule.create",
            target_type="earning_rule",
            target_id=rule.pk,
            data={"name": name, "activity_type": activity_type, "points": points},
        )
    return rule


# --- rewards and redemptions --------------------------------------------------------------------


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
    actor: Actor = SYSTEM,
) -> Reward:
    if kind not in Reward.Kind.values:
        raise ValidationFailed(f"kind must be one of {', '.join(Reward.Kind.values)}", field="kind")
    if cost_points <= 0:
        raise ValidationFailed("cost_points must be positive", field="cost_points")
    if kind == Reward.Kind.DISCOUNT_PERCENT and not Decimal(0) < value <= Decimal(100):
        raise ValidationFailed("a percent discount is between 0 and 100", field="value")
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
        )
        audit_record(
            brand=brand,
            actor=actor,
            action="reward.create",
            target_type="reward",
            target_id=reward.pk,
            data={"name": name, "cost_points": cost_points},
        )
    return reward


def _new_coupon_code(brand: Brand) -> str:
    while True:
        code = "".join(secrets.choice(COUPON_ALPHABET) for _ in range(12))
        if not Coupon.objects.filter(brand=brand, code=code).exists():
            return code


def check_redemption(*, member: Member, reward: Reward) -> PointsAccount:
    """Lock the member's account and check they may take this reward now."""
    if reward.brand_id != member.brand_id:
        raise NotFound("No such reward", field="reward_id", code="reward_not_found")
    if not reward.active:
        raise Conflict("This reward is no longer offered", field="reward_id", code="reward_inactive")
    account = _lock_account(member.pk)
    if account.balance < reward.cost_points:
        raise InsufficientPoints(
            f"The reward costs {reward.cost_points} points and the balance is {account.balance}",
            field="reward_id",
        )
    if reward.per_member_limit is not None:
        taken = Coupon.objects.filter(member=member, reward=reward).count()
        if taken >= reward.per_member_limit:
            raise Conflict("The member reached this reward's limit", field="reward_id", code="limit_reached")
    return account


def do_redemption(*, account: PointsAccount, member: Member, reward: Reward) -> Coupon:
    if reward.stock is not None:
        taken = Reward.objects.filter(pk=reward.pk, stock__gte=1).update(stock=F("stock") - 1)
        if not taken:
            raise Conflict("This reward is out of stock", field="reward_id", code="out_of_stock")
    cost = reward.cost_points
    updated = PointsAccount.objects.filter(pk=account.pk, balance__gte=cost).update(
        balance=F("balance") - cost, lifetime_redeemed=F("lifetime_redeemed") + cost
    )
    if not updated:
        raise InsufficientPoints("The balance is too low for this reward", field="reward_id")
    account.refresh_from_db(fields=["balance", "lifetime_redeemed"])
    entry = LedgerEntry.objects.create(
        account=account,
        brand_id=account.brand_id,
        kind=LedgerEntry.Kind.REDEEM,
        points=-cost,
        balance_after=account.balance,
        description=reward.name,
    )
    _take_from_lots(account=account, points=cost, entry=entry)
    now = timezone.now()
    return Coupon.objects.create(
        brand_id=member.brand_id,
        member=member,
        reward=reward,
        code=_new_coupon_code(member.brand),
        cost_points=cost,
        entry=entry,
        issued_at=now,
        expires_at=now + timedelta(days=reward.coupon_valid_days),
    )


@transaction.atomic
def redemption_create(*, member: Member, reward: Reward) -> Coupon:
    account = check_redemption(member=member, reward=reward)
    return do_redemption(account=account, member=member, reward=reward)


@transaction.atomic
def coupon_redeem(*, brand: Brand, code: str, store: str = "", actor: Actor = SYSTEM) -> Coupon:
    """A cashier burns a coupon. Unknown: 404; used or expired: 409."""
    coupon = (
        Coupon.objects.select_for_update()
        .select_related("reward", "member")
        .filter(brand=brand, code=code.strip().upper())
        .first()
    )
    if coupon is None:
        raise NotFound("No coupon with this code", field="code", code="coupon_not_found")
    now = timezone.now()
    if coupon.status == Coupon.Status.USED:
        raise Conflict("This coupon was already used", field="code", code="coupon_used")
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


# --- staff adjustments --------------------------------------------------------------------------


@transaction.atomic
def points_adjust(*, member: Member, points: int, reason: str, actor: Actor) -> LedgerEntry:
    """Staff add or take points with a reason; audited."""
    if points == 0:
        raise ValidationFailed("points must not be zero", field="points")
    if not reason.strip():
        raise ValidationFailed("a reason is required", field="reason")
    account = _lock_account(member.pk)
    if points > 0:
        entry = _earn(account=account, points=points, activity=None, rule=None, description=reason.strip())
        LedgerEntry.objects.filter(pk=entry.pk).update(kind=LedgerEntry.Kind.ADJUST)
        entry.kind = LedgerEntry.Kind.ADJUST
    else:
        take = -points
        if not PointsAccount.objects.filter(pk=account.pk, balance__gte=take).update(
            balance=F("balance") - take
        ):
            raise InsufficientPoints(f"The balance is {account.balance}; cannot take {take}", field="points")
        account.refresh_from_db(fields=["balance"])
        entry = LedgerEntry.objects.create(
            account=account,
            brand_id=account.brand_id,
            kind=LedgerEntry.Kind.ADJUST,
            points=points,
            balance_after=account.balance,
            description=reason.strip(),
        )
        _take_from_lots(account=account, points=take, entry=entry)
    audit_record(
        brand=member.brand,
        actor=actor,
        action="points.adjust",
        target_type="member",
        target_id=member.pk,
        data={"points": points, "reason": reason.strip()},
    )
    return entry


# --- verification -------------------------------------------------------------------------------


def ledger_verify(*, brand: Brand | None = None) -> list[str]:
    """Every breach of the ledger's invariants, as readable lines; empty when all hold."""
    accounts = PointsAccount.objects.all()
    lots = PointsLot.objects.all()
    if brand is not None:
        accounts = accounts.filter(brand=brand)
        lots = lots.filter(brand=brand)
    breaches: list[str] = []
    spendable = dict(
        lots.filter(state=PointsLot.State.AVAILABLE)
        .values_list("account_id")
        .annotate(total=Sum("remaining"))
    )
    pending = dict(
        lots.filter(state=PointsLot.State.PENDING).values_list("account_id").annotate(total=Sum("remaining"))
    )
    for account_id, balance, pend in accounts.values_list("member_id", "balance", "pending"):
        if balance != spendable.get(account_id, 0):
            breaches.append(
                f"account {account_id}: balance {balance} != spendable lots {spendable.get(account_id, 0)}"
            )
        if pend != pending.get(account_id, 0):
            breaches.append(
                f"account {account_id}: pending {pend} != pending lots {pending.get(account_id, 0)}"
            )
    for lot_id in lots.filter(Q(remaining__lt=0) | Q(remaining__gt=F("points"))).values_list("id", flat=True):
        breaches.append(f"lot {lot_id}: remaining outside 0..points")
    redemptions = LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REDEEM)
    if brand is not None:
        redemptions = redemptions.filter(brand=brand)
    uncovered = (
        redemptions.annotate(n=Count("consumptions"), covered=Sum("consumptions__points"))
        .exclude(covered=-F("points"))
        .values_list("id", flat=True)
    )
    for entry_id in uncovered:
        breaches.append(f"redemption {entry_id}: not covered exactly by its lots")
    return breaches
