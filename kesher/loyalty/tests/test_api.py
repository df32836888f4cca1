"""Points, rewards, redemptions and coupons over the API, as a till and a manager use them."""

from __future__ import annotations

import pytest

from kesher.core.audit import SYSTEM
from kesher.core.models import AuditEntry
from kesher.loyalty.models import Coupon, LedgerEntry, PointsAccount, Reward
from kesher.loyalty.services import ledger_verify, points_adjust
from kesher.members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

COFFEE = {
    "name": "קפה",
    "cost_points": 50,
    "kind": "discount_fixed",
    "value": "10.00",
    "stock": 10,
    "per_member_limit": 5,
}


@pytest.fixture
def member_with_99(api, brand):
    member = MemberFactory(brand=brand)
    api.post(
        "/activities",
        {
            "member_id": str(member.pk),
            "type": "purchase",
            "attributes": {"amount": "99.90", "currency": "ILS"},
        },
        idem="buy",
    )
    return member


def test_points_summary(api, member_with_99):
    body = api.get(f"/members/{member_with_99.pk}/points").body
    assert {
        k: body[k] for k in ("balance", "pending", "lifetime_earned", "lifetime_redeemed", "expiring_soon")
    } == {"balance": 99, "pending": 0, "lifetime_earned": 99, "lifetime_redeemed": 0, "expiring_soon": 0}


def test_redeem_issues_a_coupon_and_takes_the_points(api, member_with_99):
    reward = api.post("/rewards", COFFEE).body
    answer = api.post(
        "/redemptions", {"member_id": str(member_with_99.pk), "reward_id": reward["id"]}, idem="r1"
    )
    assert answer.status == 201
    assert len(answer.body["code"]) == 12 and answer.body["status"] == "issued"
    assert answer.body["balance"] == 49
    account = PointsAccount.objects.get(member=member_with_99)
    assert (account.balance, account.lifetime_redeemed) == (49, 50)
    assert Reward.objects.get(pk=reward["id"]).stock == 9
    assert ledger_verify() == []


def test_short_of_points_is_409_and_nothing_changes(api, member_with_99):
    reward = api.post("/rewards", {**COFFEE, "cost_points": 100}).body
    answer = api.post(
        "/redemptions", {"member_id": str(member_with_99.pk), "reward_id": reward["id"]}, idem="r1"
    )
    assert answer.status == 409 and answer.body["error"]["code"] == "insufficient_points"
    assert PointsAccount.objects.get(member=member_with_99).balance == 99
    assert Reward.objects.get(pk=reward["id"]).stock == 10
    assert Coupon.objects.count() == 0
    # The refusal is the answer for that key too.
    again = api.post(
        "/redemptions", {"member_id": str(member_with_99.pk), "reward_id": reward["id"]}, idem="r1"
    )
    assert (again.status, again.body) == (answer.status, answer.body)


def test_out_of_stock_and_per_member_limit(api, member_with_99):
    none_left = api.post("/rewards", {**COFFEE, "cost_points": 10, "stock": 0}).body
    refused = api.post("/redemptions", {"member_id": str(member_with_99.pk), "reward_id": none_left["id"]})
    assert refused.status == 409 and refused.body["error"]["code"] == "out_of_stock"
    once = api.post("/rewards", {**COFFEE, "cost_points": 10, "per_member_limit": 1}).body
    assert (
        api.post("/redemptions", {"member_id": str(member_with_99.pk), "reward_id": once["id"]}).status == 201
    )
    second = api.post("/redemptions", {"member_id": str(member_with_99.pk), "reward_id": once["id"]})
    assert second.status == 409 and second.body["error"]["code"] == "limit_reached"
    assert PointsAccount.objects.get(member=member_with_99).balance == 89


def test_cashier_burns_a_coupon_once(api, member_with_99, brand):
    reward = api.post("/rewards", COFFEE).body
    code = api.post("/redemptions", {"member_id": str(member_with_99.pk), "reward_id": reward["id"]}).body[
        "code"
    ]
    burned = api.post(f"/coupons/{code.lower()}/redeem", {"store": "דיזנגוף"}, idem="burn-1")
    assert burned.status == 200 and burned.body["status"] == "used"
    retried = api.post(f"/coupons/{code.lower()}/redeem", {"store": "דיזנגוף"}, idem="burn-1")
    assert (retried.status, retried.body) == (200, burned.body)
    changed = api.post(f"/coupons/{code}/redeem", {}, idem="burn-1")
    assert changed.status == 422 and changed.body["error"]["code"] == "idempotency_key_reused"
    again = api.post(f"/coupons/{code}/redeem", {}, idem="burn-2")
    assert again.status == 409 and again.body["error"]["code"] == "coupon_used"
    assert api.post("/coupons/NOSUCHCODE/redeem", {}).status == 404
    assert AuditEntry.objects.filter(brand=brand, action="coupon.redeem").count() == 1


def test_redemption_spends_soonest_expiring_lots_first(brand):
    from datetime import timedelta

    from django.utils import timezone

    from kesher.loyalty.models import PointsLot
    from kesher.loyalty.services import redemption_create, reward_create

    member = MemberFactory(brand=brand)
    points_adjust(member=member, points=30, reason="never expires", actor=SYSTEM)
    points_adjust(member=member, points=30, reason="expires soon", actor=SYSTEM)
    soon = PointsLot.objects.get(
        account_id=member.pk,
        points=30,
        remaining=30,
        rule=None,
        pk=PointsLot.objects.filter(account_id=member.pk).order_by("-pk")[0].pk,
    )
    soon.expires_at = timezone.now() + timedelta(days=3)
    soon.save()
    reward = reward_create(brand=brand, name="x", cost_points=40, kind="gift")
    redemption_create(member=member, reward=reward)
    lots = {
        lot.expires_at is not None: lot.remaining for lot in PointsLot.objects.filter(account_id=member.pk)
    }
    assert lots == {True: 0, False: 20}
    assert ledger_verify() == []


def test_manual_adjustment_needs_manage_scope_and_a_reason_and_is_audited(brand, make_api, member_with_99):
    pos = make_api(brand, "pos")
    assert pos.post(f"/members/{member_with_99.pk}/points/adjust", {"points": 5, "reason": "x"}).status == 403
    manager = make_api(brand, "manage")
    assert (
        manager.post(f"/members/{member_with_99.pk}/points/adjust", {"points": 5, "reason": ""}).status == 422
    )
    too_much = manager.post(
        f"/members/{member_with_99.pk}/points/adjust", {"points": -500, "reason": "fraud"}
    )
    assert too_much.status == 409
    taken = manager.post(
        f"/members/{member_with_99.pk}/points/adjust", {"points": -9, "reason": "double scan"}
    )
    assert taken.status == 201 and taken.body["balance_after"] == 90
    assert AuditEntry.objects.filter(action="points.adjust").count() == 1
    assert ledger_verify() == []


def test_ledger_is_newest_first_and_paged(api, member_with_99):
    for n in range(3):
        points_adjust(member=member_with_99, points=n + 1, reason=f"gift {n}", actor=SYSTEM)
    first = api.get(f"/members/{member_with_99.pk}/ledger?limit=2").body
    assert [e["description"] for e in first["items"]] == ["gift 2", "gift 1"]
    rest = api.get(f"/members/{member_with_99.pk}/ledger?limit=2&cursor={first['next_cursor']}").body
    assert [e["points"] for e in rest["items"]] == [1, 99]
    assert rest["next_cursor"] is None


def test_earning_rules_are_managed_over_the_api(brand, make_api):
    manager = make_api(brand, "manage")
    rule = {
        "name": "Double on Fridays",
        "activity_type": "visit",
        "effect": "fixed",
        "points": 7,
        "daily_limit": 1,
    }
    created = manager.post("/earning-rules", rule)
    assert created.status == 201
    assert manager.post("/earning-rules", {**rule, "activity_type": "teleport"}).status == 422
    member = MemberFactory(brand=brand)
    visit = {"member_id": str(member.pk), "type": "visit", "attributes": {"store": "x"}}
    assert manager.post("/activities", visit).body["points_awarded"] == 7
    assert manager.post("/activities", visit).body["points_awarded"] == 0  # one a day
    names = [r["name"] for r in manager.get("/earning-rules").body]
    assert "Double on Fridays" in names and "1 point for every 1 ILS spent" in names


def test_social_shares_earn_at_most_three_a_day(api, brand):
    member = MemberFactory(brand=brand)
    share = {"member_id": str(member.pk), "type": "social_share", "attributes": {"network": "instagram"}}
    awarded = [api.post("/activities", share).body["points_awarded"] for _ in range(4)]
    assert awarded == [5, 5, 5, 0]
    assert LedgerEntry.objects.filter(account_id=member.pk, kind="earn").count() == 3
