"""In a real browser: a member downloads their data in Hebrew (right to left), and an owner erases a member
in English. Screenshots go to test-output/screenshots/privacy-*.png."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from kesher.brands.services import brand_create
from kesher.members.models import Member, MemberStatus
from kesher.privacy.tests.conftest import everything

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
SHOTS = Path(settings.BASE_DIR) / "test-output" / "screenshots"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is not installed (Debian package chromium)")
    from playwright.sync_api import sync_playwright

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


def _page(browser: Any, live_server: Any, user: Any, language: str) -> Any:
    client = Client()
    client.force_login(user)
    context = browser.new_context(
        locale="he-IL" if language == "he" else "en-US", base_url=live_server.url, accept_downloads=True
    )
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            },
            {"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url},
        ]
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page


def test_a_member_downloads_in_hebrew_and_an_owner_erases_in_english(
    browser: Any, transactional_db: None, live_server: Any, settings: Any
) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    club = everything(brand_create(slug="cafe", name="קפה טוב", default_locale="he"))

    page = _page(browser, live_server, club.member_user, "he")
    page.goto("/portal/privacy/")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("h1").inner_text() == "המידע שלי ופרטיות"
    with page.expect_download() as download:
        page.click('[data-test="download-json"]')
    data = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert data["sections"]["loyalty"]["coupons"][0]["code"] == club.coupon.code
    assert data["sections"]["profile"]["first_name"] == "נועה"
    page.click('[data-test="download-html"]')
    page.wait_for_selector('[data-test="section-community"]')
    assert "Is the oat milk free?" in page.inner_text('[data-test="section-community"]')
    assert page.locator("h1").inner_text() == "המידע שנשמר עלייך"
    page.screenshot(path=str(SHOTS / "privacy-member-data-he.png"), full_page=True)

    staff = _page(browser, live_server, club.owner, "en")
    staff.goto(f"/console/{club.brand.slug}/members/{club.member.pk}/privacy/")
    assert staff.locator("html").get_attribute("dir") == "ltr"
    staff.fill("#erase-reason", "Asked by phone")
    staff.fill("#erase-confirm", "ERASE")
    staff.click('[data-test="erase-submit"]')
    staff.wait_for_selector('[data-test="member-erased"]')
    assert "This member was erased" in staff.inner_text('[data-test="member-erased"]')
    staff.screenshot(path=str(SHOTS / "privacy-staff-erased-en.png"), full_page=True)
    member = Member.objects.get(pk=club.member.pk)
    assert (member.status, member.email, member.first_name) == (MemberStatus.ERASED, None, "")
