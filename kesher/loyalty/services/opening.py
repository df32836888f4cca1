"""Opening balances brought from another loyalty system: one lot per balance, with its own expiry date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from kesher.brands.models import Brand
from kesher.core.audit import Actor, audit_record
from kesher.core.bulk import rows_insert, rows_update
from kesher.core.errors import ValidationFailed
from kesher.core.limits import check_points_credit
from kesher.loyalty.models import LedgerEntry, PointsAccount, PointsLot
from kesher.loyalty.services._ledger import _lock_accounts


@dataclass(frozen=True)
class OpeningBalance:
    member_id: Any
    points: int
    expires_at: datetime | None
    description: str


@transaction.atomic
def points_open_balances(*, brand: Brand, balances: list[OpeningBalance], actor: Actor, source: str) -> int:
    """Post each balance as an available lot expiring when the old system said, with its ledger line; the
    accounts are locked in key order and written once each (a few statements for a whole batch). Audited
    once per batch with the total."""
    if not balances:
        return 0
    accounts: dict[Any, PointsAccount] = _lock_accounts(b.member_id for b in balances)
    now = timezone.now()
    lots: list[PointsLot] = []
    entries: list[LedgerEntry] = []
    for balance in balances:
        if balance.points <= 0:
            raise ValidationFailed("an opening balance is positive", field="points")
        account = accounts.get(balance.member_id)
        if account is None or account.brand_id != brand.pk:
            raise ValidationFailed(f"No points account for member {balance.member_id}", field="member")
        check_points_credit(balance=account.balance, pending=account.pending, points=balance.points)
        if balance.expires_at is not None and balance.expires_at <= now:
            continue  # already expired in the old system: nothing to spend, reported by the count
        lots.append(
            PointsLot(
                account=account,
                brand_id=brand.pk,
                points=balance.points,
                remaining=balance.points,
                earned_at=now,
                state=PointsLot.State.AVAILABLE,
                expires_at=balance.expires_at,
            )
        )
        account.balance += balance.points
        account.lifetime_earned += balance.points
        entries.append(
            LedgerEntry(
                account=account,
                brand_id=brand.pk,
                kind=LedgerEntry.Kind.ADJUST,
                points=balance.points,
                balance_after=account.balance,
                description=balance.description[:300],
            )
        )
    rows_insert(PointsLot, lots)
    # A ledger line names no lot; both are written for the same balances in the same order.
    rows_insert(LedgerEntry, entries)
    rows_update(PointsAccount, list(accounts.values()), ["balance", "lifetime_earned"])
    audit_record(
        brand=brand,
        actor=actor,
        action="points.opening_balances",
        target_type="brand",
        target_id=brand.pk,
        data={
            "source": source[:200],
            "members": len(balances),
            "points": sum(e.points for e in entries),
            "expired_on_arrival": len(balances) - len(entries),
        },
    )
    return len(entries)
