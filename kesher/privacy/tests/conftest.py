"""A member with something in every part: activity, points, a coupon, a post, a vote, a follow, a message
and a consent given from an address; a second member who votes on their post; staff of the brand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from django.contrib.auth.models import AbstractUser
from django.utils import timezone

from kesher.brands.models import Brand, StaffRole
from kesher.brands.services import staff_grant
from kesher.campaigns.models import Campaign, EmailSuppression, Message
from kesher.community.models import Post
from kesher.community.services import community_install_defaults, follow_set, question_ask, vote_cast
from kesher.community.services.authors import Author
from kesher.core.audit import Actor
from kesher.loyalty.models import Coupon
from kesher.members.models import Member
from kesher.members.services import consent_set, member_update
from kesher.members.tests.factories import MemberFactory
from kesher.web.tests.conftest import club_scene, make_user


@dataclass
class Everything:
    brand: Brand
    member: Member
    member_user: AbstractUser
    owner: AbstractUser
    agent: AbstractUser
    coupon: Coupon
    post: Post
    message: Message
    other: Member


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def everything(brand: Brand) -> Everything:
    scene = club_scene(brand)  # purchase, points, a coupon, a service agent (kesher/web/tests/conftest.py)
    member = scene.member
    Member.objects.filter(pk=member.pk).update(user=scene.member_user, birthday=date(1990, 5, 17))
    member.refresh_from_db()
    consent_set(
        member=member,
        channel="email",
        granted=True,
        source="portal",
        wording="I agree to receive the café's news by email",
        origin="203.0.113.7",
    )
    owner = make_user("owner@example.org", first_name="Ruth")
    staff_grant(brand=brand, user=owner, role=StaffRole.OWNER)
    member_update(member=member, changes={"last_name": "לוי-כהן"}, actor=Actor(user=owner))
    space = community_install_defaults(brand=brand)
    post = question_ask(
        space=space, author=Author(member=member), title="Is the oat milk free?", body="Asking for Noa Levi"
    )
    other = MemberFactory(brand=brand, first_name="Dan", last_name="Cohen", email="dan@example.org")
    theirs = question_ask(space=space, author=Author(member=other), title="Open on Friday?", body="When?")
    vote_cast(post=theirs, member=member, value=1)
    vote_cast(post=post, member=other, value=1)
    follow_set(member=member, question=theirs)
    campaign = Campaign.objects.create(
        brand=brand,
        name="Spring",
        channel="email",
        locale="he",
        subject="Spring",
        body="Hi",
        advertising=True,
    )
    message = Message.objects.create(
        brand=brand,
        campaign=campaign,
        member=member,
        channel="email",
        to=member.email,
        locale="he",
        subject="Spring, Noa",
        body="Hello נועה",
        advertising=True,
        consent_basis="consent",
        status="sent",
        sent_at=timezone.now(),
    )
    EmailSuppression.objects.create(brand=brand, email=member.email, reason="hard_bounce")
    member.refresh_from_db()
    return Everything(
        brand=brand,
        member=member,
        member_user=scene.member_user,
        owner=owner,
        agent=scene.staff_user,
        coupon=scene.coupon,
        post=post,
        message=message,
        other=other,
    )


@pytest.fixture
def club(brand: Brand) -> Everything:
    return everything(brand)
