"""In Chromium, in Hebrew and in English: an owner finds a member typed with spaces, opens their record
through the staff navigation (which stays on the sub-page), filters the list and downloads it as CSV."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from kesher.activity.services import activity_record
from kesher.brands.models import StaffRole
from kesher.brands.services import brand_create, staff_grant
from kesher.members.tests.factories import MemberFactory
from kesher.web.tests.conftest import make_user
from kesher.web.tests.test_browser import DESKTOP, PHONE, SHOTS, _new_page, _sign_in, browser  # noqa: F401

pytestmark = pytest.mark.browser


def _no_sideways_scroll(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"))


@pytest.fixture
def club(transactional_db: None, live_server: Any) -> dict[str, Any]:
    brand = brand_create(slug="cafe", name="קפה טוב", default_locale="he")
    staff_grant(brand=brand, user=make_user("owner@example.org", first_name="דנה"), role=StaffRole.OWNER)
    people = {}
    for first, last, phone, sms, amount in [
        ("נועה", "לוי", "050-1111111", True, 1250),
        ("Yossi", "Cohen", "052-2222222", False, 40),
        ("מאיה", "ברק", "054-3333333", True, 0),
    ]:
        member = MemberFactory(
            brand=brand, first_name=first, last_name=last, phone=phone, consents={"email": True, "sms": sms}
        )
        if amount:
            activity_record(
                brand=brand,
                member=member,
                type="purchase",
                source="pos",
                attributes={"amount": str(amount), "currency": "ILS"},
                occurred_at=timezone.now() - timedelta(days=3),
                idempotency_key=f"buy-{first}",
            )
        people[first] = member
    return {"brand": brand, **people}


def test_an_owner_finds_a_member_and_reads_their_record_in_both_languages(
    browser: Any,  # noqa: F811
    live_server: Any,
    club: dict[str, Any],
) -> None:
    page = _new_page(browser, live_server, PHONE)
    _sign_in(page, "owner@example.org")
    page.goto("/console/cafe/")
    nav = page.locator('[data-test="staff-nav"]')
    assert "שלום, דנה" in nav.inner_text()
    nav.locator('[data-test="nav-members"]').click()
    page.wait_for_url(re.compile(r"/console/cafe/members/$"))
    assert page.evaluate("document.documentElement.dir") == "rtl"
    assert page.locator('[data-test="member-count"]').inner_text() == "3 חברי מועדון"
    page.fill('[data-test="member-search"]', "050 111 1111")
    page.locator('[data-test="filter-apply"]').click()
    page.wait_for_url(re.compile(r"q=050"))
    rows = page.locator('[data-test="member-row"]')
    assert rows.count() == 1
    assert rows.first.locator('[data-test="member-points"]').inner_text() == "1,250"
    assert _no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / "console-members-he.png"), full_page=True)

    rows.first.locator("a").first.click()
    page.wait_for_url(re.compile(r"/console/cafe/members/[0-9a-f-]{36}/$"))
    assert page.locator('[data-test="member-name"]').inner_text() == "נועה לוי"
    # The navigation is still there on the sub-page, with Members marked as where we are.
    current = page.locator('[data-test="staff-nav"] [aria-current="page"]')
    assert current.inner_text() == "חברי מועדון"
    assert page.locator('[data-test="balance"]').inner_text() == "1,250"
    activities = page.locator('[data-test="member-activities"]').inner_text()
    assert "רכישה" in activities and "purchase" not in activities
    assert "היסטוריית הסכמות" in page.locator('[data-test="member-consents"]').inner_text()
    assert _no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / "console-member-he.png"), full_page=True)

    page.locator('[data-test="language-button"]').click()
    page.wait_for_function("document.documentElement.dir === 'ltr'")
    assert page.locator('[data-test="member-activities"] h2').inner_text() == "Activities"
    assert page.locator('[data-test="staff-nav"] [aria-current="page"]').inner_text() == "Members"
    page.screenshot(path=str(SHOTS / "console-member-en.png"), full_page=True)


def test_an_owner_filters_sorts_and_downloads_the_list_in_english(
    browser: Any,  # noqa: F811
    live_server: Any,
    club: dict[str, Any],
) -> None:
    page = _new_page(browser, live_server, DESKTOP)
    _sign_in(page, "owner@example.org")
    page.goto("/console/cafe/members/")
    page.locator('[data-test="language-button"]').click()
    page.wait_for_function("document.documentElement.dir === 'ltr'")
    assert page.locator("h1").inner_text() == "Members"
    page.select_option('[data-test="filter-consent-sms"]', "yes")
    page.locator('[data-test="filter-apply"]').click()
    page.wait_for_url(re.compile(r"consent_sms=yes"))
    assert page.locator('[data-test="member-count"]').inner_text() == "2 members"
    page.locator('[data-test="sort-points"]').click()
    page.wait_for_url(re.compile(r"sort=points"))
    names = page.locator('[data-test="member-row"] td:first-child a').all_inner_texts()
    assert names == ["מאיה ברק", "נועה לוי"]
    page.screenshot(path=str(SHOTS / "console-members-en.png"), full_page=True)
    with page.expect_download() as download:
        page.locator('[data-test="export-csv"]').click()
    raw = Path(download.value.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Card number,First name,Last name")
    assert [line.split(",")[1] for line in lines[1:]] == ["מאיה", "נועה"]
