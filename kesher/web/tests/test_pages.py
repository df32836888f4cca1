"""Pages are right-to-left in Hebrew, left-to-right in English; the portal tells members where they stand."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLResolver, get_resolver
from django.utils import timezone

from kesher.activity.services import activity_record
from kesher.core.audit import SYSTEM
from kesher.loyalty.services import program_update, tier_create
from kesher.members.models import Member
from kesher.members.services import member_erase
from kesher.members.tests.factories import MemberFactory
from kesher.web.accounts import memberships_link
from kesher.web.tests.conftest import ClubScene, make_user

pytestmark = pytest.mark.django_db

HTML_TAG = re.compile(r'<html lang="(?P<lang>[a-z-]+)" dir="(?P<dir>rtl|ltr)">')
# Not pages of this site's shell: the admin has its own, the API answers JSON, i18n only redirects.
NOT_PAGES = ("admin/", "api/", "i18n/", "healthz", "accounts/", "static/")


def _in(client: Client, language: str) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def _html_tag(response) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    match = HTML_TAG.search(response.content.decode())
    assert match, response.content[:300]
    return match["lang"], match["dir"]


def _page_routes(patterns: list[Any], known: dict[str, str], prefix: str = "") -> list[str]:
    """Every route whose parameters are all in `known` (such as the brand's slug), as a path to open."""
    found: list[str] = []
    for pattern in patterns:
        route = str(pattern.pattern)
        if "(?P" in route or "^" in route:
            continue
        for name in re.findall(r"<(?:\w+:)?(\w+)>", route):
            if name not in known:
                break
            route = re.sub(rf"<(?:\w+:)?{name}>", known[name], route)
        else:
            if isinstance(pattern, URLResolver):
                found += _page_routes(pattern.url_patterns, known, prefix + route)
            else:
                found.append("/" + prefix + route)
    return [path for path in found if not path.lstrip("/").startswith(NOT_PAGES)]


@pytest.fixture
def signed_in(client: Client, scene: ClubScene) -> Client:
    """A user who is both a member (linked) and a cashier of the brand: every page has something to show."""
    memberships_link(user=scene.member_user)
    Member.objects.filter(pk=scene.member.pk).update(user=scene.staff_user)
    client.force_login(scene.staff_user)
    return client


@pytest.mark.parametrize(("language", "direction"), [("he", "rtl"), ("en", "ltr")])
def test_every_page_follows_the_language(signed_in, scene, language, direction):
    own = {
        "/",
        "/portal/",
        "/cashier/",
        "/cashier/stores/",
        f"/join/{scene.brand.slug}/",
        f"/portal/check-in/{scene.brand.slug}/dizengoff/",
    }
    pages = {
        *own,
        "/cashier/?" + urlencode({"q": scene.member.phone}),
        *_page_routes(
            get_resolver().url_patterns, {"brand_slug": scene.brand.slug, "store_code": "dizengoff"}
        ),
    }
    checked = []
    for path in sorted(pages):
        response = _in(signed_in, language).get(path)
        if not response["Content-Type"].startswith("text/html") or b"<html" not in response.content:
            continue  # a redirect, a fragment for htmx, a sitemap: not a page of its own
        assert _html_tag(response) == (language, direction), path
        checked.append(path)
    print(f"pages checked in {language}: {checked}")
    assert own <= set(checked)


@pytest.mark.parametrize(("language", "direction"), [("he", "rtl"), ("en", "ltr")])
@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"])
def test_pages_for_visitors_follow_the_language(client, language, direction, path):
    response = _in(client, language).get(path)
    assert response.status_code == 200
    assert _html_tag(response) == (language, direction)


@pytest.mark.parametrize(("language", "direction"), [("he", "rtl"), ("en", "ltr")])
def test_the_join_page_and_its_errors_follow_the_language(client, scene, language, direction):
    page = _in(client, language).get(f"/join/{scene.brand.slug}/?ref={scene.member.referral_code}")
    refused = _in(client, language).post(
        f"/join/{scene.brand.slug}/",
        {"first_name": "Dan", "last_name": "Cohen", "email": "dan@example.org", "phone": "12"},
    )
    assert (page.status_code, refused.status_code) == (200, 422)
    assert _html_tag(page) == _html_tag(refused) == (language, direction)


@pytest.mark.parametrize(("language", "direction"), [("he", "rtl"), ("en", "ltr")])
def test_error_pages_follow_the_language(client, scene, language, direction):
    client.force_login(scene.member_user)
    forbidden = _in(client, language).get("/cashier/")
    missing = _in(client, language).get("/no-such-page/")
    assert (forbidden.status_code, missing.status_code) == (403, 404)
    assert _html_tag(forbidden) == _html_tag(missing) == (language, direction)


def test_the_switch_button_flips_the_language_and_comes_back(client, scene):
    memberships_link(user=scene.member_user)
    client.force_login(scene.member_user)
    page = client.get("/portal/")
    assert _html_tag(page) == ("he", "rtl")
    assert 'name="language" value="en"' in page.content.decode()
    switched = client.post("/i18n/setlang/", {"language": "en", "next": "/portal/"}, follow=True)
    assert switched.redirect_chain == [("/portal/", 302)]
    assert _html_tag(switched) == ("en", "ltr")
    assert 'name="language" value="he"' in switched.content.decode()
    back = client.post("/i18n/setlang/", {"language": "he", "next": "/portal/"}, follow=True)
    assert _html_tag(back) == ("he", "rtl")


def test_the_portal_in_hebrew_tells_the_member_where_they_stand(client, scene):
    memberships_link(user=scene.member_user)
    client.force_login(scene.member_user)
    html = client.get("/portal/").content.decode()
    assert 'data-test="balance">120<' in html
    assert "שלום, נועה" in html
    assert scene.member.card_number[:4] + " " + scene.member.card_number[4:8] in html
    assert "<svg" in html  # the card's QR code
    assert "צברת 180 נקודות" in html
    assert "נקודה על כל שקל · בסניף תל אביב – דיזנגוף" in html
    assert "מימשת 60 נקודות בהטבה" in html
    assert "חסרות עוד 780 נקודות" in html  # the 900-point workshop
    assert "יש לך מספיק נקודות" in html  # the 60-point coffee
    assert f'data-test="coupon-code">{scene.coupon.code}<' in html


def test_the_portal_in_english(client, scene):
    memberships_link(user=scene.member_user)
    client.force_login(scene.member_user)
    html = _in(client, "en").get("/portal/").content.decode()
    assert "You earned 180 points" in html
    assert "1 point for every 1 ILS spent · at תל אביב – דיזנגוף" in html
    assert "You spent 60 points on a reward" in html
    assert "780 more points to go" in html


def test_the_portal_shows_points_on_the_way_and_points_about_to_expire(client, scene):
    # Purchase points wait 14 days for returns and expire a year after the purchase.
    program_update(
        brand=scene.brand, changes={"pending_days": 14, "expiry": "days", "expiry_value": 365}, actor=SYSTEM
    )
    now = timezone.now()
    for days_ago, amount in [(360, "25.00"), (3, "40.00")]:
        activity_record(
            brand=scene.brand,
            member=scene.member,
            type="purchase",
            source="pos",
            occurred_at=now - timedelta(days=days_ago),
            attributes={"amount": amount, "currency": "ILS"},
            idempotency_key=f"days-ago-{days_ago}",
        )
    memberships_link(user=scene.member_user)
    client.force_login(scene.member_user)

    response = _in(client, "en").get("/portal/")
    html = response.content.decode()
    points = response.context["cards"][0]["points"]
    assert (points.balance, points.pending, points.expiring_soon) == (145, 40, 25)
    assert 'data-test="balance">145<' in html
    assert re.search(
        r'data-test="pending">\s*<span class="stat-label">On the way</span>\s*'
        r'<span class="stat-number">40</span>',
        html,
    )
    assert re.search(
        r'data-test="expiring">\s*<span class="stat-label">Expiring soon</span>\s*'
        r'<span class="stat-number">25</span>',
        html,
    )
    by = points.expiring_before.astimezone(timezone.get_current_timezone())
    assert f'Use them by <time datetime="{by:%Y-%m-%d}">{by:%m/%d/%Y}</time>.' in html
    assert "You earned 40 points, on their way" in html
    assert "245 points earned since joining" in html
    hebrew = _in(client, "he").get("/portal/").content.decode()
    assert "צברת 40 נקודות, זמינות למימוש בקרוב" in hebrew


def test_the_portal_shows_only_the_users_own_live_cards(client, scene, other_brand):
    user = make_user("tamar@example.org")
    own = MemberFactory(brand=other_brand, email="tamar@example.org", first_name="Tamar")
    erased = MemberFactory(brand=scene.brand, email="tamar@example.org")
    memberships_link(user=user)
    member_erase(member=erased)
    client.force_login(user)
    response = client.get("/portal/")
    assert [card["member"] for card in response.context["cards"]] == [own]
    assert scene.coupon.code not in response.content.decode()


def test_a_login_without_a_card_is_told_how_to_get_one(client, db):
    client.force_login(make_user("nobody@example.org"))
    html = client.get("/portal/").content.decode()
    assert 'data-test="no-club"' in html
    assert "עדיין אין כרטיס מועדון" in html


def test_the_portal_needs_a_login(client):
    response = client.get("/portal/")
    assert (response.status_code, response["Location"]) == (302, "/accounts/login/?next=/portal/")


def test_the_portal_costs_a_fixed_number_of_queries_per_card(client, scene, other_brand):
    memberships_link(user=scene.member_user)
    client.force_login(scene.member_user)
    with CaptureQueriesContext(connection) as one_card:
        client.get("/portal/")
    MemberFactory(brand=other_brand, email="noa@example.org")
    memberships_link(user=scene.member_user)
    with CaptureQueriesContext(connection) as two_cards:
        client.get("/portal/")
    tier_create(brand=other_brand, name="Gold", threshold=Decimal(500))  # the tier panel costs its own
    with CaptureQueriesContext(connection) as two_tiered_cards:
        response = client.get("/portal/")
    assert len(response.context["cards"]) == 2
    print(
        f"portal queries: one card {len(one_card)}, two cards {len(two_cards)}, "
        f"two cards with tiers {len(two_tiered_cards)}"
    )
    # Each card's own page blocks (kesher/web/personal.py: expiring points, rewards and products from the
    # recommendations, articles, questions, threads) cost about 18 queries of their own, per card.
    assert len(two_cards) - len(one_card) <= 25  # a card in a club without tiers
    assert len(two_tiered_cards) - len(one_card) <= 31  # a card with tier progress
    assert len(one_card) <= 38  # 19 for the card, and its blocks
