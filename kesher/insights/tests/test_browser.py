"""The dashboard in a real browser, in Hebrew and in English: every chart draws on its canvas, with the
labels of the page's language, right to left in Hebrew. Screenshots go to
test-output/screenshots/insights-*.png."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from kesher.brands.services import staff_grant
from kesher.web.tests.conftest import make_user

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
SHOTS = Path(settings.BASE_DIR) / "test-output" / "screenshots"
CHARTS = ["funnel", "conversion", "tracks", "sales", "buyers", "points", "nps"]
TEXT = {
    "he": {"funnel": ["מודעות", "שקילה", "רכישה", "נאמנות", "המלצה"], "title": "תובנות", "dir": "rtl"},
    "en": {
        "funnel": ["Awareness", "Consideration", "Purchase", "Loyalty", "Advocacy"],
        "title": "Insights",
        "dir": "ltr",
    },
}
HEBREW_MONTHS = tuple(
    [
        "ינואר",
        "פברואר",
        "מרץ",
        "אפריל",
        "מאי",
        "יוני",
        "יולי",
        "אוגוסט",
        "ספטמבר",
        "אוקטובר",
        "נובמבר",
        "דצמבר",
    ]
)


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


@pytest.mark.parametrize("language", ["he", "en"])
def test_the_dashboards_charts_draw_with_the_languages_labels(
    language: str,
    browser: Any,
    transactional_db: None,
    live_server: Any,
    settings: Any,
    club: Any,
    brand: Any,
) -> None:
    settings.STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    user = make_user("analyst@staff.example.org")
    staff_grant(brand=brand, user=user, role="analyst")
    client = Client()
    client.force_login(user)
    context = browser.new_context(
        locale="he-IL" if language == "he" else "en-US", viewport={"width": 1200, "height": 900}
    )
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies(
        [
            {"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url},
            {"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url},
        ]
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}/insights/{brand.slug}/")
    text = TEXT[language]
    assert page.evaluate("document.documentElement.dir") == text["dir"]
    assert page.locator("h1").inner_text() == text["title"]
    for key in CHARTS:
        canvas = page.locator(f"#chart-{key}")
        canvas.wait_for()
        assert canvas.get_attribute("data-ready") == "1", key
        box = canvas.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 100, key
    # something was drawn: the funnel's canvas is not blank
    drawn = page.evaluate(
        """() => { const c = document.getElementById('chart-funnel');
                   const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                   for (let i = 3; i < d.length; i += 4) { if (d[i] !== 0) return true; } return false; }"""
    )
    assert drawn
    labels = page.evaluate("window.kesherCharts.funnel.data.labels")
    assert labels == text["funnel"]
    data = page.evaluate("window.kesherCharts.funnel.data.datasets[0].data")
    assert data == [1, 1, 2, 1, 0]
    reversed_axis = page.evaluate("window.kesherCharts.funnel.options.scales.x.reverse")
    assert reversed_axis is (language == "he")
    months = page.evaluate("window.kesherCharts.sales.data.labels")
    if language == "he":
        assert all(label.split()[0] in HEBREW_MONTHS for label in months)
    else:
        assert months[-1].split()[0] in (
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        )
    assert page.locator('[data-test="heatmap"]').count() == 1
    page.screenshot(path=str(SHOTS / f"insights-{language}-dashboard.png"), full_page=True)
    assert errors == []
    context.close()
