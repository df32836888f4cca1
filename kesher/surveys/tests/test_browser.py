"""In a real browser, in Hebrew and in English: the member's survey from their link, with its scales
mirrored right-to-left in Hebrew (0 on the right, as Formbricks fails to do) and in reading order in
English, radio groups with legends, answered and thanked; and the staff results page with its chart.
Screenshots go to test-output/screenshots/surveys-*.png."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from kesher.brands.models import StaffRole
from kesher.brands.services import brand_create, staff_grant
from kesher.members.tests.factories import MemberFactory
from kesher.surveys.invitations import survey_invite
from kesher.surveys.models import SurveyResponse
from kesher.surveys.services import response_submit
from kesher.surveys.tests.factories import key, make_survey
from kesher.web.tests.conftest import make_user

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


def _page(browser: Any, live_server: Any, language: str, session: str | None = None) -> Any:
    context = browser.new_context(
        locale="he-IL" if language == "he" else "en-US",
        viewport={"width": 900, "height": 1000},
        base_url=live_server.url,
    )
    cookies = [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
    if session:
        cookies.append({"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url})
    context.add_cookies(cookies)
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page


def _centres(page: Any, selector: str) -> list[float]:
    return page.eval_on_selector_all(
        selector, "els => els.map(e => { const r = e.getBoundingClientRect(); return r.x + r.width / 2; })"
    )


@pytest.mark.parametrize("language", ["he", "en"])
def test_the_members_survey_mirrors_its_scales_in_hebrew_and_is_answered(
    language: str, browser: Any, transactional_db: None, live_server: Any, settings: Any
) -> None:
    settings.STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    brand = brand_create(slug="cafe", name="קפה טוב", default_locale="he")
    survey = make_survey(brand)
    member = MemberFactory(brand=brand, locale=language)
    invited = survey_invite(survey=survey, member=member, store="Dizengoff")
    page = _page(browser, live_server, language)
    page.goto(f"/s/{invited.token}/")
    rtl = language == "he"
    assert page.evaluate("document.documentElement.dir") == ("rtl" if rtl else "ltr")

    nps = '[data-test="question-nps"]'
    # The DOM (what a screen reader reads) goes 0 → 10 in both languages; the eye sees it mirrored in Hebrew.
    values = page.eval_on_selector_all(f"{nps} [data-test=option]", "els => els.map(e => e.dataset.value)")
    assert values == [str(n) for n in range(11)]
    centres = _centres(page, f"{nps} [data-test=option]")
    if rtl:
        assert centres == sorted(centres, reverse=True), "in Hebrew 0 is on the right and 10 on the left"
    else:
        assert centres == sorted(centres), "in English 0 is on the left"
    ends = _centres(page, f"{nps} [data-test=scale-ends] span")
    assert (ends[0] > ends[1]) == rtl  # "not at all likely" stands beside the 0
    csat = _centres(page, '[data-test="question-csat"] [data-test=option]')
    assert (csat[0] > csat[-1]) == rtl

    # Radio groups with legends: each scale is a group named by its question.
    group = page.get_by_role(
        "group", name="עד כמה תמליצו עלינו?" if rtl else "How likely are you to recommend us?"
    )
    assert group.get_by_role("radio").count() == 11
    page.screenshot(path=str(SHOTS / f"surveys-{language}-1-survey.png"), full_page=True)

    page.locator('[data-test="survey-submit"]').click()  # the required NPS left out
    page.locator('[data-test="survey-errors"]').wait_for()
    page.screenshot(path=str(SHOTS / f"surveys-{language}-2-errors.png"), full_page=True)
    page.locator(f"{nps} [data-value='3']").click()
    page.locator('[data-test="question-csat"] [data-value="2"]').click()
    page.locator('[data-test="question-text"] textarea').fill("הקפה היה קר" if rtl else "The coffee was cold")
    page.locator('[data-test="survey-submit"]').click()
    page.locator('[data-test="survey-thanks"]').wait_for()
    page.screenshot(path=str(SHOTS / f"surveys-{language}-3-thanks.png"), full_page=True)
    response = SurveyResponse.objects.get(survey=survey)
    assert (response.member_id, response.nps, response.csat, response.store) == (member.pk, 3, 2, "Dizengoff")


@pytest.mark.parametrize("language", ["he", "en"])
def test_the_results_page_draws_the_nps_chart(
    language: str, browser: Any, transactional_db: None, live_server: Any, settings: Any
) -> None:
    settings.STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    brand = brand_create(slug="cafe", name="קפה טוב", default_locale="he")
    survey = make_survey(brand)
    for score in (10, 9, 7, 3):
        response_submit(survey=survey, member=MemberFactory(brand=brand), answers={key(survey, "nps"): score})
    user = make_user("analyst@example.org")
    staff_grant(brand=brand, user=user, role=StaffRole.ANALYST)
    client = Client()
    client.force_login(user)
    page = _page(browser, live_server, language, client.cookies[settings.SESSION_COOKIE_NAME].value)
    page.goto(f"/console/cafe/surveys/{survey.pk}/results/")
    page.wait_for_function("window.Chart && window.Chart.getChart('nps-chart')")
    assert page.locator('[data-test="nps-value"]').inner_text() == "25.0"
    page.screenshot(path=str(SHOTS / f"surveys-{language}-4-results.png"), full_page=True)
