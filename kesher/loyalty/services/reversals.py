"""Taking points back: a return of a purchase, or an activity whose points no longer stand."""

from __future__ import annotations

import uuid
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils.translation import gettext_noop

from kesher.activity.models import Activity
from kesher.core.audit import SYSTEM, Actor, audit_record
from kesher.core.errors import ValidationFailed
from kesher.loyalty.models import LedgerEntry, PointsAccount, PointsLot
from kesher.loyalty.services._ledger import _lock_account, _refresh, _take_from_lots
from kesher.loyalty.services.program import program_of


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
