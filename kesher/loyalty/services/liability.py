"""The points liability: what the club owes its members in points and money, and when it expires."""

from __future__ import annotations

import zoneinfo
from decimal import Decimal
from typing import Any

from django.db.models import F, Sum
from django.db.models.functions import TruncMonth

from kesher.brands.models import Brand
from kesher.loyalty.models import PointsLot
from kesher.loyalty.services.program import program_of


def points_liability(*, brand: Brand) -> dict[str, Any]:
    """Outstanding points, their money value and when they expire, by month."""
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
