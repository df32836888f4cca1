"""One navigation on every staff page, sub-pages included, showing each role the parts it works with."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from kesher.brands.models import Brand
from kesher.brands.services import brand_create, staff_grant
from kesher.members.tests.factories import MemberFactory
from kesher.web.tests.conftest import make_user

pytestmark = pytest.mark.django_db

PROGRAM = ["members", "rules", "rewards", "tiers", "referrals", "campaigns", "journeys"]
EXPECTED = {
    "owner": [
        "overview",
        *PROGRAM,
        "insights",
        "moderation",
        "reviews",
        "magazine",
        "surveys",
        "ideas",
        "customers",
        "listening",
        "cashier",
        "webhooks",
        "privacy",
    ],
    "marketer": ["overview", *PROGRAM, "insights", "magazine", "surveys", "ideas", "customers", "listening"],
    "analyst": ["overview", *PROGRAM, "insights", "magazine", "surveys", "listening"],
    "moderator": ["overview", "moderation", "reviews", "magazine", "ideas"],
    "service_agent": ["overview", "members", "surveys", "listening", "cashier"],
}
# Each part's pages, sub-pages too: the navigation must be on all of them.
PAGES = {
    "overview": ["/console/cafe/"],
    "privacy": ["/console/cafe/privacy/"],
    "webhooks": ["/console/cafe/webhooks/"],
    "listening": [
        "/console/cafe/listening/",
        "/console/cafe/listening/voices/",
        "/console/cafe/listening/connectors/",
        "/console/cafe/listening/topics/",
    ],
    "members": ["/console/cafe/members/", "/console/cafe/members/{member}/"],
    "rules": ["/console/cafe/rules/"],
    "rewards": ["/console/cafe/rewards/"],
    "tiers": ["/console/cafe/tiers/"],
    "referrals": ["/console/cafe/referrals/"],
    "campaigns": ["/c/staff/"],
    "journeys": ["/c/staff/journeys/"],
    "moderation": ["/community/cafe/moderation/"],
    "magazine": ["/console/cafe/magazine/"],
    "cashier": ["/cashier/", "/cashier/stores/"],
    "insights": ["/insights/cafe/", "/insights/cafe/advocates/"],
    "surveys": ["/console/cafe/surveys/"],
    "ideas": ["/ideas/cafe/console/"],
    "reviews": ["/console/cafe/reviews/"],
    "customers": ["/console/cafe/import/", "/console/cafe/duplicates/"],  # customers-console
}


def _nav_of(html: str) -> tuple[list[str], list[str], str]:
    """(the links' keys, the keys marked as the current page, the brand named) of the staff navigation."""
    match = re.search(r'<nav class="console-nav"[^>]*data-test="staff-nav">(.*?)</nav>', html, re.S)
    assert match, "no staff navigation on the page"
    nav = match.group(1)
    keys = re.findall(r'data-test="nav-([a-z]+)"', nav)
    current = re.findall(r'data-test="nav-([a-z]+)" aria-current="page"', nav)
    brand = re.search(r'data-test="nav-brand"><bdi>(.*?)</bdi>', nav)
    return [k for k in keys if k not in {"brand", "other"}], current, brand.group(1) if brand else ""


def _staff(client: Client, brand: Brand, role: str) -> None:
    user = make_user(f"{role}@example.org")
    staff_grant(brand=brand, user=user, role=role)
    client.force_login(user)


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_each_role_sees_its_parts_on_every_page_it_may_open(client, brand, role):
    member = MemberFactory(brand=brand)
    _staff(client, brand, role)
    for part in EXPECTED[role]:
        for page in PAGES[part]:
            url = page.format(member=member.pk)
            response = client.get(url)
            assert response.status_code == 200, url
            keys, current, named = _nav_of(response.content.decode())
            assert keys == EXPECTED[role], url
            assert current == [part], url
            assert named == brand.name


def test_the_navigation_reads_in_english_too(client, brand):
    _staff(client, brand, "owner")
    html = client.get("/console/cafe/members/", headers={"Accept-Language": "en"}).content.decode()
    assert '<a href="/console/cafe/members/" data-test="nav-members" aria-current="page">Members</a>' in html
    assert '<a href="/community/cafe/moderation/" data-test="nav-moderation">Moderation</a>' in html
    hebrew = client.get("/console/cafe/members/", headers={"Accept-Language": "he"}).content.decode()
    assert 'data-test="nav-members" aria-current="page">חברי מועדון</a>' in hebrew
    assert 'data-test="nav-moderation">ניהול הקהילה</a>' in hebrew


def test_a_page_of_no_one_brand_names_the_brand_whose_role_holds_it(client, brand):
    shop = brand_create(slug="zshop", name="Z Shop", default_locale="en")
    user = make_user("two-hats@example.org")
    staff_grant(brand=brand, user=user, role="service_agent")  # first by name, but no campaigns
    staff_grant(brand=shop, user=user, role="marketer")
    client.force_login(user)
    keys, current, named = _nav_of(client.get("/c/staff/").content.decode())
    assert (named, current) == ("Z Shop", ["campaigns"])
    assert keys == EXPECTED["marketer"]
    keys, current, named = _nav_of(client.get("/console/cafe/").content.decode())
    assert (named, keys) == (brand.name, EXPECTED["service_agent"])
    assert (
        'href="/console/zshop/" data-test="nav-other-brand"' in client.get("/console/cafe/").content.decode()
    )


def test_no_staff_navigation_for_a_member(client, brand):
    client.force_login(make_user("member@example.org"))
    assert 'data-test="staff-nav"' not in client.get("/portal/").content.decode()
