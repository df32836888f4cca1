"""The business-time calendar on its tricky edges: the end of a Thursday, the Friday half day, holidays
and their eves, daylight saving, two shifts a day and a pause over a night."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kesher.service.sla.calendar import (
    DEFAULT,
    FRIDAY,
    MONDAY,
    SATURDAY,
    SUNDAY,
    THURSDAY,
    TUESDAY,
    WEDNESDAY,
    BusinessCalendar,
    DayKind,
    Shift,
    add_business_time,
    business_minutes_between,
    israeli_day,
    merge_intervals,
)

IL = ZoneInfo("Asia/Jerusalem")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=IL)  # type: ignore[misc]


def test_thursday_1755_carries_over_to_friday_morning() -> None:
    opened = local(2026, 11, 19, 17, 55)  # a Thursday; the day ends at 18:00
    due = add_business_time(opened, 30)
    assert due == local(2026, 11, 20, 8, 25)
    assert due.tzinfo == UTC
    assert business_minutes_between(opened, due) == 30


def test_friday_is_a_half_day_and_saturday_is_closed() -> None:
    assert add_business_time(local(2026, 11, 20, 12, 50), 20) == local(2026, 11, 22, 8, 10)
    assert business_minutes_between(local(2026, 11, 20, 0, 0), local(2026, 11, 22, 0, 0)) == 5 * 60


def test_at_the_end_of_a_shift_exactly() -> None:
    assert add_business_time(local(2026, 11, 19, 17, 0), 60) == local(2026, 11, 19, 18, 0)
    assert add_business_time(local(2026, 11, 19, 19, 0), 0) == local(2026, 11, 19, 19, 0)
    assert add_business_time(local(2026, 11, 19, 19, 0), 1) == local(2026, 11, 20, 8, 1)


def test_erev_pesach_is_a_half_day_and_pesach_closed() -> None:
    assert israeli_day(date(2026, 4, 1)) == (DayKind.EVE, "erev_pesach")
    assert israeli_day(date(2026, 4, 2)) == (DayKind.CLOSED, "pesach")
    # Wednesday 12:00: one hour to 13:00, Pesach closed, Friday (Hol HaMoed, a Friday) from 08:00.
    assert add_business_time(local(2026, 4, 1, 12, 0), 120) == local(2026, 4, 3, 9, 0)


def test_hol_hamoed_closed_when_the_brand_says_so() -> None:
    calendar = BusinessCalendar(hol_hamoed=DayKind.CLOSED)
    # Closed through the intermediate days and the seventh day; open again on Thursday the 9th.
    assert add_business_time(local(2026, 4, 1, 12, 0), 120, calendar=calendar) == local(2026, 4, 9, 9, 0)


def test_yom_kippur_closed_and_its_eve_a_half_day() -> None:
    assert israeli_day(date(2026, 9, 20)) == (DayKind.EVE, "erev_yom_kippur")
    assert israeli_day(date(2026, 9, 21)) == (DayKind.CLOSED, "yom_kippur")
    assert add_business_time(local(2026, 9, 20, 12, 30), 60) == local(2026, 9, 22, 8, 30)
    assert business_minutes_between(local(2026, 9, 20, 0, 0), local(2026, 9, 22, 0, 0)) == 5 * 60


def test_yom_hazikaron_is_the_eve_of_yom_haatzmaut() -> None:
    assert israeli_day(date(2026, 4, 21)) == (DayKind.EVE, "yom_hazikaron")
    assert israeli_day(date(2026, 4, 22)) == (DayKind.CLOSED, "yom_haatzmaut")
    assert add_business_time(local(2026, 4, 21, 12, 0), 90) == local(2026, 4, 23, 8, 30)


def test_holidays_ignored_when_the_brand_works_through_them() -> None:
    calendar = BusinessCalendar(holidays=False)
    assert add_business_time(local(2026, 9, 20, 12, 30), 60, calendar=calendar) == local(2026, 9, 20, 13, 30)


def test_spring_dst_switch_overnight() -> None:
    # Israel moves to summer time on Friday 27 March 2026 at 02:00: Thursday ends 18:00 at +02:00,
    # Friday opens 08:00 at +03:00, 05:00 UTC.
    due = add_business_time(local(2026, 3, 26, 17, 0), 120)
    assert due == datetime(2026, 3, 27, 6, 0, tzinfo=UTC)
    assert due.astimezone(IL).hour == 9


def test_dst_days_are_their_real_length_round_the_clock() -> None:
    always = BusinessCalendar.round_the_clock()
    spring = business_minutes_between(local(2026, 3, 27, 0, 0), local(2026, 3, 28, 0, 0), calendar=always)
    autumn = business_minutes_between(local(2026, 10, 25, 0, 0), local(2026, 10, 26, 0, 0), calendar=always)
    assert (spring, autumn) == (23 * 60, 25 * 60)
    # Round the clock ignores the week and the holidays: Yom Kippur counts.
    assert add_business_time(local(2026, 9, 21, 10, 0), 30, calendar=always) == local(2026, 9, 21, 10, 30)


def test_a_night_shift_over_the_autumn_switch_is_seven_hours() -> None:
    night = BusinessCalendar(week={SUNDAY: [Shift.of("00:00", "06:00")]}, holidays=False)
    day = (local(2026, 10, 25, 0, 0), local(2026, 10, 26, 0, 0))
    assert business_minutes_between(*day, calendar=night) == 7 * 60


def test_two_shifts_with_a_gap() -> None:
    split = BusinessCalendar(
        week={day: [Shift.of("16:00", "20:00"), Shift.of("09:00", "12:00")] for day in range(7)},
        holidays=False,
    )
    assert add_business_time(local(2026, 11, 16, 11, 30), 60, calendar=split) == local(2026, 11, 16, 16, 30)
    day = (local(2026, 11, 16, 8, 0), local(2026, 11, 16, 21, 0))
    assert business_minutes_between(*day, calendar=split) == 7 * 60
    assert not split.is_open(local(2026, 11, 16, 13, 0))
    assert split.is_open(local(2026, 11, 16, 16, 0))


def test_an_eve_cuts_each_shift_at_its_closing_time() -> None:
    split = BusinessCalendar(week={SUNDAY: [Shift.of("09:00", "12:00"), Shift.of("12:30", "18:00")]})
    assert split.shifts_on(date(2026, 9, 20)) == [Shift.of("09:00", "12:00"), Shift.of("12:30", "13:00")]


def test_a_pause_over_a_night_stops_the_clock() -> None:
    opened = local(2026, 11, 16, 17, 0)  # Monday
    waiting = [(local(2026, 11, 16, 17, 30), local(2026, 11, 17, 10, 0))]
    assert add_business_time(opened, 60, waiting) == local(2026, 11, 17, 10, 30)
    assert business_minutes_between(opened, local(2026, 11, 17, 11, 0), waiting) == 90
    # Overlapping and unordered pauses count once.
    messy = [
        *waiting,
        (local(2026, 11, 17, 9, 0), local(2026, 11, 17, 9, 30)),
        (local(2026, 11, 16, 17, 10), local(2026, 11, 16, 17, 20)),
    ]
    assert business_minutes_between(opened, local(2026, 11, 17, 11, 0), messy) == 80


def test_brand_closures_win_over_the_calendar() -> None:
    calendar = BusinessCalendar(
        closures={date(2026, 11, 20): DayKind.CLOSED, date(2026, 11, 22): DayKind.EVE}
    )
    assert calendar.day_kind(date(2026, 11, 20)) == (DayKind.CLOSED, "closure")
    assert add_business_time(local(2026, 11, 19, 17, 55), 30, calendar=calendar) == local(2026, 11, 22, 8, 25)
    sunday = (local(2026, 11, 22, 0, 0), local(2026, 11, 23, 0, 0))
    assert business_minutes_between(*sunday, calendar=calendar) == 5 * 60


def test_weekday_numbers_are_pythons() -> None:
    assert [date(2026, 11, 15 + i).weekday() for i in range(7)] == [
        SUNDAY,
        MONDAY,
        TUESDAY,
        WEDNESDAY,
        THURSDAY,
        FRIDAY,
        SATURDAY,
    ]
    assert DEFAULT.shifts_on(date(2026, 11, 21)) == []


def test_between_backwards_is_negative_and_naive_times_are_refused() -> None:
    assert business_minutes_between(local(2026, 11, 16, 10, 0), local(2026, 11, 16, 9, 0)) == -60
    with pytest.raises(ValueError, match="aware"):
        add_business_time(datetime(2026, 11, 16, 10, 0), 5)  # noqa: DTZ001


def test_a_calendar_without_hours_refuses() -> None:
    with pytest.raises(ValueError, match="no working hours"):
        add_business_time(local(2026, 11, 16, 10, 0), 5, calendar=BusinessCalendar(week={}))


def test_bad_shifts_are_refused() -> None:
    with pytest.raises(ValueError):
        Shift.of("18:00", "09:00")
    assert Shift.of("22:00", "00:00") == Shift(22 * 60, 24 * 60)


def test_merge_intervals_joins_touching() -> None:
    a, b, c = local(2026, 1, 1, 10, 0), local(2026, 1, 1, 11, 0), local(2026, 1, 1, 12, 0)
    assert merge_intervals([(b, c), (a, b), (c, c)]) == [(a.astimezone(UTC), c.astimezone(UTC))]


def test_a_long_target_over_weeks() -> None:
    # Ten working days of 10 hours from a Sunday morning, with no holiday in between: two weeks on.
    start = local(2026, 11, 15, 8, 0)
    week_minutes = 5 * 600 + 300
    due = add_business_time(start, 2 * week_minutes)
    assert due == local(2026, 11, 27, 13, 0)
    assert business_minutes_between(start, due + timedelta(days=1)) == 2 * week_minutes
