"""The customer-data console in a real browser: a marketer imports a file in Hebrew (right-to-left), then
merges a probable duplicate pair in English."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from kesher.brands.services import brand_create, staff_grant
from kesher.customers.models import DuplicatePair, MemberMerge
from kesher.members.models import Member, MemberStatus
from kesher.members.tests.factories import MemberFactory
from kesher.web.tests.conftest import make_user
from kesher.web.tests.test_browser import DESKTOP, browser  # noqa: F401

pytestmark = pytest.mark.browser

CSV = (
    "מספר לקוח,שם פרטי,שם משפחה,אימייל,טלפון\n"
    "b-1,דנה,כהן,dana@example.org,050-123-4567\n"
    "b-2,יוסי,לוי,not-an-email,052-765-4321\n"
)


def _page(browser: Any, live_server: Any, user: Any, language: str) -> Any:  # noqa: F811
    context = browser.new_context(locale="he-IL" if language == "he" else "en-US", viewport=DESKTOP)
    host = live_server.url.split("://", 1)[1].split(":")[0]
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies(
        [
            {"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "domain": host, "path": "/"},
            {"name": settings.SESSION_COOKIE_NAME, "value": session, "domain": host, "path": "/"},
        ]
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def test_a_marketer_imports_in_hebrew_and_merges_in_english(
    browser,  # noqa: F811
    live_server,
    transactional_db,
    tmp_path,
    settings,
):
    settings.MEDIA_ROOT = tmp_path / "media"
    brand = brand_create(slug="cafe", name="קפה טוב", default_locale="he")
    user = make_user("marketer@staff.example.org")
    staff_grant(brand=brand, user=user, role="marketer")

    page = _page(browser, live_server, user, "he")
    page.goto(f"{live_server.url}/console/cafe/import/")
    assert page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == ["he", "rtl"]
    assert page.locator('[data-test="nav-customers"]').count() == 1
    source = tmp_path / "members.csv"
    source.write_text(CSV, encoding="utf-8")
    page.select_option("#id_kind", "members")
    page.set_input_files("#id_file", str(source))
    page.click('[data-test="upload"]')
    page.wait_for_selector('[data-test="preview"]')
    assert page.locator('[data-test="preview-row"]').count() == 2
    assert page.locator('[data-test="row-problem"][data-code="bad_email"]').count() == 1
    assert page.locator('[data-test="row-ok"]').count() == 1  # the phone with dashes is fine
    page.click('[data-test="run"]')
    page.wait_for_selector('[data-test="count-created"]')
    assert page.inner_text('[data-test="count-created"]') == "1"
    assert page.inner_text('[data-test="count-failed"]') == "1"
    assert page.inner_text('[data-test="job-status"]') == "הסתיים"
    assert list(Member.objects.filter(brand=brand).values_list("external_id", flat=True)) == ["b-1"]
    page.context.close()

    a = MemberFactory(brand=brand, first_name="Dana", last_name="Cohen", email="dana.c@example.org")
    b = MemberFactory(brand=brand, first_name="Dana", last_name="Kohen", email="dana.k@example.org")
    first, second = sorted([a, b], key=lambda m: str(m.pk))
    DuplicatePair.objects.create(
        brand=brand, member_a=first, member_b=second, probability=0.95, reasons=["similar name"]
    )
    page = _page(browser, live_server, user, "en")
    page.goto(f"{live_server.url}/console/cafe/duplicates/")
    assert page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == ["en", "ltr"]
    assert page.locator('[data-test="pair"]').count() == 1
    assert "similar name" in page.inner_text('[data-test="pair"]')
    page.click('[data-test="keep-a"]')
    page.wait_for_selector('[data-test="undo"]')
    assert page.locator('[data-test="pair"]').count() == 0
    merge = MemberMerge.objects.get()
    assert (merge.source_id, merge.target_id) == (second.pk, first.pk)
    assert Member.objects.get(pk=second.pk).status == MemberStatus.BLOCKED
    page.click('[data-test="undo"]')
    page.wait_for_selector('[data-test="pair"]')
    merge.refresh_from_db()
    assert merge.undone_at is not None
    page.context.close()
