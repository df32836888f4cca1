"""Dates as the brand's members read them: the Gregorian date in the reader's language and, where the brand
asks for it (its loyalty program's `hebrew_dates`), the Hebrew date beside it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django import template
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from hdate import HebrewDate
from hdate.translator import set_language

register = template.Library()


def hebrew_date(day: date, language: str | None = None) -> str:
    """The Hebrew calendar's date of `day`: "כ״ז כסלו ה׳ תשפ״ז" in Hebrew, "27 Kislev 5787" otherwise."""
    hebrew = (language or get_language() or "he").startswith("he")
    set_language("he" if hebrew else "en")
    text = str(HebrewDate.from_gdate(day))
    if hebrew:  # the typographic marks, not the ASCII quote and apostrophe
        text = text.replace('"', "\u05f4").replace("'", "\u05f3")
    return text


def _shows_hebrew(brand: Any) -> bool:
    if brand is None:
        return False
    if isinstance(brand, bool):
        return brand
    cached = getattr(brand, "_shows_hebrew_dates", None)
    if cached is None:  # read once per brand object: a page shows many dates
        from kesher.loyalty.services import program_of

        cached = bool(program_of(brand.pk).hebrew_dates)
        brand._shows_hebrew_dates = cached
    return bool(cached)


@register.filter
def club_date(value: date | datetime | None, brand: Any = None) -> SafeString | str:
    """`{{ coupon.expires_at|club_date:brand }}`: the date in the reader's short format inside a <time>,
    followed by the Hebrew date when the brand shows Hebrew dates (`brand` may also be True or False)."""
    if value is None:
        return ""
    day = timezone.localtime(value).date() if isinstance(value, datetime) else value
    shown = formats.date_format(day, "SHORT_DATE_FORMAT")
    if not _shows_hebrew(brand):
        return format_html('<time datetime="{}">{}</time>', day.isoformat(), shown)
    return format_html(
        '<time datetime="{}">{}</time> <span class="hebrew-date" data-test="hebrew-date">({})</span>',
        day.isoformat(),
        shown,
        hebrew_date(day),
    )
