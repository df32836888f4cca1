"""In a real browser (Chromium through Playwright): the portal header's notices badge fills in and counts
down as notices are read, right-to-left in Hebrew; and a member forwards an email to a friend."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from kesher.brands.services import brand_create
from kesher.campaigns import services
from kesher.campaigns.models import Message, MessageForward
from kesher.campaigns.tests.conftest import member
from kesher.members.models import Member
from kesher.web.tests.test_browser import PHONE, SHOTS, _new_page, browser  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _signed_in_page(browser: Any, live_server: Any, user: Any) -> Any:  # noqa: F811
    client = Client()
    client.force_login(user)
    page = _new_page(browser, live_server, PHONE)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
    return page


def test_the_notices_badge_counts_unread_notices(browser, live_server):  # noqa: F811
    brand = brand_create(slug="cafe", name="קפה טוב", default_locale="he")
    user = get_user_model().objects.create_user(username="noa", password="x")
    noa = member(brand, first_name="נועה", email="noa@example.org", consents={"email": True})
    Member.objects.filter(pk=noa.pk).update(user=user)
    for name, subject in (("one", "הכרטיס שלך מוכן"), ("two", "שעות פתיחה בחג")):
        campaign = services.campaign_create(
            brand=brand,
            name=name,
            channel="portal",
            subject=subject,
            body="שלום {{ first_name }}",
            advertising=False,
        )
        services.campaign_send(campaign=campaign)

    page = _signed_in_page(browser, live_server, user)
    page.goto("/portal/")
    badge = page.locator('[data-test="notices-unread"]')
    badge.wait_for(state="visible")
    assert badge.inner_text() == "2"
    assert page.evaluate("document.documentElement.dir") == "rtl"
    page.locator('[data-test="notices-link"]').click()
    page.wait_for_url(re.compile(r"/c/notices/$"))
    assert page.locator('[data-test="notice"]').count() == 2
    page.locator('[data-test="notice-read"]').first.click()
    page.wait_for_url(re.compile(r"/c/notices/$"))
    page.locator('[data-test="notices-unread"]').wait_for(state="visible")
    assert page.locator('[data-test="notices-unread"]').inner_text() == "1"
    page.screenshot(path=str(SHOTS / "portal-notices-he.png"), full_page=True)
    page.locator('[data-test="notices-read-all"]').click()
    page.wait_for_url(re.compile(r"/c/notices/$"))
    page.wait_for_timeout(300)
    assert page.locator('[data-test="notices-unread"]').is_hidden()
    page.context.close()


def test_a_member_forwards_an_email_from_the_browser(browser, live_server, smtp_server):  # noqa: F811
    brand = brand_create(slug="cafe", name="קפה טוב", default_locale="he")
    member(brand, first_name="נועה", email="noa@example.org", consents={"email": True})
    campaign = services.campaign_create(
        brand=brand,
        name="Offer",
        channel="email",
        subject="מבצע",
        body="שלום {{ first_name }}",
        advertising=True,
    )
    services.campaign_send(campaign=campaign)
    text = smtp_server.sink.received[0].message.get_body(preferencelist=("plain",)).get_content()
    found = re.search(r"https://club\.kesher\.test(/c/f/\S+)", text)
    assert found is not None
    page = _new_page(browser, live_server, PHONE)
    page.goto(found.group(1))
    page.fill('input[name="to"]', "friend@example.org")
    page.locator('[data-test="forward-send"]').click()
    page.locator('[data-test="forwarded"]').wait_for(state="visible")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    page.screenshot(path=str(SHOTS / "forward-he.png"), full_page=True)
    assert len(smtp_server.sink.to("friend@example.org")) == 1
    assert MessageForward.objects.filter(message=Message.objects.get()).count() == 1
    page.context.close()
