"""When a brand may send an SMS: not at night, and not from candle lighting to havdalah on Shabbat and
holidays (Israeli holidays, by the Hebrew calendar), unless the brand says otherwise."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from hdate import Location, Zmanim

from kesher.campaigns.models import MessagingSettings

STEP = timedelta(minutes=5)
HORIZON = timedelta(days=5)  # the longest closed stretch (Rosh Hashana on a Thursday into Shabbat) is 3 days
CANDLE_LIGHTING_MINUTES = 30  # before sunset: between the common 18 and Jerusalem's 40


@lru_cache(maxsize=512)
def _zmanim(day: date, zone: str) -> Zmanim:
    location = Location(name=zone, timezone=zone, diaspora=False)
    return Zmanim(date=day, location=location, candle_lighting_offset=CANDLE_LIGHTING_MINUTES)


def _at_night(local: time, start: time, end: time) -> bool:
    if start == end:
        return False
    if start < end:  # quiet hours inside one day (03:00-06:00)
        return start <= local < end
    return local >= start or local < end  # across midnight (21:00-08:00)


def is_holy_time(at: datetime, zone: str) -> bool:
    """Shabbat or a holiday is in effect (from candle lighting before it to havdalah after it)."""
    local = at.astimezone(ZoneInfo(zone))
    return _zmanim(local.date(), zone).issur_melacha_in_effect(local)


def sms_allowed(settings: MessagingSettings, at: datetime, zone: str) -> bool:
    local = at.astimezone(ZoneInfo(zone))
    if _at_night(local.time(), settings.quiet_start, settings.quiet_end):
        return False
    return not (settings.quiet_on_shabbat and is_holy_time(at, zone))


def sms_next_allowed(settings: MessagingSettings, at: datetime, zone: str) -> datetime:
    """`at` itself when an SMS may go then, else the first moment after it (to the next 5 minutes)."""
    if sms_allowed(settings, at, zone):
        return at
    candidate = at.replace(second=0, microsecond=0) + (STEP - timedelta(minutes=at.minute % 5))
    limit = at + HORIZON
    while candidate < limit:
        if sms_allowed(settings, candidate, zone):
            return candidate
        candidate += STEP
    return limit
