"""The activity stream over the API: schemas per type, idempotent replays, bulk with partial success."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from kesher.activity.models import Activity, ConsumerRun
from kesher.activity.registry import consumer, registry
from kesher.activity.tasks import activity_dispatch
from kesher.core.models import IdempotencyRecord
from kesher.loyalty.models import LedgerEntry, PointsAccount
from kesher.members.models import Member
from kesher.members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def purchase(member, amount="99.90", **extra):
    return {
        "member_id": str(member.pk),
        "type": "purchase",
        "attributes": {"amount": amount, "currency": "ILS", "store": "דיזנגוף", **extra},
    }


def test_purchase_earns_one_point_per_shekel_and_answers_with_the_balance(api, brand):
    member = MemberFactory(brand=brand)
    answer = api.post("/activities", purchase(member), idem="p-1")
    assert answer.status == 201
    assert (answer.body["points_awarded"], answer.body["balance"]) == (99, 99)
    assert answer.body["type"] == "purchase"
    assert answer.body["attributes"]["amount"] == "99.90"
    assert PointsAccount.objects.get(member=member).balance == 99


def test_activity_by_the_members_external_id(api, brand):
    member = MemberFactory(brand=brand, external_id="pos-77")
    answer = api.post(
        "/activities", {"external_id": "pos-77", "type": "visit", "attributes": {"store": "חיפה"}}
    )
    assert answer.status == 201 and answer.body["member_id"] == str(member.pk)


def test_replay_returns_the_first_answer_and_changes_nothing(api, brand):
    member = MemberFactory(brand=brand)
    first = api.post("/activities", purchase(member), idem="same")
    replay = api.post("/activities", purchase(member), idem="same")
    assert (replay.status, replay.body) == (first.status, first.body)
    assert Activity.objects.filter(type="purchase").count() == 1
    assert PointsAccount.objects.get(member=member).balance == 99


def test_a_replay_answers_the_same_bytes_whatever_the_offset_and_key_order(api, brand):
    member = MemberFactory(brand=brand)
    body = {
        **purchase(member, items=[{"unit_price": "33.30", "sku": "ק-1", "quantity": 3}]),
        "occurred_at": "2026-11-20T09:15:00.250000+02:00",
    }
    first = api.post("/activities", body, idem="offset")
    replay = api.post("/activities", body, idem="offset")
    assert first.status == replay.status == 201
    assert json.dumps(first.body) == json.dumps(replay.body)  # order kept by json.loads: same bytes
    assert datetime.fromisoformat(first.body["occurred_at"]) == datetime(2026, 11, 20, 7, 15, 0, 250000, UTC)


def test_same_key_with_a_different_body_is_refused_and_changes_nothing(api, brand):
    member = MemberFactory(brand=brand)
    api.post("/activities", purchase(member), idem="same")
    other = api.post("/activities", purchase(member, amount="10.00"), idem="same")
    assert other.status == 422 and other.body["error"]["code"] == "idempotency_key_reused"
    assert Activity.objects.filter(type="purchase").count() == 1
    assert PointsAccount.objects.get(member=member).balance == 99


def test_a_refusal_is_not_kept_so_the_retry_is_checked_again(api, brand):
    member = MemberFactory(brand=brand)
    Member.objects.filter(pk=member.pk).update(status="blocked")
    refused = api.post("/activities", purchase(member), idem="till-9")
    assert refused.status == 409 and refused.body["error"]["code"] == "member_inactive"
    assert Activity.objects.filter(type="purchase").count() == 0
    Member.objects.filter(pk=member.pk).update(status="active")
    retried = api.post("/activities", purchase(member), idem="till-9")
    assert retried.status == 201 and retried.body["points_awarded"] == 99
    again = api.post("/activities", purchase(member), idem="till-9")
    assert (again.status, again.body) == (retried.status, retried.body)
    assert PointsAccount.objects.get(member=member).balance == 99


def test_the_key_is_kept_on_the_activity_with_the_requests_fingerprint(api, brand):
    member = MemberFactory(brand=brand)
    first = api.post("/activities", purchase(member), idem="fp-1")
    activity = Activity.objects.get(pk=first.body["id"])
    assert activity.idempotency_key == "fp-1" and len(activity.request_hash or "") == 64
    assert not IdempotencyRecord.objects.exists()  # no second bookkeeping row for an activity


def test_an_idempotency_key_too_long_is_refused_and_changes_nothing(api, brand):
    member = MemberFactory(brand=brand)
    answer = api.post("/activities", purchase(member), idem="k" * 256)
    assert answer.status == 422 and answer.body["error"]["field"] == "Idempotency-Key"
    assert not Activity.objects.filter(type="purchase").exists() and not LedgerEntry.objects.exists()


def test_reference_from_the_same_source_is_a_replay(api, brand):
    member = MemberFactory(brand=brand)
    body = {**purchase(member), "source": "till-3", "reference": "order-555"}
    first = api.post("/activities", body)
    second = api.post("/activities", body)
    assert second.body["id"] == first.body["id"]
    assert PointsAccount.objects.get(member=member).balance == 99


@pytest.mark.parametrize(
    ("attributes", "field"),
    [
        ({"currency": "ILS"}, "attributes.amount"),
        ({"amount": "-5"}, "attributes.amount"),
        ({"amount": "abc"}, "attributes.amount"),
        ({"amount": "10.001"}, "attributes.amount"),
        ({"amount": "10", "currency": "shekel"}, "attributes.currency"),
        ({"amount": "10", "colour": "red"}, "attributes.colour"),
        ({"amount": "10", "items": [{"quantity": 1}]}, "attributes.items.0.sku"),
    ],
)
def test_bad_purchase_attributes_name_the_field(api, brand, attributes, field):
    member = MemberFactory(brand=brand)
    answer = api.post(
        "/activities", {"member_id": str(member.pk), "type": "purchase", "attributes": attributes}
    )
    assert answer.status == 422, answer.body
    assert answer.body["error"]["field"] == field
    assert Activity.objects.filter(type="purchase").count() == 0
    assert LedgerEntry.objects.count() == 0


def test_unknown_type_member_and_future_dates_are_refused(api, brand, other_brand):
    member = MemberFactory(brand=brand)
    unknown_type = api.post("/activities", {"member_id": str(member.pk), "type": "teleport"})
    assert unknown_type.status == 422 and unknown_type.body["error"]["field"] == "type"
    stranger = MemberFactory(brand=other_brand)
    assert api.post("/activities", purchase(stranger)).status == 404
    future = {**purchase(member), "occurred_at": (timezone.now() + timedelta(days=1)).isoformat()}
    assert api.post("/activities", future).body["error"]["field"] == "occurred_at"
    both = {**purchase(member), "external_id": "x"}
    assert api.post("/activities", both).status == 422
    assert Activity.objects.filter(type="purchase").count() == 0


def test_a_return_refers_to_its_purchase(api, brand):
    member = MemberFactory(brand=brand)
    refused = api.post("/activities", {"member_id": str(member.pk), "type": "return", "attributes": {}})
    assert refused.status == 422 and refused.body["error"]["field"] == "attributes.purchase_id"


def test_bulk_records_each_item_alone(api, brand):
    member = MemberFactory(brand=brand)
    items = [
        {**purchase(member, amount="10.00"), "idempotency_key": "b-1"},
        {**purchase(member, amount="oops"), "idempotency_key": "b-2"},
        {"member_id": "00000000-0000-0000-0000-000000000000", "type": "visit", "attributes": {"store": "x"}},
        {**purchase(member, amount="20.00"), "idempotency_key": "b-3"},
        {**purchase(member, amount="10.00"), "idempotency_key": "b-1", "unknown": 1},
    ]
    answer = api.post("/activities/bulk", {"activities": items})
    assert answer.status == 200
    assert [r["status"] for r in answer.body["results"]] == [201, 422, 404, 201, 422]
    assert answer.body["results"][1]["error"]["field"] == "attributes.amount"
    assert answer.body["results"][4]["error"]["field"] == "unknown"
    assert (answer.body["created"], answer.body["failed"]) == (2, 3)
    assert PointsAccount.objects.get(member=member).balance == 30
    again = api.post("/activities/bulk", {"activities": [items[0], items[3]]})
    assert (again.body["created"], again.body["replayed"]) == (0, 2)
    assert [r["activity"]["id"] for r in again.body["results"]] == [
        answer.body["results"][0]["activity"]["id"],
        answer.body["results"][3]["activity"]["id"],
    ]
    assert PointsAccount.objects.get(member=member).balance == 30


def test_bulk_is_limited_to_a_thousand(api, brand):
    member = MemberFactory(brand=brand)
    answer = api.post("/activities/bulk", {"activities": [purchase(member)] * 1001})
    assert answer.status == 422
    assert Activity.objects.filter(type="purchase").count() == 0


def test_deferred_consumers_run_after_commit_and_once(api, brand, django_capture_on_commit_callbacks):
    seen: list[str] = []

    def remember(activity):
        seen.append(str(activity.pk))

    consumer("visit", name="test.visits")(remember)
    try:
        member = MemberFactory(brand=brand)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            answer = api.post(
                "/activities", {"member_id": str(member.pk), "type": "visit", "attributes": {"store": "x"}}
            )
        assert seen == []  # nothing ran inside the activity's transaction
        for callback in callbacks:
            callback()
        assert seen == [answer.body["id"]]
        assert activity_dispatch.apply(args=[answer.body["id"], "test.visits"]).get() == "already-done"
        assert seen == [answer.body["id"]]
        assert ConsumerRun.objects.filter(consumer="test.visits").count() == 1
    finally:
        registry.deferred["visit"] = [e for e in registry.deferred["visit"] if e[0] != "test.visits"]
        registry.deferred_by_name.pop("test.visits")


def test_bulk_gives_the_same_points_as_one_by_one(api, brand, django_capture_on_commit_callbacks):
    from kesher.loyalty.models import LoyaltyProgram
    from kesher.loyalty.services import earning_rule_create, ledger_verify

    LoyaltyProgram.objects.filter(brand=brand).update(pending_days=0, expiry="days", expiry_value=365)
    earning_rule_create(
        brand=brand, name="Visit", activity_type="visit", effect="fixed", points=4, daily_limit=1
    )
    earning_rule_create(
        brand=brand, name="Beans", activity_type="purchase", effect="fixed", points=7, skus=["B"]
    )
    alice, bob, carol = MemberFactory(brand=brand), MemberFactory(brand=brand), MemberFactory(brand=brand)
    friend = MemberFactory(brand=brand, referral_code=alice.referral_code)

    def items(member, key):
        return [
            {
                **purchase(member, amount="30.00", items=[{"sku": "B", "unit_price": "30.00"}]),
                "idempotency_key": f"{key}1",
            },
            {
                "member_id": str(member.pk),
                "type": "visit",
                "attributes": {"store": "x"},
                "idempotency_key": f"{key}2",
            },
            {
                "member_id": str(member.pk),
                "type": "visit",
                "attributes": {"store": "x"},
                "idempotency_key": f"{key}3",
            },
            {**purchase(member, amount="12.50"), "idempotency_key": f"{key}4"},
        ]

    carols = [items(carol, "c")[0], items(carol, "c")[3]]  # purchases only: the batched path
    batch = (
        items(alice, "a") + items(bob, "b") + [{**purchase(friend, amount="5.00"), "idempotency_key": "f1"}]
    )
    batch += carols
    with django_capture_on_commit_callbacks(execute=True):
        answer = api.post("/activities/bulk", {"activities": batch})
    assert [r["activity"]["points_awarded"] for r in answer.body["results"]] == [37, 4, 0, 12] * 2 + [
        5,
        37,
        12,
    ]
    assert [r["activity"]["balance"] for r in answer.body["results"][:4]] == [37, 41, 41, 53]
    assert [r["activity"]["balance"] for r in answer.body["results"][-2:]] == [37, 49]
    assert PointsAccount.objects.get(member=carol).balance == 49
    # Alice also got the referral (100) once her friend bought for the first time.
    assert PointsAccount.objects.get(member=alice).balance == 53 + 100
    assert PointsAccount.objects.get(member=bob).balance == 53
    assert PointsAccount.objects.get(member=friend).balance == 5 + 100
    assert all(lot.expires_at is not None for lot in alice.points.lots.all())
    assert ledger_verify() == []


def test_bulk_items_repeating_a_key_in_one_call_are_replays(api, brand):
    member = MemberFactory(brand=brand)
    item = {**purchase(member, amount="10.00"), "idempotency_key": "twice"}
    answer = api.post("/activities/bulk", {"activities": [item, item]})
    assert (answer.body["created"], answer.body["replayed"]) == (1, 1)
    first, second = (r["activity"] for r in answer.body["results"])
    assert first == second
    assert PointsAccount.objects.get(member=member).balance == 10
