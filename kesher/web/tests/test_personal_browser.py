"""In a real browser, in Hebrew and in English, at 360 px: a member reads an article (the beacon is sent
when they leave it), sees the magazine's home put it after the unread ones, changes their interests and
sees their own page change."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.db import OperationalError

from kesher.brands.services import brand_create
from kesher.magazine.models import Reading
from kesher.magazine.tests.conftest import write
from kesher.members.services import member_update
from kesher.web.tests.conftest import club_scene
from kesher.web.tests.test_browser import SHOTS, _new_page, _sign_in, _switch_language, browser  # noqa: F401

pytestmark = pytest.mark.browser
NARROW = {"width": 360, "height": 740}


def _wait_for_reading() -> None:
    """Waits for the beacon's row. SQLite's shared in-memory database answers a read that meets the live
    server's write with "table is locked" at once (no busy wait), so such a read is simply tried again."""
    for _ in range(100):
        try:
            if Reading.objects.exists():
                return
        except OperationalError:
            pass
        time.sleep(0.1)


def _titles(page: Any) -> list[str]:
    return page.locator('[data-test="article-card"] h2').all_inner_texts()


@pytest.mark.parametrize("language", ["he", "en"])
def test_reading_reorders_the_magazine_and_interests_change_the_home(
    browser,  # noqa: F811  (the fixture imported above)
    live_server,
    transactional_db,
    language,
):
    scene = club_scene(brand_create(slug="cafe", name="קפה טוב", default_locale="he"))
    member_update(member=scene.member, changes={"interests": []})
    write(scene.brand, "Green tea", interests=["tea"], body="Leaves.\n\n" * 40)
    write(scene.brand, "Cold brew", interests=["coffee"], body="Beans.\n\n" * 40)  # the newest
    page: Any = _new_page(browser, live_server, NARROW)
    _sign_in(page, "noa@example.org")
    if language == "en":
        _switch_language(page, ("en", "ltr"))

    page.goto("/magazine/cafe/")
    assert _titles(page) == ["Cold brew", "Green tea"]
    page.locator('[data-test="article-card"] a', has_text="Cold brew").click()
    page.wait_for_selector("[data-reading-id]")
    page.mouse.wheel(0, 20_000)
    page.wait_for_timeout(1200)
    page.goto("/magazine/cafe/")  # leaving the article sends its beacon (pagehide)
    _wait_for_reading()
    reading = Reading.objects.get()
    assert reading.scroll > 50 and reading.seconds >= 1
    page.reload()
    assert _titles(page) == ["Green tea", "Cold brew"]  # what was read goes after what was not
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
    page.screenshot(path=str(SHOTS / f"home-01-magazine-order-{language}.png"), full_page=True)

    page.goto("/portal/")
    block = page.locator('[data-test="home-articles"]')
    assert "Green tea" not in block.inner_text()  # tea is no interest of theirs (yet)
    page.goto("/portal/preferences/?club=cafe")
    page.locator('[data-test="interest"][value="tea"]').check()
    page.locator('[data-test="preferences-save"]').click()
    page.wait_for_url("**/portal/preferences/**")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
    page.goto("/portal/")
    assert "Green tea" in page.locator('[data-test="home-articles"]').inner_text()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
    assert page.evaluate("document.documentElement.dir") == ("rtl" if language == "he" else "ltr")
    page.screenshot(path=str(SHOTS / f"home-02-portal-{language}.png"), full_page=True)
