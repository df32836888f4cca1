"""Reads for the privacy part: the staff access log, always inside one brand."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from kesher.brands.models import Brand
from kesher.privacy.models import StaffAccessLog


def access_log(
    *, brand: Brand, member_id: uuid.UUID | None = None, limit: int = 200
) -> QuerySet[StaffAccessLog]:
    rows = StaffAccessLog.objects.filter(brand=brand)
    if member_id is not None:
        rows = rows.filter(member_id=member_id)
    return rows.select_related("user", "api_key").order_by("-at", "-id")[:limit]
