"""Signed bounce notices: with the brand's signatures on, a notice needs X-Kesher-Signature (HMAC-SHA256 of
"<t>.<body>" with the brand's signing secret, at most 5 minutes old); a missing, wrong, stale or replayed
one is a 401 that changes nothing. Brands that existed before signatures keep their signed URL alone."""

from __future__ import annotations

import importlib
import json
import re
import time
import urllib.parse
from typing import Any
from unittest import mock

import pytest
from django.apps import apps as django_apps
from django.test import Client

from kesher.activity.models import Activity
from kesher.campaigns import tracking
from kesher.campaigns.models import EmailSuppression, Message, MessageEvent, MessagingSettings
from kesher.campaigns.tests.conftest import member
from kesher.core.models import AuditEntry
from kesher.members.services import consent_set

pytestmark = pytest.mark.django_db(transaction=True)

NEWS = {
    "name": "News",
    "channel": "email",
    "subject": "News for {{ first_name }}",
    "body": "Hello {{ first_name }}",
    "advertising": True,
    "locale": "en",
}


@pytest.fixture
def sent(api: Any, brand: Any, smtp_server: Any) -> dict[str, Any]:
    """One advertisement sent to Noa, and what the settings tell the brand's mail provider."""
    noa = member(brand, email="noa@example.org", consents={"email": True}, locale="en")
    campaign_id = api.post("/campaigns", NEWS).body["id"]
    api.post(f"/campaigns/{campaign_id}/send")
    settings = api.get("/campaigns/settings").body
    message = Message.objects.get(campaign_id=campaign_id)
    notice = {
        "type": "bounce",
        "bounce_type": "hard",
        "email": "noa@example.org",
        "message_id": str(message.pk),
    }
    return {
        "member": noa,
        "message": message,
        "path": urllib.parse.urlsplit(settings["bounce_webhook_url"]).path,
        "secret": settings["bounce_signing_secret"],
        "body": json.dumps(notice).encode(),
    }


def _post(path: str, body: bytes, signature: str | None) -> Any:
    headers = {"X-Kesher-Signature": signature} if signature is not None else {}
    return Client().post(path, data=body, content_type="application/json", headers=headers)


def _nothing_changed(sent: dict[str, Any]) -> None:
    message = Message.objects.get(pk=sent["message"].pk)
    assert message.status == "sent"
    assert not EmailSuppression.objects.exists()
    assert not MessageEvent.objects.filter(kind__in=["bounced", "complained"]).exists()
    assert not Activity.objects.filter(type__in=["message_bounced", "message_complained"]).exists()


def test_a_new_brand_requires_signatures_and_its_secret_is_its_own(api, brand, other_brand):
    settings = api.get("/campaigns/settings").body
    assert settings["bounce_signature_required"] is True
    secret = settings["bounce_signing_secret"]
    assert re.fullmatch(r"[0-9a-f]{64}", secret)
    assert api.get("/campaigns/settings").body["bounce_signing_secret"] == secret  # derived, stable
    assert tracking.bounce_signing_secret(other_brand.pk) != secret


def test_a_well_signed_notice_is_taken(sent):
    signature = tracking.bounce_signature_make(sent["secret"], sent["body"], int(time.time()))
    answer = _post(sent["path"], sent["body"], signature)
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"received": 1, "outcomes": {"suppressed": 1}}
    assert list(EmailSuppression.objects.values_list("email", flat=True)) == ["noa@example.org"]
    assert MessageEvent.objects.filter(message=sent["message"], kind="bounced").count() == 1


def test_a_missing_signature_is_refused_and_changes_nothing(sent):
    answer = _post(sent["path"], sent["body"], None)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "signature_missing"
    assert answer.json()["error"]["field"] == "X-Kesher-Signature"
    _nothing_changed(sent)


@pytest.mark.parametrize(
    ("forge", "code"),
    [
        # Signed with another key (another brand's secret).
        ("other_secret", "signature_invalid"),
        # A good signature over a different body: the notice was changed on the way.
        ("tampered_body", "signature_invalid"),
        ("garbage", "signature_malformed"),
        ("no_v1", "signature_malformed"),
    ],
)
def test_a_bad_signature_is_refused_and_changes_nothing(sent, other_brand, forge, code):
    now = int(time.time())
    signature = {
        "other_secret": tracking.bounce_signature_make(
            tracking.bounce_signing_secret(other_brand.pk), sent["body"], now
        ),
        "tampered_body": tracking.bounce_signature_make(sent["secret"], b'{"type": "bounce"}', now),
        "garbage": "not a signature",
        "no_v1": f"t={now}",
    }[forge]
    answer = _post(sent["path"], sent["body"], signature)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == code
    _nothing_changed(sent)


@pytest.mark.parametrize("seconds", [-301, 301, -3600])
def test_a_stale_or_future_signature_is_refused_and_changes_nothing(sent, seconds):
    # Correctly made with the right secret over this body, but the time is too far from ours.
    signature = tracking.bounce_signature_make(sent["secret"], sent["body"], int(time.time()) + seconds)
    answer = _post(sent["path"], sent["body"], signature)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "signature_stale"
    _nothing_changed(sent)


def test_a_captured_notice_replayed_later_is_refused(sent):
    """Someone who saw one signed request cannot send it again once its five minutes are over; within
    them the same notice changes nothing more (receiving a notice twice is harmless)."""
    complaint = json.dumps({"type": "complaint", "email": "noa@example.org", "reason": "spam"}).encode()
    signed_at = int(time.time())
    signature = tracking.bounce_signature_make(sent["secret"], complaint, signed_at)
    first = _post(sent["path"], complaint, signature)
    assert first.json() == {"received": 1, "outcomes": {"complaint": 1}}
    sent["member"].refresh_from_db()
    assert sent["member"].consent_email is False
    # Noa agrees again; an attacker replays the captured complaint to take it away once more.
    consent_set(member=sent["member"], channel="email", granted=True, source="portal")
    sent["member"].refresh_from_db()
    assert sent["member"].consent_email is True

    with mock.patch("kesher.campaigns.tracking.time.time", return_value=signed_at + 301):
        replayed = _post(sent["path"], complaint, signature)
    assert replayed.status_code == 401
    assert replayed.json()["error"]["code"] == "signature_stale"
    sent["member"].refresh_from_db()
    assert sent["member"].consent_email is True
    assert MessageEvent.objects.filter(kind="complained").count() == 1
    assert Activity.objects.filter(type="message_complained").count() == 1


def test_a_brand_with_signatures_off_keeps_its_url_alone_but_a_wrong_signature_still_fails(sent, api):
    switched = api.patch("/campaigns/settings", {"bounce_signature_required": False})
    assert switched.status == 200, switched.body
    assert switched.body["bounce_signature_required"] is False
    assert AuditEntry.objects.filter(action="messaging_settings.update").count() == 1

    wrong = tracking.bounce_signature_make("0" * 64, sent["body"], int(time.time()))
    assert _post(sent["path"], sent["body"], wrong).status_code == 401
    _nothing_changed(sent)
    unsigned = _post(sent["path"], sent["body"], None)
    assert unsigned.json() == {"received": 1, "outcomes": {"suppressed": 1}}
    assert api.patch("/campaigns/settings", {"bounce_signature_required": None}).status == 422


def test_the_migration_leaves_existing_brands_on_the_url_alone(brand, other_brand):
    """Brands that existed before signatures (with or without a settings row) get them off, so their mail
    provider's notices keep arriving; a brand made afterwards has them on."""
    MessagingSettings.objects.create(brand=brand, sender_name="Cafe")
    migration = importlib.import_module("kesher.campaigns.migrations.0004_journey_coupons_bounce_signatures")
    migration.existing_brands_keep_the_url_alone(django_apps, None)
    migration.existing_brands_keep_the_url_alone(django_apps, None)  # re-runnable
    rows = dict(MessagingSettings.objects.values_list("brand_id", "bounce_signature_required"))
    assert rows == {brand.pk: False, other_brand.pk: False}
    assert MessagingSettings.objects.get(brand=brand).sender_name == "Cafe"


def test_the_documented_example_signature():
    """docs/campaigns.md shows this worked example; the code must agree with it."""
    secret = "5d41402abc4b2a76b9719d911017c592aa0f1c7e4b2f9d3c8e6a1b0c2d3e4f50"
    body = b'{"type": "bounce", "email": "noa@example.org", "bounce_type": "hard"}'
    header = tracking.bounce_signature_make(secret, body, 1795456800)
    assert header == "t=1795456800,v1=47899b78c9aaff51a024c9b0e88637b446812a16ddab5f0a43956f1ee83c2028"
    assert tracking.bounce_signature_problem(secret, header, body, now=1795456800 + 120) is None
