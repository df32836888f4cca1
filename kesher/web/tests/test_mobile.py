"""On a phone, in real Chromium: a person joins in two screens and holds the club card, chooses a
password, reads the portal and edits their details; and no member page scrolls sideways at 360 px, in
Hebrew or in English."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail

from kesher.brands.services import brand_create
from kesher.members.models import Member
from kesher.web.tests.conftest import PASSWORD, ClubScene, club_scene
from kesher.web.tests.test_browser import SHOTS, _new_page, _switch_language, browser  # noqa: F401

pytestmark = pytest.mark.browser

NARROW = {"width": 360, "height": 740}


@pytest.fixture
def scene(transactional_db: None, live_server: Any) -> ClubScene:
    return club_scene(brand_create(slug="cafe", name="קפה טוב", default_locale="he"))


def _page_width(page: Any) -> int:
    return int(page.evaluate("document.scrollingElement.scrollWidth"))


def _fits_in_both_languages(page: Any, step: str) -> None:
    """The page is no wider than the phone in Hebrew (right to left) and in English, then back in Hebrew."""
    assert page.evaluate("document.documentElement.dir") == "rtl"
    assert _page_width(page) <= NARROW["width"], f"{step} scrolls sideways in Hebrew"
    page.screenshot(path=str(SHOTS / f"phone-{step}-he.png"), full_page=True)
    _switch_language(page, ("en", "ltr"))
    assert _page_width(page) <= NARROW["width"], f"{step} scrolls sideways in English"
    page.screenshot(path=str(SHOTS / f"phone-{step}-en.png"), full_page=True)
    _switch_language(page, ("he", "rtl"))


def test_a_person_joins_on_a_phone_ends_on_the_card_and_edits_their_details(browser, live_server, scene):  # noqa: F811
    page = _new_page(browser, live_server, NARROW)
    page.goto("/")  # one club on this installation: its join page at once
    page.wait_for_url(re.compile(r"/join/cafe/$"))
    _fits_in_both_languages(page, "join")

    # Screen one: the form.
    page.fill("#id_first_name", "דן")
    page.fill("#id_last_name", "כהן")
    page.fill("#id_email", "dan@example.org")
    page.fill("#id_phone", "052 123 4567")
    page.check("#id_consent_sms")
    page.locator('[data-test="join-submit"]').click()

    # Screen two: the card, with its number and QR code.
    page.wait_for_url(re.compile(r"/join/cafe/card/$"))
    member = Member.objects.get(email="dan@example.org")
    number = " ".join(re.findall(".{1,4}", member.card_number))
    assert page.locator('[data-test="card-number"]').inner_text() == number
    assert page.locator('[data-test="club-card"] .qr svg').is_visible()
    assert page.get_by_role("heading", level=1).inner_text() == "הכרטיס שלך, דן"
    assert member.phone == "+972521234567" and member.consent_sms
    _fits_in_both_languages(page, "card")

    # Choosing a password, confirming the address from the email, signing in: the portal.
    page.locator('[data-test="choose-password"]').click()
    page.wait_for_url(re.compile(r"/accounts/signup/"))
    assert page.input_value('input[name="email"]') == "dan@example.org"
    page.fill('input[name="password1"]', PASSWORD)
    page.fill('input[name="password2"]', PASSWORD)
    page.locator('main form button[type="submit"]').click()
    page.wait_for_url(re.compile(r"/accounts/confirm-email/"))
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)", mail.outbox[-1].body)
    assert link is not None
    page.goto(link.group(1))
    page.locator('main form button[type="submit"]').click()
    page.wait_for_url(lambda url: "/confirm-email/" not in url)
    if "/accounts/login/" in page.url:
        page.fill('input[name="login"]', "dan@example.org")
        page.fill('input[name="password"]', PASSWORD)
        page.locator('main form button[type="submit"]').click()
    page.goto("/portal/")
    assert page.locator('[data-test="greeting"]').inner_text() == "שלום, דן"
    assert page.locator('[data-test="card-number"]').inner_text() == number
    _fits_in_both_languages(page, "portal")

    page.locator('[data-test="profile-link"]').click()
    page.wait_for_url(re.compile(r"/portal/profile/"))
    assert page.input_value("#id_phone") == "052-123-4567"
    _fits_in_both_languages(page, "profile")
    page.fill("#id_last_name", "כהן-לוי")
    page.fill("#id_phone", "+972 (54) 765-4321")
    page.fill("#id_birthday", "1990-05-04")
    page.fill("#id_interests", "קפה, מאפים")
    page.locator('[data-test="profile-save"]').click()
    page.wait_for_url(re.compile(r"/portal/profile/\?club=cafe$"))
    assert "הפרטים שלך נשמרו." in page.locator('[data-test="messages"]').inner_text()
    assert page.input_value("#id_phone") == "054-765-4321"
    member.refresh_from_db()
    assert (member.last_name, member.phone, str(member.birthday), member.interests) == (
        "כהן-לוי",
        "+972547654321",
        "1990-05-04",
        ["קפה", "מאפים"],
    )
    assert _page_width(page) <= NARROW["width"]
    page.context.close()


def test_a_members_pages_fit_a_360_pixel_phone_in_both_languages(browser, live_server, scene):  # noqa: F811
    page = _new_page(browser, live_server, NARROW)
    page.goto("/accounts/login/")
    page.fill('input[name="login"]', "noa@example.org")
    page.fill('input[name="password"]', PASSWORD)
    page.locator('main form button[type="submit"]').click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    for step, path in [
        ("member-portal", "/portal/"),
        ("member-profile", "/portal/profile/"),
        ("member-settings", "/portal/settings/"),
        ("member-join", "/join/cafe/"),
    ]:
        page.goto(path)
        _fits_in_both_languages(page, step)
    page.context.close()
