"""Bulk recording's cheap row writing and reading gives the rows and instances the ORM would."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.db import connection
from django.db.models import Model
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kesher.activity.models import Activity, OutboxEntry
from kesher.activity.services import _NEW_ACTIVITY_COLUMNS, Draft, _new_activity, activities_record_many
from kesher.brands.models import Brand
from kesher.core.bulk import rows_in, rows_insert_values, rows_update
from kesher.loyalty.models import LedgerEntry, PointsAccount, PointsLot
from kesher.members.models import Member
from kesher.members.selectors import members_by_reference
from kesher.members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def values(obj: Model, *leave_out: str) -> dict[str, Any]:
    return {
        field.attname: getattr(obj, field.attname)
        for field in obj._meta.concrete_fields
        if field.attname not in leave_out
    }


def test_a_new_activity_is_the_one_the_orm_makes_by_name(brand: Brand) -> None:
    member = MemberFactory(brand=brand)
    when = timezone.now()
    draft = Draft(member=member, type="purchase", attributes={}, source="pos", idempotency_key="k1")
    made = _new_activity(brand, draft, {"amount": "10.00"}, when)
    by_name = Activity(
        brand=brand,
        member=member,
        type="purchase",
        source="pos",
        idempotency_key="k1",
        external_id=None,
        occurred_at=when,
        attributes={"amount": "10.00"},
    )
    assert values(made, "id") == values(by_name, "id")
    assert isinstance(made.pk, uuid.UUID) and made.pk != _new_activity(brand, draft, {}, when).pk
    assert made.brand is brand and made.member is member  # in place: no query to read them
    assert made._state.adding is True and made._state.db is None
    ordered = tuple(field.attname for field in Activity._meta.concrete_fields)
    assert ordered[: len(_NEW_ACTIVITY_COLUMNS)] == _NEW_ACTIVITY_COLUMNS


def test_rows_from_values_are_the_rows_from_instances(brand: Brand) -> None:
    member = MemberFactory(brand=brand)
    activity = Activity.objects.create(
        brand=brand, member=member, type="purchase", occurred_at=timezone.now()
    )
    when = timezone.now().replace(microsecond=0)
    columns = ("account_id", "brand_id", "activity_id", "points", "remaining", "earned_at", "state")
    rows = [
        (member.pk, brand.pk, activity.pk, 5, 5, when, "available"),
        (member.pk, brand.pk, None, 7, 3, when + dt.timedelta(days=1), "pending"),
        (member.pk, brand.pk, activity.pk, 5, 5, when, "available"),  # the same again: two rows
    ]
    rows_insert_values(PointsLot, columns, rows)
    lots = list(PointsLot.objects.filter(account_id=member.pk).order_by("id"))
    assert [tuple(getattr(lot, name) for name in columns) for lot in lots] == rows
    assert [lot.available_at for lot in lots] == [None] * 3 and len({lot.pk for lot in lots}) == 3

    before = timezone.now()
    entries = [
        (member.pk, brand.pk, "earn", points, False, points, activity.pk, "כל קנייה") for points in (5, 7, 9)
    ]
    entry_columns = (
        "account_id",
        "brand_id",
        "kind",
        "points",
        "pending",
        "balance_after",
        "activity_id",
        "description",
    )
    rows_insert_values(LedgerEntry, entry_columns, entries)
    written = sorted(LedgerEntry.objects.filter(account_id=member.pk), key=lambda entry: entry.points)
    assert [tuple(getattr(entry, name) for name in entry_columns) for entry in written] == entries
    assert len({entry.pk for entry in written}) == 3 and all(isinstance(e.pk, uuid.UUID) for e in written)
    assert all(before <= entry.created_at <= timezone.now() for entry in written)


def test_outbox_rows_from_values_keep_their_json(brand: Brand) -> None:
    owed = [(uuid.uuid4(), ["a.one", "b.two"]), (uuid.uuid4(), ["a.one", "b.two"]), (uuid.uuid4(), ["c"])]
    rows_insert_values(OutboxEntry, ("activity_id", "consumers"), owed)
    found = {entry.activity_id: entry.consumers for entry in OutboxEntry.objects.all()}
    assert found == dict(owed)
    OutboxEntry.objects.all().delete()
    same = uuid.uuid4()
    rows_insert_values(OutboxEntry, ("activity_id", "consumers"), [(same, ["a.one"])] * 3)  # all alike
    assert [(e.activity_id, e.consumers) for e in OutboxEntry.objects.all()] == [(same, ["a.one"])] * 3


def test_many_rows_updated_at_once_the_last_of_a_key_winning(brand: Brand) -> None:
    members = [MemberFactory(brand=brand) for _ in range(3)]
    accounts = list(PointsAccount.objects.filter(member__in=members).order_by("member_id"))
    for number, account in enumerate(accounts):
        account.balance, account.pending, account.lifetime_earned = 10 * number, 4, 10 * number + 4
    twice = PointsAccount.objects.get(pk=accounts[0].pk)
    twice.balance, twice.pending, twice.lifetime_earned = 99, 4, 103
    untouched = MemberFactory(brand=brand)
    rows_update(PointsAccount, [*accounts, twice], ["balance", "pending", "lifetime_earned"])
    found = {
        account.pk: (account.balance, account.pending, account.lifetime_earned)
        for account in PointsAccount.objects.filter(member__in=[*members, untouched])
    }
    assert found == {
        accounts[0].pk: (99, 4, 103),
        accounts[1].pk: (10, 4, 14),
        accounts[2].pk: (20, 4, 24),
        untouched.pk: (0, 0, 0),
    }


def test_activities_updated_at_once_with_nulls(brand: Brand) -> None:
    member = MemberFactory(brand=brand)
    made = [
        Activity.objects.create(brand=brand, member=member, type="visit", occurred_at=timezone.now())
        for _ in range(3)
    ]
    made[0].points_awarded, made[0].balance_after = 5, 5
    made[1].points_awarded, made[1].balance_after = 0, None
    made[2].points_awarded, made[2].balance_after = 0, 5
    rows_update(Activity, made, ["points_awarded", "balance_after"])
    found = {
        a.pk: (a.points_awarded, a.balance_after)
        for a in Activity.objects.filter(member=member, type="visit")
    }
    assert found == {made[0].pk: (5, 5), made[1].pk: (0, None), made[2].pk: (0, 5)}


def test_rows_in_are_the_orms_rows(brand: Brand, other_brand: Brand) -> None:
    mine = [
        MemberFactory(brand=brand, interests=["קפה"], birthday=dt.date(1990, 2, 28), external_id=f"e{n}")
        for n in range(3)
    ]
    theirs = MemberFactory(brand=other_brand, external_id="e0")
    wanted = [mine[0].pk, str(mine[1].pk), theirs.pk, uuid.uuid4()]
    found = rows_in(Member, "id", wanted, brand_id=brand.pk)
    orm = Member.objects.filter(brand=brand, pk__in=[mine[0].pk, mine[1].pk])
    assert sorted(map(values, found), key=str) == sorted(map(values, orm), key=str)
    assert all(member._state.adding is False and member._state.db == "default" for member in found)
    by_external = rows_in(Member, "external_id", ["e0", "e2"], brand_id=brand.pk)
    assert {member.pk for member in by_external} == {mine[0].pk, mine[2].pk}
    assert rows_in(Member, "id", [], brand_id=brand.pk) == []


def test_locked_accounts_come_in_key_order(brand: Brand) -> None:
    members = [MemberFactory(brand=brand) for _ in range(4)]
    with CaptureQueriesContext(connection) as queries:
        found = rows_in(PointsAccount, "member_id", [m.pk for m in reversed(members)], lock=True)
    assert [account.member_id for account in found] == sorted((m.pk for m in members), key=str)
    assert values(found[0]) == values(PointsAccount.objects.get(pk=found[0].pk))
    if connection.features.has_select_for_update:
        assert "FOR UPDATE" in queries[-1]["sql"]


def test_members_by_reference_come_with_their_brand(brand: Brand, other_brand: Brand) -> None:
    member = MemberFactory(brand=brand, external_id="pos-1")
    other = MemberFactory(brand=brand, external_id="pos-2")
    MemberFactory(brand=other_brand, external_id="pos-3")
    with CaptureQueriesContext(connection) as queries:
        by_id, by_external = members_by_reference(
            brand=brand, ids=[member.pk, uuid.uuid4()], external_ids=["pos-2", "pos-3"]
        )
        assert by_id[member.pk].brand.slug == brand.slug
    assert len(queries) == 2
    assert list(by_id) == [member.pk] and list(by_external) == ["pos-2"]
    assert by_external["pos-2"].pk == other.pk
    with CaptureQueriesContext(connection) as none:
        assert members_by_reference(brand=brand, ids=[], external_ids=[]) == ({}, {})
    assert len(none) == 0


def test_bulk_writes_one_row_version_per_account_and_the_awards_on_each_activity(brand: Brand) -> None:
    member, other = MemberFactory(brand=brand), MemberFactory(brand=brand)
    drafts = [
        Draft(member=member, type="purchase", attributes={"amount": "10.00"}, idempotency_key="a"),
        Draft(member=other, type="purchase", attributes={"amount": "3.00"}, idempotency_key="b"),
        Draft(member=member, type="purchase", attributes={"amount": "20.00"}, idempotency_key="c"),
    ]
    outcomes = activities_record_many(brand=brand, drafts=drafts)
    assert [(o.created, o.error) for o in outcomes] == [(True, None)] * 3
    recorded = {a.idempotency_key: a for a in Activity.objects.filter(brand=brand, type="purchase")}
    account = PointsAccount.objects.get(member=member)
    earned = account.balance + account.pending
    assert earned == account.lifetime_earned == 30
    assert [recorded[key].points_awarded for key in "abc"] == [10, 3, 20]
    answered = [o.activity.balance_after if o.activity else "missing" for o in outcomes]
    assert [recorded[key].balance_after for key in "abc"] == answered
    entries = LedgerEntry.objects.filter(account=account).order_by("created_at")
    assert [(e.points, e.activity_id) for e in entries] == [(10, recorded["a"].pk), (20, recorded["c"].pk)]
    assert PointsLot.objects.filter(account=account).count() == 2
