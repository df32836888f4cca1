"""In a real browser: a marketer writes an article in Hebrew, previews it, publishes it, and a reader finds
it in the magazine, right to left, at its Hebrew address."""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

import pytest

from kesher.brands.models import StaffRole
from kesher.brands.services import brand_create, staff_grant
from kesher.magazine.models import Article
from kesher.web.tests.conftest import make_user
from kesher.web.tests.test_browser import DESKTOP, SHOTS, _new_page, _sign_in, browser  # noqa: F401

pytestmark = pytest.mark.browser


def test_a_marketer_publishes_an_article_in_hebrew(browser, live_server, transactional_db):  # noqa: F811
    brand = brand_create(slug="cafe", name="קפה טוב", default_locale="he")
    staff_grant(brand=brand, user=make_user("editor@example.org", first_name="דנה"), role=StaffRole.MARKETER)
    page: Any = _new_page(browser, live_server, DESKTOP)
    _sign_in(page, "editor@example.org")

    page.goto("/console/cafe/magazine/")
    page.locator('[data-test="new-article"]').click()
    page.wait_for_url(re.compile(r"/magazine/new/$"))
    assert page.evaluate("document.documentElement.dir") == "rtl"
    page.fill('input[name="title"]', "קפה של בוקר")
    page.fill('textarea[name="summary"]', "איך מכינים אספרסו בבית")
    page.fill('textarea[name="body"]', "טוחנים **דק** ומחממים את הכוס.")
    page.fill('input[name="interests"]', "קפה, בית")
    page.locator('[data-test="preview"]').click()
    preview = page.locator('[data-test="preview-pane"]')
    preview.wait_for()
    assert preview.locator("strong").inner_text() == "דק"
    assert Article.objects.count() == 0  # a preview saves nothing
    page.screenshot(path=str(SHOTS / "magazine-01-preview-he.png"), full_page=True)

    page.locator('[data-test="publish"]').click()
    page.wait_for_url(re.compile(r"/console/cafe/magazine/[0-9a-f-]{36}/$"))
    assert "פורסם" in page.locator('[data-test="article-status"]').inner_text()
    article = Article.objects.get()
    assert (article.status, article.slug, article.interests) == ("published", "קפה-של-בוקר", ["קפה", "בית"])

    reader = _new_page(browser, live_server, DESKTOP)
    reader.goto("/magazine/cafe/")
    assert reader.locator('[data-test="magazine-title"]').inner_text() == "המגזין של קפה טוב"
    reader.locator('[data-test="article-card"] a').first.click()
    reader.wait_for_url(re.compile(r"/magazine/cafe/"))
    assert urllib.parse.unquote(reader.url).endswith("/magazine/cafe/קפה-של-בוקר/")
    assert reader.locator('[data-test="article-title"]').inner_text() == "קפה של בוקר"
    assert reader.evaluate("[document.documentElement.dir, document.querySelector('article').dir]") == [
        "rtl",
        "rtl",
    ]
    assert reader.locator('meta[property="og:title"]').get_attribute("content") == "קפה של בוקר"
    reader.screenshot(path=str(SHOTS / "magazine-02-article-he.png"), full_page=True)
