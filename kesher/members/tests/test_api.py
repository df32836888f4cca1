"""Members over the API: the POS calls, normalisation, consent proof and every kind of bad input."""

from __future__ import annotations

import uuid

import pytest

from kesher.core.models import AuditEntry
from kesher.members.models import ConsentEvent, Member
from kesher.members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

NEW = {
    "external_id": "till-1",
    "first_name": "נועה",
    "last_name": "לוי",
    "phone": "052-555-1234",
    "email": "  Noa.Levi@Example.ORG ",
    "locale": "he",
    "consents": {"email": True, "sms": False},
    "consent_wording": "אני מסכימה לקבל דיוור",
}


def test_create_member_normalises_and_records_consent_proof(api, brand):
    answer = api.post("/members", NEW)
    assert answer.status == 201
    body = answer.body
    assert body["phone"] == "+972525551234"
    assert body["email"] == "noa.levi@example.org"
    assert body["consents"] == {"email": True, "sms": False, "push": False}
    assert len(body["card_number"]) == 12 and body["card_number"].isdigit()
    uuid.UUID(body["id"])  # ids are opaque UUIDs
    events = list(ConsentEvent.objects.filter(member_id=body["id"]).order_by("channel"))
    assert [(e.channel, e.granted, e.wording) for e in events] == [
        ("email", True, "אני מסכימה לקבל דיוור"),
        ("sms", False, "אני מסכימה לקבל דיוור"),
    ]
    assert AuditEntry.objects.filter(brand=brand, action="consent.grant", target_id=body["id"]).count() == 1


@pytest.mark.parametrize("typed", ["050-1234567", "0501234567", "+972 50 123 4567", "972-50-1234567"])
def test_israeli_phone_in_any_form_is_stored_as_e164(api, typed):
    answer = api.post("/members", {"phone": typed})
    assert answer.status == 201, answer.body
    assert answer.body["phone"] == "+972501234567"


def test_read_member_by_id_and_by_external_id(api):
    created = api.post("/members", NEW).body
    assert api.get(f"/members/{created['id']}").body == created
    assert api.get("/members/by-external-id/till-1").body == created


def test_find_member_by_phone_with_dashes_or_card(api):
    created = api.post("/members", NEW).body
    assert [m["id"] for m in api.get("/members/find?q=052-5551234").body] == [created["id"]]
    assert [m["id"] for m in api.get(f"/members/find?q={created['card_number']}").body] == [created["id"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"phone": "12"}, "phone"),
        ({"locale": "fr"}, "locale"),
        ({"birthday": "2999-01-01"}, "birthday"),
        ({"birthday": "31/12/1990"}, "birthday"),
        ({"consents": {"fax": True}}, "consents"),
        ({"first_name": 7}, "first_name"),
        ({"favourite_colour": "blue"}, "favourite_colour"),
        ({"referral_code": "NOSUCH"}, "referral_code"),
    ],
)
def test_bad_member_input_is_refused_with_its_field_and_nothing_is_saved(api, body, field):
    answer = api.post("/members", body)
    assert answer.status == 422
    assert answer.body["error"]["field"] == field
    assert answer.body["error"]["code"] == "validation_error"
    assert Member.objects.count() == 0


def test_duplicate_external_id_or_email_is_a_conflict(api):
    api.post("/members", NEW)
    again = api.post("/members", {**NEW, "email": "other@example.org"})
    assert again.status == 409 and again.body["error"]["field"] == "external_id"
    same_email = api.post("/members", {"external_id": "till-2", "email": "NOA.LEVI@example.org"})
    assert same_email.status == 409 and same_email.body["error"]["field"] == "email"
    assert Member.objects.count() == 1


def test_malformed_json_and_huge_bodies_are_refused(api, settings):
    assert api.call("POST", "/members", raw=b'{"first_name": ').status == 400
    assert api.call("POST", "/members", raw=b'{"first_name": ').body["error"]["code"] == "malformed_json"
    huge = b'{"first_name": "' + b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10) + b'"}'
    answer = api.call("POST", "/members", raw=huge)
    assert answer.status == 413 and answer.body["error"]["code"] == "body_too_large"
    assert Member.objects.count() == 0


def test_consent_withdrawal_is_one_call_and_kept_as_history(api, brand):
    member = api.post("/members", NEW).body
    answer = api.post(
        f"/members/{member['id']}/consents",
        {"channel": "email", "granted": False, "source": "portal", "origin": "203.0.113.9"},
    )
    assert answer.status == 201
    assert api.get(f"/members/{member['id']}").body["consents"]["email"] is False
    history = api.get(f"/members/{member['id']}/consents").body
    assert [(h["channel"], h["granted"]) for h in history if h["channel"] == "email"] == [
        ("email", False),
        ("email", True),
    ]


def test_update_member_changes_only_what_was_sent(api):
    member = api.post("/members", NEW).body
    answer = api.patch(
        f"/members/{member['id']}", {"phone": "054 765 4321", "interests": ["Coffee", "coffee "]}
    )
    assert answer.status == 200
    assert answer.body["phone"] == "+972547654321"
    assert answer.body["interests"] == ["coffee"]
    assert answer.body["email"] == member["email"]


def test_list_members_needs_manage_scope_and_pages_by_cursor(brand, make_api):
    for _ in range(5):
        MemberFactory(brand=brand)
    pos = make_api(brand, "pos")
    refused = pos.get("/members")
    assert refused.status == 403 and refused.body["error"]["code"] == "insufficient_scope"
    manager = make_api(brand, "manage")
    first = manager.get("/members?limit=2").body
    second = manager.get(f"/members?limit=2&cursor={first['next_cursor']}").body
    third = manager.get(f"/members?limit=2&cursor={second['next_cursor']}").body
    seen = [m["id"] for page in (first, second, third) for m in page["items"]]
    assert len(seen) == 5 and len(set(seen)) == 5
    assert third["next_cursor"] is None
    assert manager.get("/members?cursor=garbage").status == 422


def test_erase_removes_personal_details_and_is_audited(brand, make_api):
    member = MemberFactory(brand=brand)
    manager = make_api(brand, "manage")
    answer = manager.post(f"/members/{member.pk}/erase")
    assert answer.status == 200
    assert (answer.body["status"], answer.body["email"], answer.body["phone"], answer.body["first_name"]) == (
        "erased",
        None,
        None,
        "",
    )
    assert AuditEntry.objects.filter(action="member.erase", target_id=str(member.pk)).exists()


def test_idempotent_member_create_replays_and_refuses_a_different_body(api):
    first = api.post("/members", NEW, idem="k-1")
    replay = api.post("/members", NEW, idem="k-1")
    assert (replay.status, replay.body) == (first.status, first.body)
    different = api.post("/members", {**NEW, "first_name": "תמר"}, idem="k-1")
    assert different.status == 422 and different.body["error"]["code"] == "idempotency_key_reused"
    assert Member.objects.count() == 1
