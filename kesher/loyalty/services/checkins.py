"""Store check-ins: a member scans a store's QR code and gets one `visit` a day there."""

from __future__ import annotations

import zoneinfo
from datetime import datetime

from django.utils import timezone

from kesher.activity.models import Activity
from kesher.activity.services import activity_record
from kesher.core.errors import NotFound
from kesher.loyalty.models import Store
from kesher.members.models import Member


def store_check_in(*, member: Member, store_code: str, now: datetime | None = None) -> tuple[Activity, bool]:
    """A member scanned a store's QR code: one `visit` per store per day, which a rule may reward."""
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
