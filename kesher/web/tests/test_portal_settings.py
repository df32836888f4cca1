"""The member's notification settings: advertising consent per channel with its proof, and the digest."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from kesher.community.digests import digest_frequency
from kesher.community.models import DigestSettings
from kesher.core.models import AuditEntry
from kesher.members.models import ConsentEvent, Member
from kesher.members.tests.factories import MemberFactory
from kesher.web.accounts import memberships_link
from kesher.web.tests.conftest import ClubScene, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def member_client(client: Client, scene: ClubScene) -> Client:
    memberships_link(user=scene.member_user)
    client.force_login(scene.member_user)
    return client


def _english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _consent(client: Client, member: Member, channel: str, granted: str, **extra: Any) -> Any:
    data = {"member": str(member.pk), "channel": channel, "granted": granted}
    return client.post("/portal/settings/consent/", {**data, **extra}, REMOTE_ADDR="203.0.113.7")


def _rows(member: Member) -> list[tuple[str, bool, str, str, str]]:
    return list(
        ConsentEvent.objects.filter(member=member)
        .order_by("occurred_at", "id")
        .values_list("channel", "granted", "source", "wording", "origin")
    )


def _state(member: Member) -> dict[str, bool]:
    member.refresh_from_db()
    return member.consents


def test_the_page_shows_each_channel_and_the_digest_for_each_club(member_client, scene, other_brand):
    second = MemberFactory(brand=other_brand, email="noa@example.org", consents={"email": True})
    memberships_link(user=scene.member_user)
    html = _english(member_client).get("/portal/settings/").content.decode()
    assert 'dir="ltr"' in html
    clubs = re.findall(r'data-test="settings-club"', html)
    assert len(clubs) == 2
    assert f'value="{second.pk}"' in html and f'value="{scene.member.pk}"' in html
    states = re.findall(r'data-test="consent-(email|sms|push)" data-granted="(\d)"', html)
    # Clubs in name order: "Other Shop" (email granted) before "קפה טוב" (nothing granted).
    assert states == [
        ("email", "1"),
        ("sms", "0"),
        ("push", "0"),
        ("email", "0"),
        ("sms", "0"),
        ("push", "0"),
    ]
    assert 'href="/c/notices/"' in html
    assert html.count('data-test="digest-daily" checked') == 2


def test_the_portal_links_to_the_settings(member_client, scene):
    html = member_client.get("/portal/").content.decode()
    assert 'href="/portal/settings/#club-cafe"' in html


def test_hebrew_page_is_right_to_left_and_translated(member_client, scene):
    html = member_client.get("/portal/settings/").content.decode()
    assert '<html lang="he" dir="rtl">' in html
    assert "הגדרות התראות" in html
    assert "Notification settings" not in html


def test_turning_sms_on_then_off_records_the_exact_proof(member_client, scene):
    member = scene.member
    answer = _english(member_client).post(
        "/portal/settings/consent/",
        {"member": str(member.pk), "channel": "sms", "granted": "1"},
        REMOTE_ADDR="203.0.113.7",
    )
    assert answer.status_code == 303
    assert answer["Location"] == "/portal/settings/#club-cafe"
    granted_words = (
        "I agree to receive advertising from קפה טוב by SMS: offers, benefits and club news. "
        "I can withdraw at any time."
    )
    assert _rows(member) == [("sms", True, "portal", granted_words, "203.0.113.7")]
    assert _state(member) == {"email": False, "sms": True, "push": False}

    _consent(member_client, member, "sms", "0")
    assert _rows(member) == [
        ("sms", True, "portal", granted_words, "203.0.113.7"),
        (
            "sms",
            False,
            "portal",
            "I no longer agree to receive advertising from קפה טוב by SMS.",
            "203.0.113.7",
        ),
    ]
    assert _state(member) == {"email": False, "sms": False, "push": False}
    audits = list(
        AuditEntry.objects.filter(target_id=str(member.pk), action__startswith="consent.")
        .order_by("id")
        .values_list("action", "actor_user_id", "data")
    )
    assert audits == [
        (
            "consent.grant",
            scene.member_user.pk,
            {"channel": "sms", "source": "portal", "origin": "203.0.113.7"},
        ),
        (
            "consent.withdraw",
            scene.member_user.pk,
            {"channel": "sms", "source": "portal", "origin": "203.0.113.7"},
        ),
    ]


def test_hebrew_wording_is_kept_in_hebrew(member_client, scene):
    _consent(member_client, scene.member, "email", "1")
    (row,) = _rows(scene.member)
    assert row[:3] == ("email", True, "portal")
    assert "קפה טוב" in row[3] and "agree" not in row[3]


def test_a_second_click_of_the_same_button_records_nothing_more(member_client, scene):
    _consent(member_client, scene.member, "push", "1")
    _consent(member_client, scene.member, "push", "1")
    assert [row[:2] for row in _rows(scene.member)] == [("push", True)]


@pytest.mark.parametrize(
    "data",
    [
        {"channel": "fax", "granted": "1"},
        {"channel": "sms", "granted": "yes"},
        {"channel": "sms"},
        {"channel": "", "granted": "1"},
    ],
)
def test_a_bad_consent_post_changes_nothing(member_client, scene, data):
    before = _state(scene.member)
    answer = member_client.post("/portal/settings/consent/", {"member": str(scene.member.pk), **data})
    assert answer.status_code == 303
    assert _rows(scene.member) == []
    assert _state(scene.member) == before
    assert not AuditEntry.objects.filter(action__startswith="consent.").exists()


def test_another_members_card_is_not_reachable(member_client, scene, other_brand):
    stranger = MemberFactory(brand=other_brand, email="dan@example.org")
    make_user("dan@example.org")
    for bad in (str(stranger.pk), "not-a-uuid", ""):
        answer = member_client.post(
            "/portal/settings/consent/", {"member": bad, "channel": "sms", "granted": "1"}
        )
        assert answer.status_code == 404
        assert (
            member_client.post("/portal/settings/digest/", {"member": bad, "frequency": "off"}).status_code
            == 404
        )
    assert _rows(stranger) == []
    assert _state(stranger) == {"email": False, "sms": False, "push": False}
    assert not DigestSettings.objects.exists()
    assert str(stranger.pk) not in member_client.get("/portal/settings/").content.decode()


def test_anonymous_visitors_are_sent_to_sign_in(client, scene):
    for url in ("/portal/settings/", "/portal/settings/consent/", "/portal/settings/digest/"):
        answer = client.get(url) if url.endswith("settings/") else client.post(url, {})
        assert answer.status_code == 302
        assert answer["Location"].startswith(f"{settings.LOGIN_URL}?next=")
    answer = _consent(client, scene.member, "sms", "1")
    assert answer.status_code == 302
    assert _rows(scene.member) == []


def test_only_post_changes_a_setting(member_client, scene):
    assert member_client.get("/portal/settings/consent/").status_code == 405
    assert member_client.get("/portal/settings/digest/").status_code == 405


def test_choosing_the_digest_frequency(member_client, scene):
    answer = _english(member_client).post(
        "/portal/settings/digest/", {"member": str(scene.member.pk), "frequency": "weekly"}, follow=True
    )
    assert digest_frequency(scene.member) == "weekly"
    html = answer.content.decode()
    assert "Community digest for קפה טוב: Weekly." in html
    assert 'data-test="digest-weekly" checked' in html
    member_client.post("/portal/settings/digest/", {"member": str(scene.member.pk), "frequency": "off"})
    assert list(DigestSettings.objects.values_list("member_id", "frequency")) == [(scene.member.pk, "off")]


def test_a_bad_digest_choice_changes_nothing(member_client, scene):
    member_client.post("/portal/settings/digest/", {"member": str(scene.member.pk), "frequency": "weekly"})
    answer = _english(member_client).post(
        "/portal/settings/digest/", {"member": str(scene.member.pk), "frequency": "hourly"}, follow=True
    )
    assert "This setting could not be changed. Nothing was changed." in answer.content.decode()
    assert list(DigestSettings.objects.values_list("frequency", flat=True)) == ["weekly"]
