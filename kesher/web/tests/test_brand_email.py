"""Account emails come from the member's club, through a real SMTP server (aiosmtpd): its name, logo and
colours, its sender as From, in the member's language."""

from __future__ import annotations

import re
from email.utils import parseaddr
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from kesher.brands.tests.test_look import png
from kesher.campaigns.identity import brand_look_update
from kesher.campaigns.tests.conftest import smtp_server  # noqa: F401 (the fixture)
from kesher.members.tests.factories import MemberFactory
from kesher.web.tests.conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def branded(brand, settings: Any, tmp_path: Any):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.KESHER_BASE_URL = "https://kesher.example.net"
    brand_look_update(
        brand=brand,
        changes={
            "primary_color": "#7c2d12",
            "sender_name": "מועדון קפה טוב",
            "sender_email": "club@cafe.co.il",
        },
        logo=SimpleUploadedFile("logo.png", png(), content_type="image/png"),
    )
    brand.refresh_from_db()
    yield brand
    # allauth counts emails per address in the cache (one confirmation per address in 3 minutes): forget
    # this test's, so a later test writing to the same address is not held back by it.
    cache.clear()


def _reset(email: str, **headers: Any) -> int:
    return Client().post("/accounts/password/reset/", {"email": email}, **headers).status_code


def test_a_hebrew_members_password_reset_comes_from_the_club_in_hebrew(branded, smtp_server):  # noqa: F811
    MemberFactory(brand=branded, email="noa@example.org", first_name="נועה", locale="he")
    make_user("noa@example.org")
    assert _reset("noa@example.org") == 302

    [received] = smtp_server.sink.to("noa@example.org")
    message = received.message
    assert received.mail_from == "club@cafe.co.il"
    assert parseaddr(str(message["From"])) == ("מועדון קפה טוב", "club@cafe.co.il")
    assert str(message["Subject"]).strip() == "קפה טוב · בחירת סיסמה חדשה"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert text.startswith("שלום נועה,")
    assert "ביקשו לבחור סיסמה חדשה לחשבון שלך במועדון קפה טוב" in text
    assert re.search(r"https?://\S+/accounts/password/reset/key/\S+", text)
    assert '<html lang="he" dir="rtl">' in html
    assert "border-top:6px solid #7c2d12" in html
    assert re.search(
        r'<img src="https://kesher.example.net/brand/cafe/logo/[0-9a-f]{32}\.png" alt="קפה טוב"', html
    )
    assert "Kesher" not in text and "Kesher" not in html and "example.com" not in text


def test_an_english_member_gets_it_in_english_left_to_right(branded, smtp_server):  # noqa: F811
    MemberFactory(brand=branded, email="dov@example.org", first_name="Dan", locale="en")
    make_user("dov@example.org")
    client = Client()
    client.cookies["django_language"] = "he"  # the page's language does not decide the member's
    assert client.post("/accounts/password/reset/", {"email": "dov@example.org"}).status_code == 302

    [received] = smtp_server.sink.to("dov@example.org")
    message = received.message
    assert str(message["Subject"]).strip() == "קפה טוב · Choosing a new password"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert text.startswith("Hello Dan,")
    assert '<html lang="en" dir="ltr">' in html


def test_the_confirmation_after_joining_comes_from_the_club(branded, smtp_server, settings):  # noqa: F811
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    client = Client()
    client.post(
        "/join/cafe/",
        {"first_name": "דב", "last_name": "כהן", "email": "dov@example.org", "phone": "052-1234567"},
    )
    password = "another correct horse battery"
    client.post(
        "/accounts/signup/", {"email": "dov@example.org", "password1": password, "password2": password}
    )

    [received] = smtp_server.sink.to("dov@example.org")
    message = received.message
    assert parseaddr(str(message["From"])) == ("מועדון קפה טוב", "club@cafe.co.il")
    assert str(message["Subject"]).strip() == "קפה טוב · אישור כתובת הדואר האלקטרוני"
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert text.startswith("שלום דב,")
    assert re.search(r"/accounts/confirm-email/\S+/", text)
