"""In a real browser, in Hebrew and in English: a member writes a review and sees it on the product's page;
a moderator publishes a held one from the queue, its signal shown. Screenshots go to
test-output/screenshots/reviews-*.png."""

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
from kesher.members.models import Member
from kesher.members.tests.factories import MemberFactory
from kesher.reviews.models import Review
from kesher.reviews.services import review_submit

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


def _session(user: Any) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


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
    "he": {"title": "מעיל מצוין לגשם", "body": "חם ונוח, שווה כל שקל.", "held": "קניתי אצל המתחרים"},
    "en": {
        "title": "A great rain coat",
        "body": "Warm and comfy, worth it.",
        "held": "I bought it elsewhere",
    },
}


@pytest.mark.parametrize("language", ["he", "en"])
def test_write_a_review_and_moderate_a_held_one_in_a_browser(
    language: str, browser: Any, transactional_db: None, live_server: Any, settings: Any
) -> None:
    settings.STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    brand = brand_create(
        slug="cafe", name="קפה טוב" if language == "he" else "Good Coffee", default_locale=language
    )
    text = TEXT[language]
    member: Member = MemberFactory(brand=brand, first_name="Noa", locale=language)  # type: ignore[assignment]
    user = get_user_model().objects.create_user(username="noa", email=member.email)
    Member.objects.filter(pk=member.pk).update(user=user)
    staff_user = get_user_model().objects.create_user(username="staff-member", email="staff@example.org")
    staff_member: Member = MemberFactory(brand=brand, first_name="Staff")  # type: ignore[assignment]
    Member.objects.filter(pk=staff_member.pk).update(user=staff_user)
    staff_grant(brand=brand, user=staff_user, role=StaffRole.MARKETER)
    held = review_submit(
        member=Member.objects.get(pk=staff_member.pk), sku="TRENCH-1", rating=5, title=text["held"], body="!"
    )
    assert held.signals == ["brand_staff"]

    page = _page(browser, live_server, _session(user), language)
    page.goto("/reviews/cafe/p/TRENCH-1/")
    assert page.locator("html").get_attribute("dir") == ("rtl" if language == "he" else "ltr")
    page.click('[data-test="write-review"]')
    page.check('[data-test="rating-4"]')
    page.fill('[data-test="title"]', text["title"])
    page.fill('[data-test="body"]', text["body"])
    page.click('[data-test="submit-review"]')
    page.wait_for_url("**/reviews/cafe/p/TRENCH-1/")
    assert page.locator('[data-test="review-title"]').all_inner_texts() == [text["title"]]
    assert page.locator('[data-test="count"]').inner_text().startswith("1" if language == "en" else "ביקורת")
    page.screenshot(path=str(SHOTS / f"reviews-product-{language}.png"), full_page=True)

    moderator = get_user_model().objects.create_user(username="mod", email="mod@example.org")
    staff_grant(brand=brand, user=moderator, role=StaffRole.MODERATOR)
    console = _page(browser, live_server, _session(moderator), language)
    console.goto("/console/cafe/reviews/")
    item = console.locator('[data-test="held-review"]')
    assert item.count() == 1
    assert item.locator('[data-test="signals"]').count() == 1
    console.screenshot(path=str(SHOTS / f"reviews-queue-{language}.png"), full_page=True)
    item.locator('[data-test="approve"]').click()
    console.wait_for_selector('[data-test="queue-empty"]')

    assert Review.objects.get(pk=held.pk).status == "published"
    page.goto("/reviews/cafe/p/TRENCH-1/?sort=newest")
    assert sorted(page.locator('[data-test="review-title"]').all_inner_texts()) == sorted(
        [text["title"], text["held"]]
    )
