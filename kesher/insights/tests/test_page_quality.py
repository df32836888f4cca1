"""The insights pages with figures in them (the site-wide walk sees them empty), in Hebrew and English,
pass the Nu HTML checker with no errors and axe-core with no serious or critical violation."""

from __future__ import annotations

import os
import shutil
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client

from kesher.brands.services import staff_grant
from kesher.insights.tests.test_browser import browser  # noqa: F401
from kesher.web.tests import pagewalk
from kesher.web.tests.conftest import make_user

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def tools() -> None:
    for program in ("java", "npm"):
        if shutil.which(program) is None:
            if os.environ.get("CI"):
                pytest.fail(f"{program} is not installed")
            pytest.skip(f"{program} is not installed")
    pagewalk.tools_install()


def test_the_insights_pages_with_data_pass_the_checkers(
    tools: None,
    browser: Any,  # noqa: F811
    transactional_db: None,
    live_server: Any,
    settings: Any,
    club: Any,
    brand: Any,
    tmp_path: Any,
) -> None:
    settings.STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    user = make_user("owner@staff.example.org")
    staff_grant(brand=brand, user=user, role="owner")
    client = Client()
    client.force_login(user)
    session = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    pages = [
        f"/insights/{brand.slug}/",
        f"/insights/{brand.slug}/?store=dizengoff&segment=loyal",
        f"/insights/{brand.slug}/advocates/",
        f"/insights/{brand.slug}/churn/",
        f"/insights/{brand.slug}/personas/",
        f"/console/{brand.slug}/members/{club['alice'].pk}/",
    ]
    saved: dict[Any, str] = {}
    violations: list[str] = []
    for language in ("he", "en"):
        context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
        context.add_cookies(
            [
                {"name": django_settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url},
                {"name": django_settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url},
            ]
        )
        page = context.new_page()
        for url in pages:
            response = page.goto(live_server.url + url)
            assert response is not None and response.status == 200, url
            path = tmp_path / f"{len(saved):02d}-{language}.html"
            path.write_text(response.text(), encoding="utf-8")
            saved[path] = f"{url} ({language})"
            for found in pagewalk.axe_violations(page):
                violations.append(f"{url} ({language}): {found['impact']} {found['id']} {found['nodes']}")
        context.close()
    errors = pagewalk.vnu_errors(saved)
    assert errors == [], "\n".join(errors)
    assert violations == [], "\n".join(violations)
