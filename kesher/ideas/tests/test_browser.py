"""In a real browser, in Hebrew and in English: a member submits an idea, another supports it, staff
change its status with a reason, and the supporter sees the notice. Screenshots go to
test-output/screenshots/ideas-*.png."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from kesher.brands.models import StaffRole
from kesher.brands.services import brand_create, staff_grant
from kesher.ideas.models import Idea, IdeaNotice, IdeaSupport
from kesher.members.models import Member
from kesher.members.tests.factories import MemberFactory

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


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        missing = f"{CHROMIUM} is not installed (Debian package chromium)"
        if os.environ.get("CI"):  # .ci/run installs it: in CI a missing browser is a failure, never a skip
            pytest.fail(missing)
        pytest.skip(missing)
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


def _session(user: Any) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _member_session(brand: Any, name: str) -> tuple[Member, str]:
    member: Member = MemberFactory(brand=brand, first_name=name)  # type: ignore[assignment]
    user = get_user_model().objects.create_user(username=f"u-{member.pk.hex[:10]}", email=member.email)
    Member.objects.filter(pk=member.pk).update(user=user)
    return member, _session(user)


def _page(browser: Any, live_server: Any, session: str, language: str) -> Any:
    context = browser.new_context(
        locale="he-IL" if language == "he" else "en-US",
        viewport={"width": 1100, "height": 900},
        base_url=live_server.url,
    )
    context.add_cookies(
        [
            {"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url},
            {"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url},
        ]
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page


TEXT = {
    "he": {
        "title": "חלב שיבולת שועל בכל הסניפים",
        "body": "הייתי שמחה לקבל **חלב שיבולת** גם בסניף ברמת גן.",
        "reason": "נתחיל באביב",
        "planned": "מתוכנן",
        "thanks": "תודה על התמיכה!",
    },
    "en": {
        "title": "Oat milk in every branch",
        "body": "I would love **oat milk** in the Ramat Gan branch too.",
        "reason": "Starting this spring",
        "planned": "Planned",
        "thanks": "Thank you for your support!",
    },
}


@pytest.mark.parametrize("language", ["he", "en"])
def test_submit_support_status_and_notice_in_a_browser(
    language: str, browser: Any, transactional_db: None, live_server: Any, settings: Any
) -> None:
    settings.STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    text = TEXT[language]
    brand = brand_create(
        slug="cafe", name="קפה טוב" if language == "he" else "Good Cafe", default_locale=language
    )
    author, author_session = _member_session(brand, "Noa")
    fan, fan_session = _member_session(brand, "Dan")
    owner = get_user_model().objects.create_user(username="owner", email="owner@example.org")
    staff_grant(brand=brand, user=owner, role=StaffRole.OWNER)

    page = _page(browser, live_server, author_session, language)
    page.goto("/ideas/cafe/submit/")
    assert page.evaluate("document.documentElement.dir") == ("rtl" if language == "he" else "ltr")
    page.locator('[data-test="idea-title-input"]').fill(text["title"])
    page.locator('[data-test="idea-body-input"]').fill(text["body"])
    page.screenshot(path=str(SHOTS / f"ideas-{language}-1-submit.png"), full_page=True)
    page.locator('[data-test="idea-submit"]').click()
    page.locator('[data-test="idea"]').wait_for()
    idea = Idea.objects.get(author=author)
    assert page.locator('[data-test="idea-title"]').inner_text() == text["title"]
    assert page.locator('[data-test="support-button"]').count() == 0  # not on one's own idea

    fan_page = _page(browser, live_server, fan_session, language)
    fan_page.goto(f"/ideas/cafe/i/{idea.pk}/")
    fan_page.locator('[data-test="support-button"]').click()
    fan_page.locator('[data-test="supported"]').wait_for()
    assert text["thanks"] in fan_page.locator('[data-test="messages"]').inner_text()
    assert fan_page.locator('[data-test="supporters"]').inner_text().startswith("1")
    fan_page.screenshot(path=str(SHOTS / f"ideas-{language}-2-supported.png"), full_page=True)
    assert IdeaSupport.objects.filter(idea=idea, member=fan).count() == 1

    staff_page = _page(browser, live_server, _session(owner), language)
    staff_page.goto("/ideas/cafe/console/")
    card = staff_page.locator('[data-test="console-idea"]')
    card.locator('[data-test="status-select"]').select_option("planned")
    card.locator('[data-test="status-reason-input"]').fill(text["reason"])
    card.locator('[data-test="status-save"]').click()
    staff_page.wait_for_selector(f'[data-test="console-status"]:text-is("{text["planned"]}")')
    staff_page.screenshot(path=str(SHOTS / f"ideas-{language}-3-console.png"), full_page=True)

    fan_page.goto("/ideas/cafe/")
    assert fan_page.locator('[data-test="unread-count"]').inner_text() == "1"
    fan_page.locator('[data-test="ideas-notices-link"]').click()
    notice = fan_page.locator('[data-test="idea-notice"]')
    notice.wait_for()
    assert text["title"] in notice.inner_text() and text["planned"] in notice.inner_text()
    assert text["reason"] in notice.inner_text()
    fan_page.screenshot(path=str(SHOTS / f"ideas-{language}-4-notice.png"), full_page=True)
    assert IdeaNotice.objects.get(member=fan, idea=idea).read_at is not None
