"""Born on this day, by the Gregorian and the Hebrew calendar, with the edge days of each."""

from __future__ import annotations

import importlib
from datetime import date
from types import SimpleNamespace
from typing import cast

import pytest
from django.apps import apps
from django.db import connection

from kesher.core.errors import ValidationFailed
from kesher.members.models import Member
from kesher.members.selectors import members_born_on
from kesher.members.services import member_erase, member_update
from kesher.members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def born(brand, first_name: str, birthday: date) -> Member:
    return cast(Member, MemberFactory(brand=brand, first_name=first_name, birthday=birthday))


def names(brand, day: date, calendar: str = "gregorian") -> list[str]:
    return sorted(m.first_name for m in members_born_on(brand_id=brand.pk, day=day, calendar=calendar))


def test_keys_are_written_with_the_birthday(brand):
    member = born(brand, "Purim", date(2023, 3, 7))  # 14 Adar 5783
    assert (member.birthday_md, member.hebrew_birthday_md) == (307, 614)
    member_update(member=member, changes={"birthday": date(2024, 3, 24)})  # 14 Adar II 5784
    member.refresh_from_db()
    assert (member.birthday_md, member.hebrew_birthday_md) == (324, 814)
    member_update(member=member, changes={"birthday": "2024-02-23"})  # 14 Adar I 5784
    member.refresh_from_db()
    assert (member.birthday, member.birthday_md, member.hebrew_birthday_md) == (date(2024, 2, 23), 223, 714)
    member_erase(member=member)
    member.refresh_from_db()
    assert (member.birthday, member.birthday_md, member.hebrew_birthday_md) == (None, None, None)


def test_a_future_birthday_is_refused_on_update_and_nothing_changes(brand):
    member = born(brand, "Noa", date(1990, 5, 1))
    with pytest.raises(ValidationFailed):
        member_update(member=member, changes={"birthday": date(2999, 1, 1)})
    member.refresh_from_db()
    assert (member.birthday, member.birthday_md) == (date(1990, 5, 1), 501)


def test_gregorian_birthdays_and_29_february(brand, other_brand):
    born(brand, "leap", date(2000, 2, 29))
    born(brand, "feb28", date(1990, 2, 28))
    born(brand, "mar1", date(1985, 3, 1))
    born(other_brand, "elsewhere", date(1990, 2, 28))
    assert names(brand, date(2025, 2, 28)) == ["feb28", "leap"]  # common year: 29 Feb celebrates on 28 Feb
    assert names(brand, date(2024, 2, 28)) == ["feb28"]
    assert names(brand, date(2024, 2, 29)) == ["leap"]
    assert names(brand, date(2025, 3, 1)) == ["mar1"]
    assert names(other_brand, date(2025, 2, 28)) == ["elsewhere"]


def test_hebrew_birthdays_in_adar(brand):
    born(brand, "adar", date(2023, 3, 7))  # 14 Adar 5783, a common year
    born(brand, "adar1", date(2024, 2, 23))  # 14 Adar I 5784, a leap year
    born(brand, "adar2", date(2024, 3, 24))  # 14 Adar II 5784
    # 5785 is common: all three celebrate on 14 Adar.
    assert names(brand, date(2025, 3, 14), "hebrew") == ["adar", "adar1", "adar2"]
    # 5787 is leap: Adar I births in Adar I; Adar II and common-year Adar births in Adar II.
    assert names(brand, date(2027, 2, 21), "hebrew") == ["adar1"]
    assert names(brand, date(2027, 3, 23), "hebrew") == ["adar", "adar2"]
    # By the Gregorian calendar they are three different days.
    assert names(brand, date(2025, 3, 14)) == []
    assert names(brand, date(2025, 3, 7)) == ["adar"]


def test_hebrew_30_adar_i_falls_on_1_nisan_in_a_common_year(brand):
    born(brand, "adar1-30", date(2024, 3, 10))  # 30 Adar I 5784
    born(brand, "nisan1", date(2024, 4, 9))  # 1 Nisan 5784
    assert names(brand, date(2025, 3, 30), "hebrew") == ["adar1-30", "nisan1"]  # 1 Nisan 5785
    assert names(brand, date(2027, 3, 9), "hebrew") == ["adar1-30"]  # 30 Adar I 5787 exists


def test_hebrew_30_heshvan_and_30_kislev_in_short_years(brand):
    born(brand, "heshvan30", date(2024, 12, 1))  # 30 Heshvan 5785 (a long Heshvan)
    born(brand, "kislev30", date(2022, 12, 24))  # 30 Kislev 5783
    born(brand, "tevet1", date(2024, 1, 1))  # 20 Tevet 5784: not on the first, never added
    # 5786 has a 29-day Heshvan: 30 Heshvan celebrates on 1 Kislev 5786.
    assert names(brand, date(2025, 11, 20), "hebrew") == []  # 29 Heshvan 5786
    assert names(brand, date(2025, 11, 21), "hebrew") == ["heshvan30"]
    # 5784 has a 29-day Kislev: 30 Kislev celebrates on 1 Tevet 5784.
    assert names(brand, date(2023, 12, 12), "hebrew") == []  # 29 Kislev 5784
    assert names(brand, date(2023, 12, 13), "hebrew") == ["kislev30"]
    # 5785 has both 30th days.
    assert names(brand, date(2024, 12, 1), "hebrew") == ["heshvan30"]
    assert names(brand, date(2024, 12, 31), "hebrew") == ["kislev30"]


def test_unknown_calendar_is_refused(brand):
    with pytest.raises(ValidationFailed):
        members_born_on(brand_id=brand.pk, day=date(2025, 1, 1), calendar="julian")


def test_born_on_is_one_indexed_query(brand, django_assert_num_queries):
    born(brand, "a", date(1990, 6, 1))
    with django_assert_num_queries(1):
        assert names(brand, date(2025, 6, 1)) == ["a"]


def test_the_migration_backfills_missing_keys_in_batches_and_can_run_again(brand, monkeypatch):
    migration = importlib.import_module("kesher.members.migrations.0002_birthday_keys")
    monkeypatch.setattr(migration, "BATCH", 2)
    people = [born(brand, f"m{i}", date(1980 + i, 3, 7)) for i in range(5)]
    born(brand, "no-birthday", date(1990, 1, 1))
    Member.objects.filter(first_name="no-birthday").update(
        birthday=None, birthday_md=None, hebrew_birthday_md=None
    )
    Member.objects.filter(pk__in=[p.pk for p in people]).update(birthday_md=None, hebrew_birthday_md=None)
    editor = SimpleNamespace(connection=connection)
    migration.backfill_birthday_keys(apps, editor)
    migration.backfill_birthday_keys(apps, editor)  # a second run finds nothing to do
    rows = Member.objects.filter(brand=brand).order_by("first_name")
    # 7 March of 1980..1984: 19 Adar, 1 Adar II, 12 Adar, 22 Adar, 3 Adar II.
    assert list(rows.values_list("first_name", "birthday_md", "hebrew_birthday_md")) == [
        ("m0", 307, 619),
        ("m1", 307, 801),
        ("m2", 307, 612),
        ("m3", 307, 622),
        ("m4", 307, 803),
        ("no-birthday", None, None),
    ]


def test_a_birthday_changed_in_the_admin_moves_its_keys(brand, admin_client):
    member = born(brand, "Admin", date(1990, 5, 1))
    page = admin_client.get(f"/admin/members/member/{member.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        {
            "brand": str(brand.pk),
            "birthday": "2024-03-24",
            "interests": "[]",
            "joined_at_0": "2024-01-01",
            "joined_at_1": "10:00:00",
            "consent_events-TOTAL_FORMS": "0",
            "consent_events-INITIAL_FORMS": "0",
        }
    )
    answer = admin_client.post(f"/admin/members/member/{member.pk}/change/", data)
    assert answer.status_code == 302, answer.context["adminform"].form.errors if answer.context else answer
    member.refresh_from_db()
    assert (member.birthday, member.birthday_md, member.hebrew_birthday_md) == (date(2024, 3, 24), 324, 814)
