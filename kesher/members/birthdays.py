"""Birthday keys: a birthday as a small integer per calendar, so "born on this day" is an index lookup.

Gregorian key: month * 100 + day (29 February is 229; it is celebrated on 28 February in common years).

Hebrew key: the Hebrew month number of ``hdate.Months`` * 100 + the Hebrew day of the birth date
(Tishrei 1 ... Adar 6, Adar I 7, Adar II 8, Nisan 9 ... Elul 14), so 15 Shvat is 515. The birth time is
not known, so the Gregorian date is taken as a daytime birth (no shift for a birth after sunset).
Where the birth's Hebrew day does not exist in the year being celebrated, the usual custom (the one
used for a bar or bat mitzvah) is followed:

- born in Adar of a common year: in a leap year the birthday is in Adar II;
- born in Adar I or Adar II of a leap year: in a common year the birthday is in (the one) Adar;
- born on 30 Adar I: in a common year (Adar has 29 days) the birthday is on 1 Nisan;
- born on 30 Heshvan or 30 Kislev: in a year where that month has 29 days, the birthday is on the
  first of the next month (1 Kislev, 1 Tevet).
"""

from __future__ import annotations

import calendar
from datetime import date

from hdate.hebrew_date import HebrewDate, Months, is_leap_year, long_cheshvan, short_kislev

HESHVAN_30 = Months.MARCHESHVAN.value * 100 + 30
KISLEV_30 = Months.KISLEV.value * 100 + 30
ADAR_I_30 = Months.ADAR_I.value * 100 + 30


def gregorian_key(birthday: date | None) -> int | None:
    return None if birthday is None else birthday.month * 100 + birthday.day


def hebrew_key(birthday: date | None) -> int | None:
    if birthday is None:
        return None
    hebrew = HebrewDate.from_gdate(birthday)
    return int(hebrew.month.value) * 100 + hebrew.day


def gregorian_keys_for(day: date) -> list[int]:
    """The Gregorian keys whose birthday falls on `day`."""
    keys = [day.month * 100 + day.day]
    if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
        keys.append(229)
    return keys


def hebrew_keys_for(day: date) -> list[int]:
    """The Hebrew keys whose birthday falls on `day` (the Hebrew date of `day`, plus the edge days)."""
    hebrew = HebrewDate.from_gdate(day)
    month, number, year = hebrew.month, hebrew.day, hebrew.year
    keys = [int(month.value) * 100 + number]
    leap = is_leap_year(year)
    if not leap and month == Months.ADAR:
        keys += [Months.ADAR_I.value * 100 + number, Months.ADAR_II.value * 100 + number]
    if leap and month == Months.ADAR_II:
        keys.append(Months.ADAR.value * 100 + number)
    if number == 1:
        if month == Months.NISAN and not leap:
            keys.append(ADAR_I_30)
        if month == Months.KISLEV and not long_cheshvan(year):
            keys.append(HESHVAN_30)
        if month == Months.TEVET and short_kislev(year):
            keys.append(KISLEV_30)
    return sorted(keys)
