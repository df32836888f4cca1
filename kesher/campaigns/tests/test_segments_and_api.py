"""Segments (rules over fields, interests, consent, locale, activity and points), the campaign API's
refusals, the template sandbox, previews and the staff page."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from kesher.activity.services import activity_record
from kesher.brands.models import StaffRole
from kesher.brands.services import staff_grant
from kesher.campaigns import selectors, services
from kesher.campaigns.models import Campaign, CampaignStatus, Message, MessageEvent, Segment
from kesher.campaigns.tests.conftest import member
from kesher.core.errors import ValidationFailed
from kesher.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def _buy(brand: Any, who: Any, days_ago: int, sku: str = "latte", amount: str = "20.00") -> None:
    activity_record(
        brand=brand,
        member=who,
        type="purchase",
        attributes={"amount": Decimal(amount), "items": [{"sku": sku, "category": "coffee"}]},
        occurred_at=timezone.now() - timedelta(days=days_ago),
    )


@pytest.fixture
def people(brand: Any) -> dict[str, Any]:
    noa = member(
        brand, first_name="נועה", locale="he", interests=["fashion"], consents={"email": True, "sms": True}
    )
    dan = member(brand, first_name="Dan", locale="en", interests=["baby", "coffee"], consents={"email": True})
    ron = member(brand, first_name="רון", locale="he", interests=[], consents={"sms": True})
    old = member(brand, first_name="Old", locale="he", interests=["fashion"], consents={"email": False})
    _buy(brand, noa, 3)
    _buy(brand, dan, 40, sku="formula")
    _buy(brand, old, 200)
    for _ in range(3):
        activity_record(brand=brand, member=ron, type="visit", attributes={"store": "TLV"})
    return {"noa": noa, "dan": dan, "ron": ron, "old": old}


def _names(brand: Any, rules: dict[str, Any]) -> list[str]:
    return sorted(m.first_name for m in selectors.rules_members(brand=brand, rules=rules))


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ({}, ["Dan", "Old", "נועה", "רון"]),
        ({"conditions": [{"kind": "locale", "locale": "en"}]}, ["Dan"]),
        ({"conditions": [{"kind": "interests", "any": ["fashion", "baby"]}]}, ["Dan", "Old", "נועה"]),
        ({"conditions": [{"kind": "interests", "all": ["baby", "coffee"]}]}, ["Dan"]),
        ({"conditions": [{"kind": "consent", "channel": "sms"}]}, ["נועה", "רון"]),
        ({"conditions": [{"kind": "purchased", "within_days": 30}]}, ["נועה"]),
        ({"conditions": [{"kind": "purchased", "within_days": 60, "sku": "formula"}]}, ["Dan"]),
        ({"conditions": [{"kind": "no_purchase", "for_days": 30}]}, ["Dan", "Old", "רון"]),
        ({"conditions": [{"kind": "points", "above": 0}]}, ["Dan", "Old", "נועה"]),
        (
            {"conditions": [{"kind": "activity", "types": ["visit"], "within_days": 7, "min_count": 3}]},
            ["רון"],
        ),
        ({"conditions": [{"kind": "activity", "types": ["visit"], "within_days": 7, "min_count": 4}]}, []),
        ({"conditions": [{"kind": "field", "field": "first_name", "op": "contains", "value": "a"}]}, ["Dan"]),
        (
            {
                "match": "any",
                "conditions": [{"kind": "locale", "locale": "en"}, {"kind": "consent", "channel": "sms"}],
            },
            ["Dan", "נועה", "רון"],
        ),
        (
            {
                "conditions": [
                    {"kind": "interests", "any": ["fashion"]},
                    {
                        "kind": "group",
                        "negate": True,
                        "conditions": [{"kind": "no_purchase", "for_days": 90}],
                    },
                ]
            },
            ["נועה"],
        ),
    ],
)
def test_segment_rules_select_the_right_members(brand, people, rules, expected):
    assert _names(brand, rules) == expected


def test_segments_never_cross_brands(brand, other_brand, people):
    member(other_brand, first_name="Elsewhere", locale="en")
    assert _names(brand, {"conditions": [{"kind": "locale", "locale": "en"}]}) == ["Dan"]


def test_segment_api_saves_and_counts(api, brand, people):
    created = api.post(
        "/campaigns/segments",
        {"name": " Fashion  fans ", "rules": {"conditions": [{"kind": "interests", "any": ["Fashion"]}]}},
    )
    assert created.status == 201, created.body
    assert created.body["name"] == "Fashion fans"
    assert created.body["count"] == {"members": 2, "reachable": {"email": 1, "sms": 1}}
    count = api.get(f"/campaigns/segments/{created.body['id']}/count")
    assert count.body == {"members": 2, "reachable": {"email": 1, "sms": 1}}
    unsaved = api.post(
        "/campaigns/segments/count", {"rules": {"conditions": [{"kind": "locale", "locale": "he"}]}}
    )
    assert unsaved.body == {"members": 3, "reachable": {"email": 1, "sms": 2}}
    duplicate = api.post("/campaigns/segments", {"name": "Fashion fans", "rules": {}})
    assert (duplicate.status, duplicate.body["error"]["code"]) == (409, "duplicate_segment")
    assert AuditEntry.objects.filter(brand=brand, action="segment.create").count() == 1


@pytest.mark.parametrize(
    ("rules", "field"),
    [
        (
            {"conditions": [{"kind": "purchased", "within_days": 0}]},
            "rules.conditions.0.purchased.within_days",
        ),
        ({"conditions": [{"kind": "astrology"}]}, "rules.conditions.0"),
        ({"conditions": [{"kind": "locale", "locale": "fr"}]}, "rules.conditions.0.locale.locale"),
        ({"match": "all", "extra": 1}, "rules.extra"),
    ],
)
def test_bad_rules_are_refused_naming_the_place(api, rules, field):
    answer = api.post("/campaigns/segments", {"name": "x", "rules": rules})
    assert answer.status == 422
    assert answer.body["error"]["field"] == field
    assert Segment.objects.count() == 0


def test_campaign_api_needs_the_manage_scope(make_api, brand):
    pos = make_api(brand, "pos")
    answer = pos.post(
        "/campaigns", {"name": "x", "channel": "email", "subject": "s", "body": "b", "advertising": True}
    )
    assert (answer.status, answer.body["error"]["code"]) == (403, "insufficient_scope")
    assert pos.get("/campaigns").status == 403
    assert Campaign.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"subject": ""}, "subject"),
        ({"channel": "fax"}, "channel"),
        ({"body": "{% load static %}hi"}, "body"),
        ({"body": '{% include "web/base.html" %}'}, "body"),
        ({"body": "{{ request.user }}"}, "body"),
        ({"body": "{{ settings.SECRET_KEY }}"}, "body"),
        ({"body": "{{ first_name|ljust:'99999999' }}"}, "body"),
        ({"body": "{% if %}"}, "body"),
        ({"subject": "{{ password }}"}, "subject"),
        ({"translations": {"he": {"subject": "s", "body": "b"}}}, "translations.he"),
        ({"translations": {"en": {"subject": "", "body": "b"}}}, "translations.en.subject"),
        ({"blocks": [{"interests": ["x"], "text": "{% url 'home' %}"}]}, "blocks.0.text"),
        ({"segment": "6a1f0d4e-0000-4000-8000-000000000000"}, None),
    ],
)
def test_campaign_refusals_name_the_field_and_create_nothing(api, change, field):
    payload = {
        "name": "x",
        "channel": "email",
        "subject": "s",
        "body": "hi {{ first_name }}",
        "advertising": True,
    }
    answer = api.post("/campaigns", {**payload, **change})
    assert answer.status in (404, 422), answer.body
    assert answer.body["error"]["field"] == field
    assert Campaign.objects.count() == 0


def test_another_brands_campaign_and_segment_are_not_found(api, other_brand):
    theirs = services.campaign_create(
        brand=other_brand, name="x", channel="email", subject="s", body="b", advertising=False
    )
    segment = services.segment_create(brand=other_brand, name="theirs", rules={})
    assert api.get(f"/campaigns/{theirs.pk}/stats").status == 404
    assert api.post(f"/campaigns/{theirs.pk}/send").status == 404
    created = api.post(
        "/campaigns",
        {
            "name": "x",
            "channel": "email",
            "subject": "s",
            "body": "b",
            "advertising": True,
            "segment": str(segment.pk),
        },
    )
    assert created.status == 404
    theirs.refresh_from_db()
    assert theirs.status == CampaignStatus.DRAFT


def test_sandbox_sees_only_the_member_context_and_names_everyone(brand):
    nameless = member(brand, first_name="", email="x@example.org", consents={"email": True})
    campaign = services.campaign_create(
        brand=brand,
        name="x",
        channel="email",
        subject="{{ first_name|upper }}",
        body="שלום {{ first_name }}, {{ brand }}: {{ points|intcomma }} "
        "{% for i in interests %}[{{ i }}]{% endfor %}",
        advertising=False,
    )
    preview = services.campaign_preview(campaign=campaign, member=nameless)
    assert preview.subject == "חבר/ת מועדון".upper()
    assert "שלום חבר/ת מועדון, קפה טוב: 0" in preview.text
    with pytest.raises(ValidationFailed):
        services.campaign_create(
            brand=brand, name="y", channel="email", subject="s", body="{% debug %}", advertising=False
        )


def test_preview_and_size_warnings(api, brand):
    noa = member(brand, first_name="נועה", phone="050-1234567", consents={"sms": True})
    long_body = "מבצע ענק " * 30
    created = api.post("/campaigns", {"name": "x", "channel": "sms", "body": long_body, "advertising": True})
    assert created.status == 201
    assert [w["code"] for w in created.body["warnings"]] == ["no_name"]
    preview = api.post(f"/campaigns/{created.body['id']}/preview", {"member_id": str(noa.pk)})
    assert preview.status == 200, preview.body
    assert preview.body["text"].startswith("פרסומת: מבצע ענק")
    assert preview.body["sms_parts"] == 5
    assert [w["code"] for w in preview.body["warnings"]] == ["no_name", "long_sms"]
    assert Message.objects.count() == 0  # a preview writes nothing


def test_test_send_goes_to_the_staff_address_only(api, brand, mailoutbox):
    member(brand, first_name="נועה", email="noa@example.org", consents={"email": True})
    created = api.post(
        "/campaigns",
        {
            "name": "x",
            "channel": "email",
            "subject": "היי {{ first_name }}",
            "body": "b {{ first_name }}",
            "advertising": True,
        },
    )
    answer = api.post(f"/campaigns/{created.body['id']}/test", {"to": "Marketer@Example.org"})
    assert answer.status == 202, answer.body
    assert [m.to for m in mailoutbox] == [["marketer@example.org"]]
    assert mailoutbox[0].subject == "פרסומת: [בדיקה] היי נועה"
    assert Message.objects.count() == 0 and MessageEvent.objects.count() == 0
    assert AuditEntry.objects.filter(action="campaign.test_send").count() == 1


def test_messaging_settings_api(api, brand):
    assert api.get("/campaigns/settings").body["sender_name"] == "קפה טוב"
    changed = api.patch(
        "/campaigns/settings",
        {
            "sender_name": "קפה טוב בע״מ",
            "weekly_advertising_cap": 2,
            "sms_provider_url": "twilio://AC1:t@api.twilio.com",
        },
    )
    assert changed.status == 200, changed.body
    assert (changed.body["sender_name"], changed.body["weekly_advertising_cap"]) == ("קפה טוב בע״מ", 2)
    assert changed.body["sms_provider_configured"] is True
    bad = api.patch("/campaigns/settings", {"sms_provider_url": "pigeon://coop"})
    assert (bad.status, bad.body["error"]["field"]) == (422, "sms_provider_url")
    audit = AuditEntry.objects.get(action="messaging_settings.update")
    assert "sms_provider_url" not in audit.data  # credentials stay out of the log


def _staff(brand: Any, role: str, email: str) -> Client:
    user = get_user_model().objects.create_user(username=email, email=email, password="x")
    staff_grant(brand=brand, user=user, role=role)
    client = Client()
    client.force_login(user)
    return client


def test_staff_page_shows_the_funnel_to_the_brands_marketers_only(brand, other_brand, settings):
    campaign = services.campaign_create(
        brand=brand, name="אביב", channel="email", subject="s", body="b {{ first_name }}", advertising=True
    )
    marketer = _staff(brand, StaffRole.MARKETER, "m@cafe.test")
    page = marketer.get(f"/c/staff/{campaign.pk}/", HTTP_ACCEPT_LANGUAGE="he")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'dir="rtl"' in html and "אביב" in html
    # a draft has no funnel yet (not "100% of 0"): the page says it has not gone out
    assert 'data-test="not-sent"' in html and 'data-test="results"' not in html
    assert marketer.get("/c/staff/").status_code == 200
    outsider = _staff(other_brand, StaffRole.OWNER, "o@shop.test")
    assert outsider.get(f"/c/staff/{campaign.pk}/").status_code == 403
    moderator = _staff(brand, StaffRole.MODERATOR, "mod@cafe.test")
    assert moderator.get(f"/c/staff/{campaign.pk}/").status_code == 403
    assert Client().get(f"/c/staff/{campaign.pk}/").status_code == 302
