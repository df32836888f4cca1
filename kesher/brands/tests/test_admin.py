"""The Django admin for owners: their brands only."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from kesher.brands.services import staff_grant
from kesher.core.models import AuditEntry
from kesher.loyalty.models import Reward
from kesher.members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client(client, brand):
    user = get_user_model().objects.create_user(
        username="owner", email="owner@example.org", password="pw-12345!"
    )
    staff_grant(brand=brand, user=user, role="owner")
    client.force_login(user)
    return client


def test_owner_sees_only_their_brands_members(owner_client, brand, other_brand):
    mine = MemberFactory(brand=brand, first_name="שלי")
    theirs = MemberFactory(brand=other_brand, first_name="Theirs")
    page = owner_client.get("/admin/members/member/")
    assert page.status_code == 200
    assert str(mine.pk) in page.content.decode() and str(theirs.pk) not in page.content.decode()
    assert owner_client.get(f"/admin/members/member/{theirs.pk}/change/").status_code in (302, 404)
    assert owner_client.get(f"/admin/members/member/{mine.pk}/change/").status_code == 200


def test_owner_edits_are_audited_and_ledger_is_read_only(owner_client, brand):
    response = owner_client.post(
        "/admin/loyalty/reward/add/",
        {
            "brand": str(brand.pk),
            "name": "מאפה",
            "description": "",
            "kind": "free_item",
            "cost_points": "30",
            "value": "0",
            "coupon_valid_days": "90",
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    reward = Reward.objects.get(name="מאפה")
    assert AuditEntry.objects.filter(brand=brand, action="admin.add", target_id=str(reward.pk)).exists()
    assert owner_client.get("/admin/loyalty/ledgerentry/add/").status_code == 403


def test_staff_who_are_not_owners_do_not_get_the_admin(client, brand):
    user = get_user_model().objects.create_user(
        username="m", email="m@example.org", password="pw", is_staff=True
    )
    staff_grant(brand=brand, user=user, role="moderator")
    client.force_login(user)
    assert client.get("/admin/members/member/").status_code == 403
