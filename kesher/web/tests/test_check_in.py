"""Checking in at a store by its QR code, and the staff page that prints those codes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import segno
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client

from kesher.activity.models import Activity
from kesher.brands.models import StaffRole
from kesher.brands.services import staff_grant
from kesher.core.audit import SYSTEM
from kesher.loyalty.models import PointsAccount, Store
from kesher.loyalty.services import earning_rule_update
from kesher.members.tests.factories import MemberFactory
from kesher.web.accounts import memberships_link
from kesher.web.tests.conftest import ClubScene, make_user

pytestmark = pytest.mark.django_db

CHECK_IN = "/portal/check-in/cafe/dizengoff/"


@pytest.fixture
def member_client(client: Client, scene: ClubScene) -> Client:
    memberships_link(user=scene.member_user)
    client.force_login(scene.member_user)
    return client


def _balance(scene: ClubScene) -> int:
    return PointsAccount.objects.get(member=scene.member).balance


def _visits(scene: ClubScene) -> int:
    return Activity.objects.filter(member=scene.member, type="visit").count()


def _text(html: str, test: str) -> str:
    found = re.search(rf'data-test="{test}">(.*?)</(?:h1|p)>', html, re.S)
    assert found, test
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def test_a_member_checks_in_once_a_day_and_earns_the_visit_points(member_client, scene):
    first = member_client.get(CHECK_IN)
    html = first.content.decode()
    assert first.status_code == 200
    assert _text(html, "welcome") == "ברוכים הבאים לסניף תל אביב – דיזנגוף!"
    assert _text(html, "check-in-result") == "הביקור שלך נרשם: צברת 5 נקודות."
    assert (_balance(scene), _visits(scene)) == (125, 1)

    again = member_client.get(CHECK_IN).content.decode()
    assert _text(again, "check-in-result") == (
        "כבר עשית צ'ק-אין כאן היום. נתראה מחר! הביקור של היום זיכה אותך ב-5 נקודות."
    )
    assert (_balance(scene), _visits(scene)) == (125, 1)
    portal = member_client.get("/portal/").content.decode()
    assert "צברת 5 נקודות" in portal
    assert "ביקור בסניף · בסניף תל אביב – דיזנגוף" in portal


def test_check_in_in_english(member_client, scene):
    member_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = member_client.get(CHECK_IN).content.decode()
    assert _text(html, "welcome") == "Welcome to תל אביב – דיזנגוף!"
    assert _text(html, "check-in-result") == "Your visit is recorded: you earned 5 points."
    again = member_client.get(CHECK_IN).content.decode()
    assert _text(again, "check-in-result") == (
        "You already checked in here today. Come back tomorrow! Today's visit earned you 5 points."
    )


def test_a_visit_no_rule_rewards_is_still_recorded(member_client, scene):
    Store.objects.create(brand=scene.brand, name="חיפה", code="haifa")
    for rule in scene.brand.earning_rules.filter(activity_type="visit"):
        earning_rule_update(rule=rule, changes={"active": False}, actor=SYSTEM)
    html = member_client.get("/portal/check-in/cafe/haifa/").content.decode()
    assert _text(html, "check-in-result") == "הביקור שלך נרשם."
    assert (_balance(scene), _visits(scene)) == (120, 1)


@pytest.mark.parametrize("path", ["/portal/check-in/cafe/nowhere/", "/portal/check-in/nowhere/dizengoff/"])
def test_an_unknown_store_or_club_is_not_found(member_client, scene, path):
    assert member_client.get(path).status_code == 404
    assert _visits(scene) == 0


def test_a_closed_store_and_another_clubs_store_are_not_found(member_client, scene, other_brand):
    Store.objects.create(brand=scene.brand, name="סגור", code="closed", active=False)
    Store.objects.create(brand=other_brand, name="Mall", code="mall")
    assert member_client.get("/portal/check-in/cafe/closed/").status_code == 404
    assert member_client.get("/portal/check-in/cafe/mall/").status_code == 404
    assert _visits(scene) == 0


def test_someone_who_is_not_a_member_is_invited_to_join(client, scene, other_brand):
    user = make_user("tamar@example.org")
    MemberFactory(brand=other_brand, email="tamar@example.org")  # a member elsewhere only
    memberships_link(user=user)
    client.force_login(user)
    response = client.get(CHECK_IN)
    html = response.content.decode()
    assert response.status_code == 200
    assert _text(html, "not-a-member").startswith("עדיין אין לך כרטיס במועדון קפה טוב.")
    assert 'href="/join/cafe/" data-test="join-link"' in html
    assert not Activity.objects.filter(type="visit").exists()
    assert client.get("/portal/check-in/cafe/nowhere/").status_code == 404


def test_a_visitor_not_signed_in_is_offered_to_join_or_sign_in_and_nothing_is_recorded(client, scene):
    response = client.get(CHECK_IN)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'href="/join/cafe/" data-test="join-link"' in html
    assert f'href="/accounts/login/?next={CHECK_IN}" data-test="sign-in-link"' in html
    assert _visits(scene) == 0


# --- the posters --------------------------------------------------------------------------------


def test_staff_print_a_qr_code_per_store_pointing_at_its_check_in(client, scene):
    Store.objects.create(brand=scene.brand, name="חיפה – הדר", code="haifa")
    Store.objects.create(brand=scene.brand, name="סגור", code="closed", active=False)
    client.force_login(scene.staff_user)
    response = client.get("/cashier/stores/")
    html = response.content.decode()
    assert response.status_code == 200
    urls = [poster.url for poster in response.context["posters"]]
    assert urls == [  # by name: חיפה before תל אביב
        "http://testserver/portal/check-in/cafe/haifa/",
        "http://testserver/portal/check-in/cafe/dizengoff/",
    ]
    for url in urls:
        qr = segno.make(url, micro=False).svg_inline(scale=8, dark="#111827", light="#ffffff", omitsize=True)
        assert qr in html  # the code itself encodes the address
        assert f'data-test="poster-url">{url}<' in html
    assert "<bdi>תל אביב – דיזנגוף</bdi>" in html
    assert "סגור" not in html
    assert 'data-test="print"' in html
    assert "@media print" in Path(str(finders.find("web/kesher.css"))).read_text()  # one poster a page


def test_the_stores_page_is_for_the_brands_staff_only(client, scene, other_brand):
    assert client.get("/cashier/stores/").status_code == 302
    client.force_login(scene.member_user)
    assert client.get("/cashier/stores/").status_code == 403
    shop_staff = make_user("shop@example.org")
    staff_grant(brand=other_brand, user=shop_staff, role=StaffRole.SERVICE_AGENT)
    client.force_login(shop_staff)
    assert client.get("/cashier/stores/", {"brand": "cafe"}).status_code == 404
    own = client.get("/cashier/stores/")
    assert own.context["brand"] == other_brand
    assert 'data-test="no-stores"' in own.content.decode()


def test_the_cashier_page_links_to_the_posters(client, scene):
    client.force_login(scene.staff_user)
    assert (
        'href="/cashier/stores/?brand=cafe" data-test="stores-link"'
        in client.get("/cashier/").content.decode()
    )
