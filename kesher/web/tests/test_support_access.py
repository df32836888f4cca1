"""The installation admin reaches every brand's staff pages for support: the staff navigation, a banner, one
`support.access` audit entry per brand and admin an hour, and the normal audit entries of a change. A brand's
own staff still reach only their brand."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kesher.brands.access import SUPPORT_ACCESS
from kesher.brands.models import Brand, StaffMembership, StaffRole
from kesher.brands.services import staff_grant
from kesher.campaigns.journeys import journey_install
from kesher.core.models import AuditEntry
from kesher.loyalty.models import LedgerEntry
from kesher.members.tests.factories import MemberFactory
from kesher.web.tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def _admin() -> Any:
    return get_user_model().objects.create_superuser("root", "root@example.org", PASSWORD)


def _brand_pages(brand: Brand) -> list[str]:
    """Every kind of staff page of one brand: the loyalty console, its members, the brand's look, moderation,
    the magazine's console and a journey's page."""
    member = MemberFactory(brand=brand, email=f"noa@{brand.slug}.example.org")
    journey = journey_install(brand=brand, kind="birthday")
    slug = brand.slug
    return [
        reverse("loyalty:overview", args=[slug]),
        reverse("loyalty:rules", args=[slug]),
        reverse("loyalty:rewards", args=[slug]),
        reverse("loyalty:tiers", args=[slug]),
        reverse("loyalty:referrals", args=[slug]),
        reverse("loyalty:members", args=[slug]),
        reverse("loyalty:member", args=[slug, member.pk]),
        reverse("brand_look", args=[slug]),
        reverse("community:moderation", args=[slug]),
        reverse("magazine:console", args=[slug]),
        reverse("magazine:console_new", args=[slug]),
        reverse("campaigns:staff_journey", args=[journey.pk]),
    ]


def _support_entries(brand: Brand, user: Any) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(brand=brand, action=SUPPORT_ACCESS, actor_user=user))


def test_the_installation_admin_opens_every_staff_page_of_two_brands_audited_once_each(brand, other_brand):
    admin = _admin()
    pages = {brand: _brand_pages(brand), other_brand: _brand_pages(other_brand)}
    client = Client()
    client.force_login(admin)
    client.cookies["django_language"] = "en"

    for shown, urls in pages.items():
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            html = response.content.decode()
            assert 'data-test="staff-nav"' in html, url
            assert 'data-test="support-banner"' in html and "Support access" in html, url
            assert f'data-test="nav-brand"><bdi>{shown.name}</bdi>' in html, url
            assert 'data-test="nav-cashier"' not in html, url  # support does not serve at the counter
    # The two lists across brands open too.
    assert client.get(reverse("campaigns:staff_list")).status_code == 200
    assert client.get(reverse("campaigns:staff_journeys")).status_code == 200

    for shown in pages:
        entries = _support_entries(shown, admin)
        assert len(entries) == 1, "one entry per brand and admin an hour, not one a page"
        assert entries[0].target_type == "brand" and entries[0].target_id == str(shown.pk)
    assert not StaffMembership.objects.filter(user=admin).exists(), "support grants no membership"


def test_the_support_banner_is_in_hebrew_on_a_hebrew_page(brand):
    client = Client()
    client.force_login(_admin())
    client.cookies["django_language"] = "he"
    html = client.get(reverse("loyalty:overview", args=[brand.slug])).content.decode()
    assert "גישת תמיכה" in html
    assert "יומן הביקורת" in html


def test_support_access_is_audited_again_after_an_hour(brand):
    admin = _admin()
    client = Client()
    client.force_login(admin)
    url = reverse("loyalty:overview", args=[brand.slug])
    client.get(url)
    AuditEntry.objects.filter(action=SUPPORT_ACCESS).update(created_at=timezone.now() - timedelta(minutes=61))
    client.get(url)
    assert len(_support_entries(brand, admin)) == 2


def test_a_change_made_in_support_is_audited_with_the_admin_as_actor(brand):
    admin = _admin()
    member = MemberFactory(brand=brand, email="noa@example.org")
    client = Client()
    client.force_login(admin)
    url = reverse("loyalty:member", args=[brand.slug, member.pk])
    response = client.post(url, {"points": "25", "reason": "Support: a lost receipt"})
    assert response.status_code == 303
    assert LedgerEntry.objects.filter(brand=brand, kind=LedgerEntry.Kind.ADJUST, points=25).count() == 1
    adjusted = AuditEntry.objects.get(brand=brand, action="points.adjust")
    assert adjusted.actor_user == admin
    assert adjusted.target_id == str(member.pk)
    assert len(_support_entries(brand, admin)) == 1


def test_the_admins_own_membership_is_not_support(brand):
    """An installation admin who is also the brand's staff works there as that staff: no banner, no entry."""
    admin = _admin()
    staff_grant(brand=brand, user=admin, role=StaffRole.MARKETER)
    client = Client()
    client.force_login(admin)
    html = client.get(reverse("loyalty:overview", args=[brand.slug])).content.decode()
    assert 'data-test="staff-nav"' in html
    assert 'data-test="support-banner"' not in html
    assert _support_entries(brand, admin) == []


def test_a_brand_owner_still_gets_404_on_another_brand(brand, other_brand):
    owner = make_user("owner@cafe.example.org")
    staff_grant(brand=brand, user=owner, role=StaffRole.OWNER)
    theirs = _brand_pages(other_brand)
    client = Client()
    client.force_login(owner)
    before = AuditEntry.objects.count()
    for url in theirs:
        assert client.get(url).status_code in (403, 404), url
    assert client.get(reverse("loyalty:overview", args=[brand.slug])).status_code == 200
    html = client.get(reverse("loyalty:overview", args=[brand.slug])).content.decode()
    assert 'data-test="support-banner"' not in html
    assert other_brand.name not in html
    assert AuditEntry.objects.count() == before


def test_an_unknown_brand_is_404_for_the_admin_too(db):
    client = Client()
    client.force_login(_admin())
    assert client.get(reverse("loyalty:overview", args=["no-such-brand"])).status_code == 404
    assert not AuditEntry.objects.exists()
