"""The surveys pages, filled with answers, in Hebrew and in English, pass the Nu HTML checker with no
errors and axe-core with no serious or critical violation: the member's survey behind its link (which
the site-wide walk cannot open, its address being a token), its error and thank-you states, and every
console page. The site-wide walk (kesher/web/tests/test_page_quality.py) covers the console pages too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from kesher.brands.models import StaffRole
from kesher.brands.services import brand_create, staff_grant
from kesher.members.tests.factories import MemberFactory
from kesher.surveys.invitations import survey_invite
from kesher.surveys.models import SurveyAlert
from kesher.surveys.services import response_submit
from kesher.surveys.tests.factories import key, make_survey
from kesher.web.tests import pagewalk
from kesher.web.tests.conftest import make_user
from kesher.web.tests.test_browser import DESKTOP, browser  # noqa: F401

pytestmark = pytest.mark.browser


def test_the_survey_pages_pass_the_checkers_in_both_languages(
    browser,  # noqa: F811
    live_server: Any,
    transactional_db: None,
    tmp_path: Path,
    settings: Any,
) -> None:
    pagewalk.tools_install()
    settings.STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    brand = brand_create(slug="cafe", name="קפה טוב", default_locale="he")
    survey = make_survey(brand, trigger_activity="purchase")
    for score, store, text in [(10, "Dizengoff", "שירות מעולה"), (3, "Haifa", "The coffee was cold")]:
        answers: dict[str, object] = {
            key(survey, "nps"): score,
            key(survey, "csat"): 4,
            key(survey, "text"): text,
        }
        member = MemberFactory(brand=brand)
        survey_invite(survey=survey, member=member, store=store)
        response_submit(survey=survey, member=member, answers=answers, store=store)
    alert = SurveyAlert.objects.get()
    owner = make_user("owner@example.org")
    staff_grant(brand=brand, user=owner, role=StaffRole.OWNER)
    client = Client()
    client.force_login(owner)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    console = f"/console/cafe/surveys/{survey.pk}"
    staff_pages = [
        "/console/cafe/surveys/",
        "/console/cafe/surveys/new/",
        "/console/cafe/surveys/settings/",
        "/console/cafe/surveys/alerts/",
        f"{console}/",
        f"{console}/results/",
        f"{console}/results/?by=month&q=שירות",
    ]
    draft = make_survey(brand, publish=False)
    staff_pages.append(f"/console/cafe/surveys/{draft.pk}/")  # with the question editor
    saved: dict[Path, str] = {}
    violations: list[str] = []

    def check(page: Any, label: str) -> None:
        path = tmp_path / f"{len(saved):03d}.html"
        path.write_text(page.content(), encoding="utf-8")
        saved[path] = label
        for found in pagewalk.axe_violations(page):
            violations.append(
                f"{label}: {found['impact']} {found['id']} ({found['help']}) at {found['nodes']}"
            )

    host = live_server.url.split("://", 1)[1].split(":")[0]
    for language in ("he", "en"):
        member = MemberFactory(brand=brand, locale=language)
        invited = survey_invite(survey=survey, member=member)
        context = browser.new_context(
            locale="he-IL" if language == "he" else "en-US",
            viewport=DESKTOP,
            base_url=live_server.url,
            bypass_csp=True,
        )
        cookies = [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "domain": host, "path": "/"}]
        context.add_cookies(cookies)
        page = context.new_page()
        page.goto(f"/s/{invited.token}/")
        check(page, f"survey ({language})")
        page.locator('[data-test="survey-submit"]').click()
        page.locator('[data-test="survey-errors"]').wait_for()
        check(page, f"survey with errors ({language})")
        page.locator('[data-test="question-nps"] [data-value="8"]').click()
        page.locator('[data-test="survey-submit"]').click()
        page.locator('[data-test="survey-thanks"]').wait_for()
        check(page, f"survey thanks ({language})")
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session, "domain": host, "path": "/"}]
        )
        for url in staff_pages:
            response = page.goto(url)
            assert response is not None and response.status == 200, url
            if "/results/" in url:
                page.wait_for_function("window.Chart && window.Chart.getChart('nps-chart')")
            check(page, f"{url} ({language})")
        context.close()
    assert SurveyAlert.objects.filter(pk=alert.pk).exists()
    errors = pagewalk.vnu_errors(saved)
    assert errors == [], f"{len(errors)} HTML errors:\n" + "\n".join(errors)
    assert violations == [], f"{len(violations)} axe violations:\n" + "\n".join(violations)
