"""row_get returns what the ORM's get() returns: every field converted alike, related rows in place."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import Model
from django.test.utils import CaptureQueriesContext

from kesher.activity.models import Activity
from kesher.brands.models import ApiKey, Brand
from kesher.brands.services import api_key_create, api_key_revoke
from kesher.core.audit import SYSTEM
from kesher.core.rows import row_get
from kesher.loyalty.models import PointsAccount
from kesher.loyalty.services.accounts import account_open
from kesher.members.models import Member
from kesher.members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def values(obj: Model) -> dict[str, object]:
    return {field.attname: getattr(obj, field.attname) for field in obj._meta.concrete_fields}


def test_a_member_is_the_same_as_the_orms_with_its_brand_in_place(brand: Brand) -> None:
    member = MemberFactory(
        brand=brand, interests=["קפה", "מאפים"], birthday=dt.date(1990, 2, 28), first_name="אורי"
    )
    with CaptureQueriesContext(connection) as queries:
        found = row_get(Member, related=("brand",), brand_id=brand.pk, pk=str(member.pk))
        assert found is not None
        assert found.brand.slug == brand.slug  # no second query for the brand
    assert len(queries) == 1
    orm = Member.objects.select_related("brand").get(pk=member.pk)
    assert values(found) == values(orm)
    assert values(found.brand) == values(orm.brand)
    assert isinstance(found.pk, uuid.UUID) and isinstance(found.joined_at, dt.datetime)
    assert found.joined_at.tzinfo is not None and found.interests == ["קפה", "מאפים"]
    assert found._state.adding is False and found._state.db == "default"


def test_nothing_found_and_another_brand_are_none(brand: Brand, other_brand: Brand) -> None:
    member = MemberFactory(brand=brand)
    assert row_get(Member, brand_id=other_brand.pk, pk=member.pk) is None
    assert row_get(Member, brand_id=brand.pk, pk=uuid.uuid4()) is None


def test_isnull_conditions_and_a_key_that_was_revoked(brand: Brand) -> None:
    api_key = api_key_create(brand=brand, scope="pos", name="till", actor=SYSTEM).api_key
    live = row_get(ApiKey, related=("brand",), prefix=api_key.prefix, revoked_at__isnull=True)
    assert live is not None and live.pk == api_key.pk and live.brand.pk == brand.pk
    assert row_get(ApiKey, prefix=api_key.prefix, revoked_at__isnull=False) is None
    api_key_revoke(api_key=api_key, actor=SYSTEM)
    assert row_get(ApiKey, prefix=api_key.prefix, revoked_at__isnull=True) is None
    revoked = row_get(ApiKey, prefix=api_key.prefix, revoked_at__isnull=False)
    assert revoked is not None and revoked.revoked_at is not None


def test_a_nullable_foreign_key_with_nothing_behind_it_is_none(brand: Brand) -> None:
    member = MemberFactory(brand=brand)
    account_open(member=member)
    found = row_get(PointsAccount, related=("tier", "brand"), member_id=member.pk)
    assert found is not None and found.tier is None and found.brand.pk == brand.pk
    assert values(found) == values(PointsAccount.objects.get(pk=member.pk))


def test_json_and_decimal_values_come_back_as_the_orm_gives_them(brand: Brand) -> None:
    member = MemberFactory(brand=brand)
    activity = Activity.objects.create(
        brand=brand,
        member=member,
        type="purchase",
        occurred_at=dt.datetime(2026, 5, 1, 9, 30, tzinfo=dt.UTC),
        attributes={"amount": "12.50", "items": [{"sku": "א-1", "quantity": 2}]},
    )
    found = row_get(Activity, pk=activity.pk)
    assert found is not None
    assert values(found) == values(Activity.objects.get(pk=activity.pk))
    assert Decimal(found.attributes["amount"]) == Decimal("12.50")


def test_lock_asks_for_the_row_lock_where_the_database_has_one(brand: Brand, db_vendor: str) -> None:
    member = MemberFactory(brand=brand)
    account_open(member=member)
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        assert row_get(PointsAccount, lock=True, member_id=member.pk) is not None
    # SQLite has no row locks: its writers take the whole database in turn.
    assert queries[0]["sql"].endswith("FOR UPDATE OF t0") == (db_vendor == "postgresql")


def test_only_equality_and_isnull_are_understood(brand: Brand) -> None:
    with pytest.raises(ValueError, match="equality"):
        row_get(Member, brand_id=brand.pk, email__icontains="x")
