"""The loyalty console's navigation leads to the brand's other staff pages: campaigns and journeys for the
roles that may see them (owner, marketer, analyst); see test_staff_nav.py for every role and page."""

from __future__ import annotations

import pytest
from django.test import Client

from kesher.brands.models import Brand
from kesher.brands.services import staff_grant
from kesher.web.tests.conftest import make_user

pytestmark = pytest.mark.django_db


def _nav(client: Client, brand: Brand, role: str, language: str = "he") -> str:
    user = make_user(f"{role}@example.org")
    staff_grant(brand=brand, user=user, role=role)
    client.force_login(user)
    html = client.get(f"/console/{brand.slug}/", headers={"Accept-Language": language}).content.decode()
    start = html.index('<nav class="console-nav"')
    return html[start : html.index("</nav>", start)]


@pytest.mark.parametrize("role", ["owner", "marketer", "analyst"])
def test_campaign_roles_see_magazine_campaigns_and_journeys(client, brand, role):
    nav = _nav(client, brand, role)
    assert '<a href="/console/cafe/magazine/" data-test="nav-magazine">מגזין</a>' in nav
    assert '<a href="/c/staff/" data-test="nav-campaigns">קמפיינים</a>' in nav
    assert '<a href="/c/staff/journeys/" data-test="nav-journeys">מסעות</a>' in nav
    # The links lead somewhere this user may go.
    for url in ("/console/cafe/magazine/", "/c/staff/", "/c/staff/journeys/"):
        assert client.get(url).status_code == 200, url


def test_english_labels(client, brand):
    nav = _nav(client, brand, "owner", language="en")
    assert ">Magazine</a>" in nav and ">Campaigns</a>" in nav and ">Journeys</a>" in nav


@pytest.mark.parametrize("role", ["service_agent", "moderator"])
def test_other_roles_see_no_campaigns(client, brand, role):
    nav = _nav(client, brand, role)
    assert "/c/staff/" not in nav


def test_a_role_in_another_brand_does_not_show_campaign_links(client, brand, other_brand):
    user = make_user("mixed@example.org")
    staff_grant(brand=brand, user=user, role="service_agent")
    staff_grant(brand=other_brand, user=user, role="owner")
    client.force_login(user)
    html = client.get(f"/console/{brand.slug}/").content.decode()
    nav = html[html.index('<nav class="console-nav"') :]
    nav = nav[: nav.index("</nav>")]
    assert 'href="/cashier/"' in nav
    assert "/c/staff/" not in nav
