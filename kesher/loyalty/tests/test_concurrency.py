"""Races proven with real concurrent HTTP requests on PostgreSQL."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest

from kesher.activity.models import Activity
from kesher.brands.services import api_key_create, brand_create
from kesher.core.audit import SYSTEM
from kesher.core.tests.concurrency import post_concurrently
from kesher.loyalty.models import Coupon, LedgerEntry, PointsAccount
from kesher.loyalty.services import ledger_verify, points_adjust, reward_create
from kesher.members.models import Member
from kesher.members.tests.factories import MemberFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def setup(live_server):
    brand = brand_create(slug="race", name="Race")
    key = api_key_create(brand=brand, scope="all").raw_key
    return brand, key, live_server.url + "/api/v1"


def test_fifty_concurrent_redemptions_against_a_balance_for_ten(setup):
    brand, key, base = setup
    member = MemberFactory(brand=brand)
    points_adjust(member=member, points=100, reason="seed", actor=SYSTEM)
    reward = reward_create(brand=brand, name="coffee", cost_points=10, kind="free_item")
    body = {"member_id": str(member.pk), "reward_id": str(reward.pk)}
    results = post_concurrently(
        f"{base}/redemptions",
        key=key,
        bodies=[body] * 50,
        idempotency_keys=[uuid.uuid4().hex for _ in range(50)],
    )
    statuses = Counter(status for status, _ in results)
    assert statuses == Counter({201: 10, 409: 40})
    assert {b["error"]["code"] for s, b in results if s == 409} == {"insufficient_points"}
    assert PointsAccount.objects.get(member=member).balance == 0
    assert Coupon.objects.filter(member=member).count() == 10
    assert ledger_verify() == []


def test_twenty_identical_purchases_with_one_key_award_points_once(setup):
    brand, key, base = setup
    member = MemberFactory(brand=brand)
    body = {
        "member_id": str(member.pk),
        "type": "purchase",
        "attributes": {"amount": "120.00", "currency": "ILS"},
    }
    results = post_concurrently(
        f"{base}/activities", key=key, bodies=[body] * 20, idempotency_keys=["same"] * 20
    )
    assert {status for status, _ in results} == {201}
    assert len({str(b) for _, b in results}) == 1  # every caller got the same answer
    assert Activity.objects.filter(member=member, type="purchase").count() == 1
    assert PointsAccount.objects.get(member=member).balance == 120
    assert LedgerEntry.objects.filter(account_id=member.pk).count() == 1
    assert ledger_verify() == []


def test_concurrent_bulk_retries_record_each_activity_once(setup):
    brand, key, base = setup
    member = MemberFactory(brand=brand)
    items = [
        {
            "member_id": str(member.pk),
            "type": "purchase",
            "idempotency_key": f"line-{n}",
            "attributes": {"amount": "10.00"},
        }
        for n in range(20)
    ]
    results = post_concurrently(
        f"{base}/activities/bulk", key=key, bodies=[{"activities": items}] * 4, idempotency_keys=[None] * 4
    )
    assert {status for status, _ in results} == {200}
    assert sum(body["created"] for _, body in results) == 20
    assert all(body["failed"] == 0 for _, body in results)
    assert Activity.objects.filter(member=member, type="purchase").count() == 20
    assert PointsAccount.objects.get(member=member).balance == 200


def test_concurrent_creates_of_one_external_id_make_one_member(setup):
    brand, key, base = setup
    body = {"external_id": "dup-1", "first_name": "דנה"}
    results = post_concurrently(f"{base}/members", key=key, bodies=[body] * 10, idempotency_keys=[None] * 10)
    assert Counter(status for status, _ in results) == Counter({201: 1, 409: 9})
    assert Member.objects.filter(brand=brand, external_id="dup-1").count() == 1
