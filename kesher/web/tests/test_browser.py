"""The real app in a real browser: a member signs in, reads the portal, redeems a reward, shares their link
and checks in at a store; a friend joins with the link; a cashier finds a member, burns a coupon and prints
the store posters; and the language switch turns every page between Hebrew (right-to-left) and English
(left-to-right).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from kesher.brands.services import brand_create
from kesher.loyalty.models import Coupon, PointsAccount, Reward
from kesher.loyalty.services import redemption_create
from kesher.members.models import Member
from kesher.web.tests.conftest import PASSWORD, ClubScene, club_scene

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(settings.BASE_DIR) / "test-output" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        missing = f"{CHROMIUM} is not installed (Debian package chromium)"
        if os.environ.get("CI"):  # .ci/run installs it: in CI a missing browser is a failure, never a skip
            pytest.fail(missing)
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are still plain
    # synchronous code, so Django's guard against ORM use inside a loop is lifted for this module only.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def scene(transactional_db: None, live_server: Any) -> ClubScene:
    return club_scene(brand_create(slug="cafe", name="קפה טוב", default_locale="he"))


def _new_page(browser: Any, live_server: Any, viewport: dict[str, int]) -> Any:
    context = browser.new_context(locale="he-IL", viewport=viewport, base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def _direction(page: Any) -> tuple[str, str]:
    lang, direction = page.evaluate("[document.documentElement.lang, document.documentElement.dir]")
    return lang, direction


def _switch_language(page: Any, expected: tuple[str, str]) -> None:
    page.locator('[data-test="language-button"]').click()
    page.wait_for_function(
        "([lang, dir]) => document.documentElement.lang === lang && document.documentElement.dir === dir",
        arg=list(expected),
    )
    assert _direction(page) == expected


def _brandmark_side(page: Any) -> str:
    """Which half of the window the site's name sits in: the start side, right in Hebrew, left in English."""
    box = page.locator(".brandmark").bounding_box()
    width = page.viewport_size["width"]
    return "right" if box["x"] + box["width"] / 2 > width / 2 else "left"


def _shoot_both(page: Any, step: str) -> None:
    """Screenshot the page in Hebrew, switch to English and shoot again, then switch back to Hebrew."""
    assert _direction(page) == ("he", "rtl")
    assert _brandmark_side(page) == "right"
    page.screenshot(path=str(SHOTS / f"{step}-he.png"), full_page=True)
    _switch_language(page, ("en", "ltr"))
    assert _brandmark_side(page) == "left"
    page.screenshot(path=str(SHOTS / f"{step}-en.png"), full_page=True)
    _switch_language(page, ("he", "rtl"))


def _sign_in(page: Any, email: str) -> None:
    page.goto("/")
    page.locator('[data-test="login-link"]').click()
    page.wait_for_url(re.compile(r"/accounts/login/"))
    page.fill('input[name="login"]', email)
    page.fill('input[name="password"]', PASSWORD)
    page.locator('main form button[type="submit"]').click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def test_a_member_signs_in_and_reads_the_portal_in_both_languages(browser, live_server, scene):
    page = _new_page(browser, live_server, PHONE)
    page.goto("/")
    _shoot_both(page, "member-01-home")
    page.locator('[data-test="login-link"]').click()
    _shoot_both(page, "member-02-sign-in")

    _sign_in(page, "noa@example.org")
    assert Member.objects.get(pk=scene.member.pk).user_id == scene.member_user.pk  # linked at sign-in
    page.get_by_role("link", name="המועדון שלי").first.click()
    page.wait_for_url(re.compile(r"/portal/$"))

    assert page.locator('[data-test="balance"]').inner_text() == "120"
    assert page.get_by_text("צברת 180 נקודות").is_visible()
    assert page.locator('[data-test="coupon-code"]').inner_text() == scene.coupon.code
    assert page.locator(".qr svg").first.is_visible()
    _shoot_both(page, "member-03-portal")

    _switch_language(page, ("en", "ltr"))
    assert page.locator('[data-test="balance"]').inner_text() == "120"
    assert page.get_by_text("You earned 180 points").is_visible()
    assert page.locator('[data-test="rewards"]').get_by_text("780 more points to go").is_visible()
    _switch_language(page, ("he", "rtl"))
    assert page.locator('[data-test="rewards"]').get_by_text("חסרות עוד 780 נקודות").is_visible()

    page.set_viewport_size(DESKTOP)
    _shoot_both(page, "member-04-portal-desktop")
    page.context.close()


def test_a_cashier_finds_a_member_by_phone_and_burns_their_coupon(browser, live_server, scene):
    page = _new_page(browser, live_server, PHONE)
    _sign_in(page, "cashier@example.org")
    page.locator('[data-test="cashier-link"]').click()
    page.wait_for_url(re.compile(r"/cashier/"))
    _shoot_both(page, "cashier-01-empty")

    page.fill("#find-q", "050-1234567")
    page.locator('[data-test="find-form"] button[type="submit"]').click()
    panel = page.locator('[data-test="member-panel"]')
    panel.wait_for()
    assert "נועה לוי" in panel.inner_text()
    assert page.locator('[data-test="cashier-balance"]').inner_text() == "120"
    _shoot_both(page, "cashier-02-found")

    page.locator(f'[data-test="burn-{scene.coupon.code}"]').click()
    page.wait_for_url(re.compile(r"/cashier/\?brand=cafe&member="))
    assert scene.coupon.code in page.locator(".messages").inner_text()
    assert page.get_by_text("אין קופונים זמינים למימוש.").is_visible()
    assert Coupon.objects.get(pk=scene.coupon.pk).status == Coupon.Status.USED
    _shoot_both(page, "cashier-03-burnt")

    page.fill("#burn-code", scene.coupon.code)
    page.locator('[data-test="burn-form"] button[type="submit"]').click()
    assert page.locator('[data-test="refusal"]').inner_text() == "הקופון הזה כבר מומש."
    page.set_viewport_size(DESKTOP)
    _shoot_both(page, "cashier-04-refused-desktop")
    page.context.close()


def _accept_next_dialog(page: Any, seen: list[str]) -> None:
    def accept(dialog: Any) -> None:
        seen.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)


def test_a_member_redeems_sees_the_tier_invites_and_checks_in(browser, live_server, scene):
    page = _new_page(browser, live_server, PHONE)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    _sign_in(page, "noa@example.org")
    page.goto("/portal/")
    assert page.locator('[data-test="tier-name"]').inner_text() == "כסף"
    assert page.locator('[data-test="tier-to-next"]').inner_text() == "עוד 120 נקודות לדרגת זהב"
    coffee = page.locator(".reward", has_text="קפה הפוך חינם")
    workshop = page.locator(".reward", has_text="סדנת לאטה ארט")
    assert workshop.locator('[data-test="redeem"]').is_disabled()

    # Saying no to the question spends nothing.
    page.once("dialog", lambda dialog: dialog.dismiss())
    coffee.locator('[data-test="redeem"]').click()
    page.wait_for_timeout(300)
    assert page.locator('[data-test="balance"]').inner_text() == "120"
    assert Coupon.objects.filter(member=scene.member).count() == 1

    asked: list[str] = []
    _accept_next_dialog(page, asked)
    coffee.locator('[data-test="redeem"]').click()
    page.wait_for_url(re.compile(r"/portal/\?new=[A-Z0-9]+#coupon-"))
    assert asked == ["לממש 60 נקודות עבור קפה הפוך חינם?"]
    code = Coupon.objects.exclude(pk=scene.coupon.pk).get(member=scene.member).code
    assert code in page.locator('[data-test="messages"]').inner_text()
    assert page.locator('[data-test="balance"]').inner_text() == "60"
    new_coupon = page.locator(f"#coupon-{code}")
    assert new_coupon.locator('[data-test="coupon-code"]').inner_text() == code
    assert new_coupon.locator("svg").is_visible()  # its QR code is open, ready for the till
    _shoot_both(page, "member-05-redeemed")

    # Another tab spent the points meanwhile: this page is out of date, the server is not.
    redemption_create(member=scene.member, reward=Reward.objects.get(brand=scene.brand, cost_points=60))
    _accept_next_dialog(page, asked)
    page.locator(".reward", has_text="קפה הפוך חינם").locator('[data-test="redeem"]').click()
    page.wait_for_url(re.compile(r"/portal/#club-cafe$"))
    refusal = page.locator('[data-test="messages"] .error')
    assert refusal.inner_text() == "עדיין אין לך מספיק נקודות להטבה הזו. לא נוכו נקודות."
    assert page.locator('[data-test="balance"]').inner_text() == "0"
    assert Coupon.objects.filter(member=scene.member).count() == 3
    _shoot_both(page, "member-06-refused")

    link = f"{live_server.url}/join/cafe/?ref={scene.member.referral_code}"
    assert page.locator('[data-test="referral-link"]').input_value() == link
    page.locator('[data-test="copy-link"]').click()
    assert page.evaluate("navigator.clipboard.readText()") == link
    assert page.locator('[data-test="copy-link"]').inner_text() == "הועתק"
    assert page.locator('[data-test="whatsapp"]').get_attribute("href").startswith("https://wa.me/?text=")
    page.locator('[data-test="referral"]').scroll_into_view_if_needed()
    _shoot_both(page, "member-07-invite")

    page.goto("/portal/check-in/cafe/dizengoff/")
    assert page.locator('[data-test="welcome"]').inner_text() == "ברוכים הבאים לסניף תל אביב – דיזנגוף!"
    assert page.locator('[data-test="check-in-result"]').inner_text() == "הביקור שלך נרשם: צברת 5 נקודות."
    _shoot_both(page, "member-08-check-in")
    page.reload()
    assert page.locator('[data-test="check-in-result"]').inner_text().startswith("כבר עשית צ'ק-אין כאן היום.")
    assert PointsAccount.objects.get(member=scene.member).balance == 5
    page.context.close()


def test_a_friend_joins_with_the_link_then_chooses_a_password(browser, live_server, scene):
    page = _new_page(browser, live_server, PHONE)
    page.goto(f"/join/cafe/?ref={scene.member.referral_code}")
    assert page.locator("#id_ref").input_value() == scene.member.referral_code
    assert page.locator('[data-test="invited"]').is_visible()
    _shoot_both(page, "join-01-form")

    page.fill("#id_first_name", "דן")
    page.fill("#id_last_name", "כהן")
    page.fill("#id_email", "dan@example.org")
    page.fill("#id_phone", "12")
    page.check("#id_consent_sms")
    page.locator('[data-test="join-submit"]').click()
    error = page.locator('[data-test="error-phone"]')
    error.wait_for()
    assert error.inner_text() == "זה לא נראה כמו מספר טלפון. אפשר לכתוב למשל 050-1234567 או בכל צורה אחרת."
    assert page.locator("#id_first_name").input_value() == "דן"
    assert not Member.objects.filter(email="dan@example.org").exists()
    # Only in Hebrew: the language switch reloads the page, and what was typed is not carried over.
    page.screenshot(path=str(SHOTS / "join-02-bad-phone-he.png"), full_page=True)

    page.fill("#id_phone", "052 123 4567")
    page.locator('[data-test="join-submit"]').click()
    # The second screen is the card; choosing a password is offered there.
    page.wait_for_url(re.compile(r"/join/cafe/card/$"))
    assert "ברוכים הבאים למועדון קפה טוב!" in page.locator('[data-test="messages"]').inner_text()
    page.locator('[data-test="choose-password"]').click()
    page.wait_for_url(re.compile(r"/accounts/signup/\?email=dan%40example.org$"))
    assert page.locator('input[name="email"]').input_value() == "dan@example.org"
    friend = Member.objects.get(brand=scene.brand, email="dan@example.org")
    assert (friend.phone, friend.consent_sms, friend.consent_email) == ("+972521234567", True, False)
    assert friend.referred_by_id == scene.member.pk
    _shoot_both(page, "join-03-choose-password")
    page.context.close()


def test_a_cashier_prints_the_store_posters(browser, live_server, scene):
    page = _new_page(browser, live_server, DESKTOP)
    _sign_in(page, "cashier@example.org")
    page.locator('[data-test="cashier-link"]').click()
    page.locator('[data-test="stores-link"]').click()
    page.wait_for_url(re.compile(r"/cashier/stores/"))
    poster = page.locator('[data-test="poster"]')
    assert poster.count() == 1
    assert poster.locator('[data-test="poster-url"]').inner_text() == (
        f"{live_server.url}/portal/check-in/cafe/dizengoff/"
    )
    assert poster.locator("svg").is_visible()
    _shoot_both(page, "cashier-05-store-posters")
    page.emulate_media(media="print")
    assert not page.locator(".topbar").is_visible()
    assert poster.locator("svg").is_visible()
    page.screenshot(path=str(SHOTS / "cashier-06-store-poster-print-he.png"), full_page=True)
    page.context.close()


def test_a_member_switches_sms_advertising_off_in_hebrew(browser, live_server, scene):
    from kesher.members.models import ConsentEvent
    from kesher.members.services import consent_set

    consent_set(member=scene.member, channel="sms", granted=True, source="store_form", wording="טופס בחנות")
    page = _new_page(browser, live_server, PHONE)
    _sign_in(page, "noa@example.org")
    page.goto("/portal/")
    page.locator('[data-test="settings-link"]').first.click()
    page.wait_for_url(re.compile(r"/portal/settings/"))
    assert _direction(page) == ("he", "rtl")
    assert page.locator("h1").inner_text() == "הגדרות התראות"
    sms = page.locator('[data-test="consent-sms"]')
    assert sms.get_attribute("data-granted") == "1"
    assert sms.locator('[data-test="consent-state"]').inner_text() == "פעיל"
    page.screenshot(path=str(SHOTS / "member-settings-01-sms-on-he.png"), full_page=True)

    sms.locator('[data-test="consent-toggle"]').click()
    page.wait_for_function(
        "() => document.querySelector('[data-test=\"consent-sms\"]').dataset.granted === '0'"
    )
    assert "דברי פרסומת כבויים" in page.locator(".messages").inner_text()
    assert page.locator('[data-test="consent-sms"] [data-test="consent-state"]').inner_text() == "כבוי"
    page.screenshot(path=str(SHOTS / "member-settings-02-sms-off-he.png"), full_page=True)

    member = Member.objects.get(pk=scene.member.pk)
    assert member.consents == {"email": False, "sms": False, "push": False}
    latest = ConsentEvent.objects.filter(member=member).order_by("-occurred_at", "-id").first()
    assert latest is not None
    assert (latest.channel, latest.granted, latest.source, latest.origin) == (
        "sms",
        False,
        "portal",
        "127.0.0.1",
    )
    assert latest.wording == "אני כבר לא מסכים/ה לקבל ממועדון קפה טוב דברי פרסומת במסרונים (SMS)."
    page.context.close()
