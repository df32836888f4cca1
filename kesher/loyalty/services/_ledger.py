"""The ledger's moves the writes share: lock accounts, post earned points as a lot, spend from lots.

The caller holds the transaction; locking order, always: points accounts by primary key, then their lots.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import F
from django.utils import timezone

from kesher.activity.models import Activity
from kesher.core.bulk import rows_in, rows_insert, rows_update
from kesher.core.errors import Conflict, InsufficientPoints
from kesher.core.events import event_emit, event_type
from kesher.core.limits import check_points_credit
from kesher.core.rows import row_get
from kesher.loyalty.models import EarningRule, LedgerEntry, LotConsumption, PointsAccount, PointsLot

POINTS_CHANGED = event_type(
    "points.changed", "A member's points changed (earned, spent, expired, reversed, adjusted)"
)


def points_announce(*, account: PointsAccount, entry: LedgerEntry) -> None:
    """The points.changed event for a ledger line just written (heard after the commit; no query)."""
    event_emit(
        brand_id=account.brand_id,
        type=POINTS_CHANGED,
        data={
            "member_id": str(account.member_id),
            "kind": entry.kind,
            "points": entry.points,
            "pending": entry.pending,
            "balance": account.balance,
            "pending_balance": account.pending,
            "activity_id": str(entry.activity_id) if entry.activity_id else None,
        },
    )


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
    points_announce(account=account, entry=entry)
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
    points_announce(account=account, entry=entry)
    return entry
