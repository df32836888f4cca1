"""Birthdays: one `birthday` activity per member on the day, for the brand's rules to reward."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.utils import timezone

from kesher.activity.services import activity_record
from kesher.brands.models import Brand
from kesher.members.selectors import members_born_on


def birthdays_emit(*, today: Any = None) -> int:
    """Emit one `birthday` activity per member on their birthday (the default rule gives 50 points).

    Runs from the tick; the (source, reference) key makes a second run that day do nothing. Members born
    on 29 February celebrate on 28 February in common years.
    """
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
