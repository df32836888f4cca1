"""Business time for response-time targets: a brand's working hours as shifts per weekday on the
Israeli week, holidays closed and their eves a half day (from `hdate`), in the brand's time zone with
daylight saving right, and the clock stopped while a case waits on the customer.

Pure: no database. All arithmetic is done in UTC (two aware datetimes of one zone subtract by wall
clock in Python, which is an hour wrong across a DST switch); answers are aware UTC datetimes.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from hdate import HDateInfo
from hdate.holidays import HolidayTypes

ISRAEL = "Asia/Jerusalem"
DAY_MINUTES = 24 * 60
# The longest a target can run: a year of the sparsest real calendar. Past it the calendar has no
# open hours at all, which is a configuration error, not a due time.
HORIZON_DAYS = 400

Interval = tuple[datetime, datetime]


class DayKind(enum.StrEnum):
    OPEN = "open"  # the weekday's shifts
    EVE = "eve"  # a half day: the weekday's shifts cut at the eve's closing time
    CLOSED = "closed"


@dataclass(frozen=True, order=True)
class Shift:
    """Working hours inside one local day, in minutes from midnight (end up to 1440, midnight)."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not (0 <= self.start < self.end <= DAY_MINUTES):
            raise ValueError(f"a shift runs forward inside one day: {self.start}-{self.end}")

    @classmethod
    def of(cls, start: str | time, end: str | time) -> Shift:
        return cls(_minutes(start, end_of_day=False), _minutes(end, end_of_day=True))

    def label(self) -> str:
        return f"{_hhmm(self.start)}–{_hhmm(self.end)}"


def _minutes(value: str | time, *, end_of_day: bool) -> int:
    if isinstance(value, str):
        hours, minutes = value.split(":")
        total = int(hours) * 60 + int(minutes)
    else:
        total = value.hour * 60 + value.minute
    if end_of_day and total == 0:
        return DAY_MINUTES  # a shift ending at 00:00 ends at midnight
    return total


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# Python's weekday numbers (Monday 0 … Sunday 6); the Israeli week starts on Sunday.
SUNDAY, MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY = 6, 0, 1, 2, 3, 4, 5
ISRAELI_WEEK_ORDER = (SUNDAY, MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY)
FULL_DAY = (Shift.of("08:00", "18:00"),)
HALF_DAY = (Shift.of("08:00", "13:00"),)
ISRAELI_WEEK: Mapping[int, tuple[Shift, ...]] = {
    SUNDAY: FULL_DAY,
    MONDAY: FULL_DAY,
    TUESDAY: FULL_DAY,
    WEDNESDAY: FULL_DAY,
    THURSDAY: FULL_DAY,
    FRIDAY: HALF_DAY,
    SATURDAY: (),
}
EVE_ENDS = 13 * 60  # an eve closes at 13:00


@lru_cache(maxsize=8192)
def israeli_day(day: date) -> tuple[DayKind, str]:
    """What the Israeli calendar makes of a day, with hdate's name for it: a holiday (Yom Tov and Yom
    HaAtzmaut) closes, an eve (Erev Yom Tov, the eve of the seventh day of Pesach, Hoshana Raba, and
    Yom HaZikaron, the eve of Yom HaAtzmaut) is a half day, Hol HaMoed is marked for the brand to choose.
    Shabbat is the week's business, not the holidays'."""
    holidays = HDateInfo(day, diaspora=False).holidays
    for holiday in holidays:
        if holiday.type == HolidayTypes.YOM_TOV or holiday.name == "yom_haatzmaut":
            return DayKind.CLOSED, holiday.name
    for holiday in holidays:
        if holiday.type == HolidayTypes.EREV_YOM_TOV or holiday.name == "yom_hazikaron":
            return DayKind.EVE, holiday.name
    for holiday in holidays:
        if holiday.type == HolidayTypes.HOL_HAMOED:
            return DayKind.OPEN, holiday.name
    return DayKind.OPEN, ""


@dataclass(frozen=True)
class BusinessCalendar:
    """A brand's working time. `week` maps Python weekday numbers to that day's shifts (a day missing
    or empty is closed). `closures` are the brand's own days (a stocktaking day closed, a sale day's
    eve short) and win over the holidays. `hol_hamoed` says what the intermediate days of Pesach and
    Sukkot are (open, eve or closed). `always` is a round-the-clock calendar (urgent cases)."""

    week: Mapping[int, Sequence[Shift]] = field(default_factory=lambda: dict(ISRAELI_WEEK))
    zone: str = ISRAEL
    holidays: bool = True
    eve_ends: int = EVE_ENDS
    hol_hamoed: DayKind = DayKind.OPEN
    closures: Mapping[date, DayKind] = field(default_factory=dict)
    always: bool = False

    @classmethod
    def round_the_clock(cls, zone: str = ISRAEL) -> BusinessCalendar:
        return cls(week={}, zone=zone, holidays=False, always=True)

    # --- one day -----------------------------------------------------------------------------------

    def day_kind(self, day: date) -> tuple[DayKind, str]:
        """The kind of a local day and why ("" for an ordinary day, "closure" for the brand's own)."""
        if self.always:
            return DayKind.OPEN, ""
        if day in self.closures:
            return self.closures[day], "closure"
        if not self.holidays:
            return DayKind.OPEN, ""
        kind, name = israeli_day(day)
        # Hol HaMoed as the brand says; the eve of Pesach's seventh day stays at least an eve.
        if name.startswith("hol_hamoed") and (self.hol_hamoed == DayKind.CLOSED or kind == DayKind.OPEN):
            return self.hol_hamoed, name
        return kind, name

    def shifts_on(self, day: date) -> list[Shift]:
        if self.always:
            return [Shift(0, DAY_MINUTES)]
        kind, _name = self.day_kind(day)
        if kind == DayKind.CLOSED:
            return []
        shifts = sorted(self.week.get(day.weekday(), ()))
        if kind == DayKind.EVE:
            shifts = [Shift(s.start, min(s.end, self.eve_ends)) for s in shifts if s.start < self.eve_ends]
        return shifts

    def open_intervals(self, day: date) -> list[Interval]:
        """The day's working hours as UTC intervals (a shift over a DST switch is its real length)."""
        zone = ZoneInfo(self.zone)
        out: list[Interval] = []
        for shift in self.shifts_on(day):
            start = _at(day, shift.start, zone)
            end = _at(day, shift.end, zone)
            if out and out[-1][1] >= start:  # touching shifts are one stretch
                out[-1] = (out[-1][0], max(out[-1][1], end))
            elif end > start:
                out.append((start, end))
        return out

    # --- spans -------------------------------------------------------------------------------------

    def _working(self, start: datetime, paused: Iterable[Interval]) -> Iterator[Interval]:
        """Working stretches from `start` on, in order, with the paused intervals taken out."""
        start = _utc(start)
        pauses = merge_intervals(paused)
        day = start.astimezone(ZoneInfo(self.zone)).date() - timedelta(days=1)
        for _ in range(HORIZON_DAYS):
            for begin, end in self.open_intervals(day):
                if end <= start:
                    continue
                yield from subtract_intervals((max(begin, start), end), pauses)
            day += timedelta(days=1)

    def add_business_time(self, start: datetime, minutes: float, paused: Iterable[Interval] = ()) -> datetime:
        """The moment `minutes` of working time after `start` have passed, the paused time not
        counting. Zero minutes is `start` itself."""
        remaining = timedelta(minutes=minutes)
        if remaining <= timedelta(0):
            return _utc(start)
        for begin, end in self._working(start, paused):
            if end - begin >= remaining:
                return begin + remaining
            remaining -= end - begin
        raise ValueError(f"no working hours within {HORIZON_DAYS} days")

    def business_minutes_between(self, a: datetime, b: datetime, paused: Iterable[Interval] = ()) -> float:
        """Working minutes from `a` to `b` (negative when `b` is before `a`), paused time not counting."""
        a, b = _utc(a), _utc(b)
        if b < a:
            return -self.business_minutes_between(b, a, paused)
        total = timedelta(0)
        for begin, end in self._working(a, paused):
            if begin >= b:
                break
            total += min(end, b) - begin
        return total / timedelta(minutes=1)

    def is_open(self, at: datetime) -> bool:
        at = _utc(at)
        day = at.astimezone(ZoneInfo(self.zone)).date()
        return any(begin <= at < end for begin, end in self.open_intervals(day))


DEFAULT = BusinessCalendar()


def add_business_time(
    start: datetime,
    minutes: float,
    paused: Iterable[Interval] = (),
    *,
    calendar: BusinessCalendar = DEFAULT,
) -> datetime:
    return calendar.add_business_time(start, minutes, paused)


def business_minutes_between(
    a: datetime, b: datetime, paused: Iterable[Interval] = (), *, calendar: BusinessCalendar = DEFAULT
) -> float:
    return calendar.business_minutes_between(a, b, paused)


# --- intervals -------------------------------------------------------------------------------------


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("business time needs aware datetimes")
    return value.astimezone(UTC)


def _at(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    """A local wall-clock moment as UTC. A time the spring switch skips (02:30) is read with the
    offset before it, the moment an hour later on the new clock; fold 0 takes the first 01:30."""
    local = datetime.combine(day + timedelta(days=minutes // DAY_MINUTES), time(0), tzinfo=zone)
    local = local.replace(hour=(minutes % DAY_MINUTES) // 60, minute=minutes % 60)
    return local.astimezone(UTC)


def merge_intervals(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, overlapping and touching intervals joined, empty ones dropped, all in UTC."""
    out: list[Interval] = []
    for begin, end in sorted((_utc(b), _utc(e)) for b, e in intervals):
        if end <= begin:
            continue
        if out and begin <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((begin, end))
    return out


def subtract_intervals(span: Interval, holes: Sequence[Interval]) -> Iterator[Interval]:
    """What is left of `span` with the (merged, sorted) `holes` cut out, in order."""
    begin, end = span
    for hole_begin, hole_end in holes:
        if hole_end <= begin:
            continue
        if hole_begin >= end:
            break
        if hole_begin > begin:
            yield begin, hole_begin
        begin = max(begin, hole_end)
        if begin >= end:
            return
    if begin < end:
        yield begin, end
