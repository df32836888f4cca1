"""Checking the ledger's invariants: balances match their lots, and every spend is covered by lots."""

from __future__ import annotations

from django.db.models import Count, F, Q, Sum

from kesher.brands.models import Brand
from kesher.loyalty.models import LedgerEntry, PointsAccount, PointsLot


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
