"""The real app in a real browser: a member signs in and reads the portal, a cashier finds them and burns a
coupon, and the language switch turns every page between Hebrew (right-to-left) and English (left-to-right).
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
from kesher.loyalty.models import Coupon
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
        pytest.skip(f"{CHROMIUM} is not installed (Debian package chromium)")
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
    assert page.get_by_text("780 more points to go").is_visible()
    _switch_language(page, ("he", "rtl"))
    assert page.get_by_text("חסרות עוד 780 נקודות").is_visible()

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
