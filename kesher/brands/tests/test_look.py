"""A brand's look: colours checked for contrast, its own domain, its images, and the owner's settings page."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from kesher.brands import look
from kesher.brands.models import Brand, StaffRole
from kesher.brands.services import staff_grant
from kesher.campaigns.identity import brand_look_update
from kesher.campaigns.selectors import messaging_settings
from kesher.core.errors import Conflict, ValidationFailed
from kesher.core.models import AuditEntry
from kesher.web.tests.conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


def png(colour: str = "#ff0000", size: tuple[int, int] = (40, 20)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def _look(brand: Brand) -> tuple[str, str, str, str | None, str, str]:
    brand.refresh_from_db()
    return (
        brand.name,
        brand.primary_color,
        brand.accent_color,
        brand.domain,
        brand.logo.name,
        brand.favicon.name,
    )


# --- colours and domains --------------------------------------------------------------------------


def test_contrast_ratios_are_those_of_wcag():
    assert round(look.contrast_ratio("#000000", "#ffffff"), 2) == 21.0
    assert round(look.contrast_ratio("#0f766e", "#ffffff"), 2) == 5.47
    assert round(look.contrast_ratio("#777777", "#ffffff"), 2) == 4.48
    assert look.contrast_ratio("#123456", "#123456") == 1.0


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("#0F766E", "#0f766e"), ("0f766e", "#0f766e"), ("#036", "#003366"), (" #1E3A8A ", "#1e3a8a")],
)
def test_a_colour_may_be_typed_in_any_usual_way(typed, stored):
    assert look.colour_check(typed, field="primary_color") == stored


@pytest.mark.parametrize("typed", ["red", "#12345", "#ggg000", "", "rgb(0,0,0)", "#0f766e;}body{"])
def test_what_is_not_a_colour_is_refused(typed):
    with pytest.raises(ValidationFailed) as refused:
        look.colour_check(typed, field="accent_color")
    assert (refused.value.code, refused.value.field) == ("validation_error", "accent_color")


@pytest.mark.parametrize("light", ["#ffff00", "#777777", "#fde68a"])
def test_a_colour_white_text_cannot_be_read_on_is_refused(light):
    with pytest.raises(ValidationFailed) as refused:
        look.colour_check(light, field="primary_color")
    assert refused.value.code == "low_contrast"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("Club.Cafe.co.il", "club.cafe.co.il"), ("club.cafe.co.il.", "club.cafe.co.il"), ("", None)],
)
def test_a_domain_is_a_host_name(typed, stored):
    assert look.domain_parse(typed) == stored


@pytest.mark.parametrize(
    "typed", ["https://club.cafe.co.il", "club.cafe.co.il/join", "localhost", "club:8000", "-x.com"]
)
def test_a_domain_with_a_scheme_path_or_port_is_refused(typed):
    with pytest.raises(ValidationFailed):
        look.domain_parse(typed)


# --- the service ----------------------------------------------------------------------------------


def test_the_owner_changes_the_look_and_the_senders_in_one_audited_change(brand):
    owner = make_user("owner@example.org")
    from kesher.core.audit import Actor

    brand_look_update(
        brand=brand,
        changes={
            "name": "  קפה   טוב מאוד ",
            "primary_color": "#7C2D12",
            "accent_color": "#1E3A8A",
            "domain": "Club.Cafe.co.il",
            "sender_name": "קפה טוב",
            "sender_email": "Club@Cafe.co.il",
            "sms_sender": "CafeTov",
        },
        logo=SimpleUploadedFile("logo.png", png(), content_type="image/png"),
        actor=Actor(user=owner),
    )
    name, primary, accent, domain, logo, favicon = _look(brand)
    assert (name, primary, accent, domain, favicon) == (
        "קפה טוב מאוד",
        "#7c2d12",
        "#1e3a8a",
        "club.cafe.co.il",
        "",
    )
    assert re.fullmatch(rf"brands/{brand.pk}/[0-9a-f]{{32}}\.png", logo)
    ms = messaging_settings(brand=brand)
    assert (ms.sender_name, ms.sender_email, ms.sms_sender) == ("קפה טוב", "club@cafe.co.il", "CafeTov")
    entry = AuditEntry.objects.get(brand=brand, action="brand.look_update")
    assert entry.actor_user_id == owner.pk
    assert entry.data["before"]["primary_color"] == "#0f766e"
    assert entry.data["after"]["primary_color"] == "#7c2d12"
    assert entry.data["after"]["logo"] == logo
    assert AuditEntry.objects.filter(brand=brand, action="messaging_settings.update").count() == 1


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"primary_color": "#ffff00"}, "primary_color", "low_contrast"),
        ({"accent_color": "blue"}, "accent_color", "validation_error"),
        ({"name": "   "}, "name", "validation_error"),
        ({"domain": "https://x.co.il/"}, "domain", "validation_error"),
        ({"sender_email": "not an address"}, "sender_email", "validation_error"),
        ({"sms_sender": "קפה"}, "sms_sender", "validation_error"),
        ({"slug": "other"}, "slug", "validation_error"),
    ],
)
def test_a_refused_change_changes_nothing_not_even_the_logo(brand, changes, field, code):
    before = _look(brand)
    with pytest.raises(ValidationFailed) as refused:
        brand_look_update(
            brand=brand,
            changes={"primary_color": "#7c2d12", **changes},
            logo=SimpleUploadedFile("logo.png", png(), content_type="image/png"),
        )
    assert (refused.value.field, refused.value.code) == (field, code)
    assert _look(brand) == before
    assert not AuditEntry.objects.filter(
        brand=brand, action__in=["brand.look_update", "messaging_settings.update"]
    ).exists()
    assert messaging_settings(brand=brand).pk is None or messaging_settings(brand=brand).sender_email == ""


def test_a_file_that_is_not_an_image_is_refused(brand):
    before = _look(brand)
    with pytest.raises(ValidationFailed) as refused:
        brand_look_update(
            brand=brand, changes={}, favicon=SimpleUploadedFile("icon.png", b"<svg onload=alert(1)>")
        )
    assert refused.value.field == "favicon"
    assert _look(brand) == before


def test_two_clubs_cannot_live_on_one_domain(brand, other_brand):
    brand_look_update(brand=brand, changes={"domain": "club.cafe.co.il"})
    with pytest.raises(Conflict) as refused:
        brand_look_update(brand=other_brand, changes={"domain": "CLUB.cafe.co.il"})
    assert refused.value.code == "domain_taken"
    other_brand.refresh_from_db()
    assert other_brand.domain is None


# --- pages wear the look -------------------------------------------------------------------------


def test_the_brand_domain_leads_to_its_join_page_in_its_colours_and_name(client, brand, other_brand):
    brand_look_update(
        brand=brand,
        changes={"domain": "club.cafe.co.il", "primary_color": "#7c2d12", "accent_color": "#312e81"},
        logo=SimpleUploadedFile("logo.png", png(), content_type="image/png"),
        favicon=SimpleUploadedFile("favicon.png", png(size=(32, 32)), content_type="image/png"),
    )
    home = client.get("/", HTTP_HOST="club.cafe.co.il")
    assert (home.status_code, home["Location"]) == (302, "/join/cafe/")
    page = client.get("/join/cafe/", HTTP_HOST="club.cafe.co.il")
    html = page.content.decode()
    assert (
        "<style>:root{--accent:#7c2d12;--accent-ink:#fff;--brand-primary:#7c2d12;--brand-accent:#312e81;}</style>"
        in html
    )
    assert "<title>הצטרפות למועדון קפה טוב · קפה טוב</title>" in html
    logo = re.search(r'<img src="(/brand/cafe/logo/[0-9a-f]{32}\.png)"[^>]*data-test="brand-logo"', html)
    favicon = re.search(r'<link rel="icon" href="(/brand/cafe/favicon/[0-9a-f]{32}\.png)">', html)
    assert logo and favicon
    assert 'data-test="kesher-mark"' not in html and "Kesher" not in html
    image = client.get(logo.group(1))
    assert (image.status_code, image["Content-Type"]) == (200, "image/png")
    assert b"".join(image) == png()
    assert client.get(logo.group(1).replace(".png", ".gif")).status_code == 404
    assert client.get(logo.group(1).replace("/cafe/", "/shop/")).status_code == 404


def test_the_installation_home_lists_the_clubs_and_wears_kesher(client, brand, other_brand):
    html = client.get("/").content.decode()
    assert 'href="/join/cafe/" data-test="join-cafe"' in html
    assert 'href="/join/shop/" data-test="join-shop"' in html
    assert 'data-test="kesher-mark"' in html and "--brand-primary" not in html


def test_with_one_club_the_home_page_goes_to_its_join_page(client, brand):
    response = client.get("/")
    assert (response.status_code, response["Location"]) == (302, "/join/cafe/")


# --- the owner's settings page ---------------------------------------------------------------------


@pytest.fixture
def owner(brand):
    user = make_user("owner@example.org", first_name="רונית")
    staff_grant(brand=brand, user=user, role=StaffRole.OWNER)
    return user


def _form(**changes: Any) -> dict[str, Any]:
    form = {
        "name": "קפה טוב",
        "primary_color": "#7c2d12",
        "accent_color": "#1e3a8a",
        "domain": "",
        "sender_name": "",
        "sender_email": "",
        "sms_sender": "",
    }
    form.update(changes)
    return form


def test_the_owner_saves_the_look_from_the_console(client, brand, owner):
    client.force_login(owner)
    page = client.get("/console/cafe/brand/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-test="look-preview"' in html and 'data-test="primary_color" value="#0f766e"' not in html
    assert 'value="#0f766e" maxlength="7"' in html
    response = client.post(
        "/console/cafe/brand/",
        {
            **_form(sender_email="club@cafe.co.il"),
            "logo": SimpleUploadedFile("l.png", png(), content_type="image/png"),
        },
    )
    assert (response.status_code, response["Location"]) == (303, "/console/cafe/brand/")
    _, primary, _, _, logo, _ = _look(brand)
    assert primary == "#7c2d12" and logo
    assert messaging_settings(brand=brand).sender_email == "club@cafe.co.il"
    entry = AuditEntry.objects.get(brand=brand, action="brand.look_update")
    assert entry.actor_user_id == owner.pk
    assert "נשמר" in client.get("/console/cafe/brand/").content.decode()


def test_a_too_light_colour_is_explained_on_its_field_and_nothing_is_saved(client, brand, owner):
    client.force_login(owner)
    before = _look(brand)
    response = client.post("/console/cafe/brand/", _form(primary_color="#fde68a"))
    html = response.content.decode()
    assert response.status_code == 422
    error = re.search(r'data-test="error-primary_color">(.*?)</span>', html)
    assert error and "4.5:1" in error.group(1)
    assert _look(brand) == before
    assert not AuditEntry.objects.filter(action="brand.look_update").exists()


def test_only_the_owner_opens_the_page_and_another_brand_is_not_found(client, brand, other_brand, owner):
    marketer = make_user("marketer@example.org")
    staff_grant(brand=brand, user=marketer, role=StaffRole.MARKETER)
    client.force_login(marketer)
    assert client.get("/console/cafe/brand/").status_code == 403
    before = _look(brand)
    assert client.post("/console/cafe/brand/", _form()).status_code == 403
    assert _look(brand) == before
    client.force_login(owner)
    assert client.get("/console/shop/brand/").status_code == 404


@pytest.mark.parametrize("template", ["campaigns/email/message.html", "community/email/digest.html"])
def test_campaign_and_digest_emails_wear_the_brands_colour_and_logo(brand, settings, template):
    from django.template.loader import render_to_string

    settings.KESHER_BASE_URL = "https://kesher.example.net"
    brand_look_update(
        brand=brand,
        changes={"primary_color": "#7c2d12"},
        logo=SimpleUploadedFile("logo.png", png(), content_type="image/png"),
    )
    brand.refresh_from_db()
    html = render_to_string(template, {"brand": brand, "sender": "קפה טוב", "direction": "rtl", "items": []})
    assert "border-top:6px solid #7c2d12" in html and "#0f766e" not in html
    assert re.search(
        r'<img src="https://kesher.example.net/brand/cafe/logo/[0-9a-f]{32}\.png" alt="קפה טוב"', html
    )
