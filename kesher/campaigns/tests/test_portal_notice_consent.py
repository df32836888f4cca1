"""An in-portal notice that advertises is advertising: without the member's advertising consent (by email,
docs/campaigns.md) none is created, none is shown, none can be marked read; a service notice always shows."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from kesher.brands.models import Brand
from kesher.campaigns.models import Message, MessageEvent
from kesher.campaigns.tests.conftest import member
from kesher.core.tests.fingerprint import changed_models, rows_fingerprint
from kesher.members.models import Member
from kesher.members.services import consent_set

pytestmark = pytest.mark.django_db(transaction=True)  # sending runs on commit

NOTICE = {"name": "Notice", "channel": "portal", "subject": "Hello {{ first_name }}", "locale": "en"}


def _signed_in(brand: Brand, name: str, **fields: Any) -> tuple[Member, Client]:
    user = get_user_model().objects.create_user(username=name, password="x")
    person = member(brand, **fields)
    Member.objects.filter(pk=person.pk).update(user=user)
    client = Client()
    client.force_login(user)
    return person, client


def _shown(client: Client) -> tuple[int, int, str]:
    """The notices on the member's page, the header's unread count, and the page."""
    html = client.get("/c/notices/").content.decode()
    return html.count('data-test="notice"'), int(client.get("/c/notices/unread").json()["unread"]), html


def _send(api: Any, *, advertising: bool, body: str) -> str:
    made = api.post("/campaigns", {**NOTICE, "advertising": advertising, "body": body})
    assert made.status == 201, made.body
    assert api.post(f"/campaigns/{made.body['id']}/send").status == 202
    return str(made.body["id"])


def test_an_advertising_notice_reaches_only_members_who_consent_and_a_service_notice_everyone(api, brand):
    noa, noa_client = _signed_in(
        brand, "noa", first_name="Noa", email="noa@example.org", consents={"email": True}
    )
    dan, dan_client = _signed_in(brand, "dan", first_name="Dan", email="dan@example.org", consents={})

    ad = _send(api, advertising=True, body="A sale: two coffees for one")
    service = _send(api, advertising=False, body="Your card is ready")

    assert not Message.objects.filter(campaign_id=ad, member=dan).exists(), "no advertisement made for Dan"
    assert Message.objects.filter(campaign_id=ad, member=noa, status="sent").count() == 1
    noa_count, noa_unread, noa_html = _shown(noa_client)
    assert (noa_count, noa_unread) == (2, 2)
    assert "A sale" in noa_html and "Your card is ready" in noa_html
    dan_count, dan_unread, dan_html = _shown(dan_client)
    assert (dan_count, dan_unread) == (1, 1)
    assert "A sale" not in dan_html and "Your card is ready" in dan_html
    assert Message.objects.filter(campaign_id=service, status="sent").count() == 2


def test_withdrawn_consent_hides_an_advertising_notice_already_sent_and_nothing_changes(api, brand):
    noa, client = _signed_in(
        brand, "noa", first_name="Noa", email="noa@example.org", consents={"email": True}
    )
    ad = _send(api, advertising=True, body="A sale: two coffees for one")
    _send(api, advertising=False, body="Your card is ready")
    assert _shown(client)[:2] == (2, 2)
    ad_message = Message.objects.get(campaign_id=ad, member=noa)

    consent_set(member=noa, channel="email", granted=False, source="portal")
    count, unread, html = _shown(client)
    assert (count, unread) == (1, 1)
    assert "A sale" not in html and "Your card is ready" in html

    # A notice not shown cannot be marked read: 404, and no row changes.
    before = rows_fingerprint()
    assert client.post("/c/notices/read", {"id": str(ad_message.pk)}).status_code == 404
    assert changed_models(before, rows_fingerprint()) == []
    # Mark all read marks only what is shown.
    client.post("/c/notices/read")
    assert not MessageEvent.objects.filter(message=ad_message, kind="opened").exists()
    assert _shown(client)[:2] == (1, 0)

    # Consent granted again: the advertisement shows again, still unread.
    consent_set(member=noa, channel="email", granted=True, source="portal", wording="I agree")
    assert _shown(client)[:2] == (2, 1)
