"""The loyalty console: staff of the brand only, roles decide who may change what, every page in both
languages and directions."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from kesher.brands.services import staff_grant
from kesher.core.audit import SYSTEM
from kesher.core.models import AuditEntry
from kesher.loyalty.models import EarningRule, PointsAccount, Reward, Tier
from kesher.loyalty.services import points_adjust
from kesher.members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def staff(client, brand, role, name="staff"):
    user = get_user_model().objects.create_user(username=name, email=f"{name}@example.org", password="x")
    staff_grant(brand=brand, user=user, role=role)
    client.force_login(user)
    return user


@pytest.mark.parametrize("page", ["", "rules/", "rewards/", "tiers/", "members/?q=052", "referrals/"])
def test_every_console_page_renders_in_hebrew_and_english(client, brand, page):
    staff(client, brand, "analyst")
    hebrew = client.get(f"/console/{brand.slug}/{page}", headers={"Accept-Language": "he"})
    assert hebrew.status_code == 200
    assert '<html lang="he" dir="rtl">' in hebrew.content.decode()
    client.cookies["django_language"] = "en"
    english = client.get(f"/console/{brand.slug}/{page}")
    assert '<html lang="en" dir="ltr">' in english.content.decode()


def test_other_brands_and_strangers_see_nothing(client, brand, other_brand):
    assert client.get(f"/console/{brand.slug}/").status_code == 302  # to the login page
    staff(client, other_brand, "owner")
    assert client.get(f"/console/{brand.slug}/").status_code == 404
    member = MemberFactory(brand=brand)
    assert client.get(f"/console/{other_brand.slug}/members/{member.pk}/").status_code == 404


def test_marketer_adds_a_rule_a_reward_and_a_tier(client, brand):
    staff(client, brand, "marketer")
    response = client.post(
        f"/console/{brand.slug}/rules/",
        {
            "name": "Friday coffee",
            "activity_type": "visit",
            "effect": "fixed",
            "points": "4",
            "per_amount": "1",
            "multiplier": "1",
            "stackable": "on",
        },
    )
    assert response.status_code == 303
    assert EarningRule.objects.filter(brand=brand, name="Friday coffee", points=4).exists()
    assert (
        client.post(
            f"/console/{brand.slug}/rewards/",
            {"name": "מאפה", "kind": "free_item", "cost_points": "30", "value": "0"},
        ).status_code
        == 303
    )
    assert Reward.objects.filter(brand=brand, name="מאפה").exists()
    assert (
        client.post(
            f"/console/{brand.slug}/tiers/", {"name": "Gold", "threshold": "500", "multiplier": "1.5"}
        ).status_code
        == 303
    )
    assert Tier.objects.filter(brand=brand, name="Gold").exists()
    assert (
        AuditEntry.objects.filter(
            brand=brand, action__in=["earning_rule.create", "reward.create", "tier.create"]
        ).count()
        == 3
    )


def test_bad_form_input_is_shown_and_saves_nothing(client, brand):
    staff(client, brand, "owner")
    before = EarningRule.objects.count()
    response = client.post(
        f"/console/{brand.slug}/rules/",
        {"name": "", "activity_type": "visit", "effect": "fixed", "points": "-3"},
    )
    assert response.status_code == 422
    assert EarningRule.objects.count() == before


def test_analysts_look_but_do_not_change(client, brand):
    staff(client, brand, "analyst")
    response = client.post(
        f"/console/{brand.slug}/tiers/", {"name": "Gold", "threshold": "500", "multiplier": "1"}
    )
    assert response.status_code == 403
    assert not Tier.objects.filter(brand=brand).exists()


def test_service_agent_adjusts_a_members_points_with_a_reason(client, brand):
    member = MemberFactory(brand=brand)
    points_adjust(member=member, points=20, reason="seed", actor=SYSTEM)
    agent = staff(client, brand, "service_agent")
    page = client.get(f"/console/{brand.slug}/members/{member.pk}/")
    assert page.status_code == 200 and "seed" in page.content.decode()
    refused = client.post(f"/console/{brand.slug}/members/{member.pk}/", {"points": "-50", "reason": "oops"})
    assert refused.status_code == 422
    assert PointsAccount.objects.get(member=member).balance == 20
    done = client.post(
        f"/console/{brand.slug}/members/{member.pk}/", {"points": "-5", "reason": "double scan"}
    )
    assert done.status_code == 303
    assert PointsAccount.objects.get(member=member).balance == 15
    assert AuditEntry.objects.get(action="points.adjust", data__reason="double scan").actor_user == agent


def test_overview_shows_the_liability(client, brand):
    member = MemberFactory(brand=brand)
    points_adjust(member=member, points=1234, reason="seed", actor=SYSTEM)
    staff(client, brand, "owner")
    page = client.get(f"/console/{brand.slug}/").content.decode()
    assert 'data-test="outstanding">1,234<' in page or 'data-test="outstanding">1234<' in page
    assert "123.40" in page
