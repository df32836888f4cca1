"""In a real browser, in Hebrew and in English: ask (with "already asked" suggestions), answer, vote and
accept. Screenshots go to test-output/screenshots/community-*.png."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from kesher.brands.services import brand_create
from kesher.community.models import CommunitySettings, Post
from kesher.community.services import Author, community_install_defaults, question_ask
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

    # Playwright's sync API keeps an event loop in this thread; the ORM calls here are plain sync code.
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


def _member_session(brand: Any, name: str) -> tuple[Member, str]:
    member: Member = MemberFactory(brand=brand, first_name=name)  # type: ignore[assignment]
    user = get_user_model().objects.create_user(username=f"u-{member.pk.hex[:10]}", email=member.email)
    Member.objects.filter(pk=member.pk).update(user=user)
    client = Client()
    client.force_login(user)
    return member, client.cookies[settings.SESSION_COOKIE_NAME].value


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
        "earlier": "איך מממשים נקודות בסניף?",
        "typed": "לממש נקוד",
        "title": "האם אפשר לממש נקודות באתר?",
        "body": "ניסיתי **בקופה** ולא הצלחתי.",
        "answer": "כן, בעמוד ההטבות באתר.",
        "accepted": "התשובה שהתקבלה",
        "just_now": "עכשיו",
    },
    "en": {
        "earlier": "How do I redeem points in a store?",
        "typed": "redeem poi",
        "title": "Can I redeem points online?",
        "body": "I tried **at the till** and it did not work.",
        "answer": "Yes, on the rewards page of the website.",
        "accepted": "Accepted answer",
        "just_now": "now",
    },
}


@pytest.mark.parametrize("language", ["he", "en"])
def test_ask_answer_vote_and_accept_in_a_browser(
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
    general = community_install_defaults(brand=brand)
    CommunitySettings.objects.filter(brand=brand).update(min_seconds_between_posts=0)
    asker, asker_session = _member_session(brand, "Noa")
    helper, helper_session = _member_session(brand, "Dan")
    question_ask(space=general, author=Author(member=helper), title=text["earlier"], body="…")

    page = _page(browser, live_server, asker_session, language)
    page.goto("/community/cafe/ask/")
    assert page.evaluate("document.documentElement.dir") == ("rtl" if language == "he" else "ltr")
    page.locator('[data-test="ask-title"]').press_sequentially(text["typed"], delay=20)
    page.locator('[data-test="suggestions"]').wait_for()
    assert text["earlier"] in page.locator('[data-test="suggestions"]').inner_text()
    page.screenshot(path=str(SHOTS / f"community-{language}-1-ask.png"), full_page=True)
    page.locator('[data-test="ask-title"]').fill(text["title"])
    page.locator('[data-test="ask-body"]').fill(text["body"])
    page.locator('[data-test="ask-submit"]').click()
    page.locator('[data-test="question"]').wait_for()
    question = Post.objects.get(author=asker, kind="question")
    assert page.locator("h1").inner_text() == text["title"]

    helper_page = _page(browser, live_server, helper_session, language)
    helper_page.goto(f"/community/cafe/q/{question.pk}/")
    helper_page.locator('[data-test="answer-body"]').fill(text["answer"])
    helper_page.locator('[data-test="post-answer"]').click()
    helper_page.locator('[data-test="answer"]').wait_for()
    helper_page.screenshot(path=str(SHOTS / f"community-{language}-2-answered.png"), full_page=True)

    page.reload()
    page.locator('[data-test="answer"] [data-test="vote-up"]').click()
    page.wait_for_selector('[data-test="answer"] [data-test="score"]:text-is("1")')
    page.locator('[data-test="accept"]').click()
    page.locator('[data-test="accepted"]').wait_for()
    assert text["accepted"] in page.locator('[data-test="accepted"]').inner_text()
    # The kept post carries its absolute time; the page says it relative to now, in the page's language.
    answer_time = page.locator('[data-test="answer"] time[data-relative]')
    assert answer_time.inner_text() == text["just_now"]
    assert answer_time.get_attribute("title")
    page.screenshot(path=str(SHOTS / f"community-{language}-3-accepted.png"), full_page=True)

    question.refresh_from_db()
    answer = Post.objects.get(author=helper, kind="answer")
    assert (question.accepted_answer_id, answer.score) == (answer.pk, 1)
