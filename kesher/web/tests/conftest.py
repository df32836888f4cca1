"""Fixtures for the page tests: people with logins, a member with points and a coupon, staff of a brand."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser

from kesher.activity.services import activity_record
from kesher.brands.models import Brand, StaffRole
from kesher.brands.services import staff_grant
from kesher.loyalty.models import Coupon, Store
from kesher.loyalty.services import earning_rule_create, redemption_create, reward_create, tier_create
from kesher.members.models import Member
from kesher.members.tests.factories import MemberFactory

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    """Logins are many here; a deliberately slow password hash would only slow the tests down."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_user(email: str, *, verified: bool = True, first_name: str = "") -> AbstractUser:
    user = get_user_model().objects.create_user(
        username=email, email=email, password=PASSWORD, first_name=first_name
    )
    EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
    return user


@dataclass
class ClubScene:
    brand: Brand
    member: Member
    member_user: AbstractUser
    staff_user: AbstractUser
    coupon: Coupon


def club_scene(brand: Brand) -> ClubScene:
    """A café with tiers Silver (100 points a year) and Gold (300), a store on Dizengoff whose check-in gives
    5 points, a member (050-1234567) who bought for 180 ILS (Silver now, 120 points to Gold), took a 60-point
    coffee and holds its coupon, and a cashier (service agent) who works there."""
    tier_create(brand=brand, name="כסף", threshold=Decimal(100), texts={"en": "Silver"})
    tier_create(brand=brand, name="זהב", threshold=Decimal(300), texts={"en": "Gold"})
    Store.objects.create(brand=brand, name="תל אביב – דיזנגוף", code="dizengoff")
    earning_rule_create(brand=brand, name="ביקור בסניף", activity_type="visit", effect="fixed", points=5)
    member = MemberFactory(
        brand=brand, email="noa@example.org", phone="050-1234567", first_name="נועה", last_name="לוי"
    )
    activity_record(
        brand=brand,
        member=member,
        type="purchase",
        source="pos",
        attributes={"amount": "180.00", "currency": "ILS", "store": "תל אביב – דיזנגוף"},
        idempotency_key="receipt-1",
    )
    reward = reward_create(
        brand=brand, name="קפה הפוך חינם", cost_points=60, kind="free_item", value=Decimal(14)
    )
    reward_create(brand=brand, name="סדנת לאטה ארט", cost_points=900, kind="experience")
    coupon = redemption_create(member=member, reward=reward)
    member_user = make_user("noa@example.org", first_name="נועה")
    staff_user = make_user("cashier@example.org", first_name="דנה")
    staff_grant(brand=brand, user=staff_user, role=StaffRole.SERVICE_AGENT)
    member.refresh_from_db()
    return ClubScene(
        brand=brand, member=member, member_user=member_user, staff_user=staff_user, coupon=coupon
    )


@pytest.fixture
def scene(brand: Brand) -> ClubScene:
    return club_scene(brand)
