"""When points expire, and the scheduled work on lots: pending released, lots expired, members warned."""

from __future__ import annotations

import calendar
import zoneinfo
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Min, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_noop

from kesher.activity.services import activity_record
from kesher.loyalty.models import LedgerEntry, LoyaltyProgram, PointsAccount, PointsLot
from kesher.loyalty.services._ledger import _lock_account, _refresh, _take_from_lots
from kesher.members.models import Member


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
