"""The demo data is coherent: every demo login signs in with the demo password, is greeted by its own
name, and a staff login opens its brand's pages with the role README gives it."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from kesher.brands.models import StaffMembership
from kesher.demo import DEMO_PEOPLE, PASSWORD, demo_load


@pytest.fixture
def demo(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    demo_load(members_per_brand=41)  # the community threads take members 1 to 40


@pytest.mark.django_db
def test_every_demo_login_is_greeted_by_its_own_name(demo) -> None:
    users = get_user_model()
    assert users.objects.count() == len(DEMO_PEOPLE)
    for person in DEMO_PEOPLE:
        client = Client()
        # Through the sign-in page, as a person would (and as the lock-out counts it).
        signed_in = client.post("/accounts/login/", {"login": person.email, "password": PASSWORD})
        assert signed_in.status_code == 302 and "_auth_user_id" in client.session, person.email
        language = "he" if person.brand == "shahar" else "en"
        headers = {"Accept-Language": language}
        if person.role == "admin":
            assert users.objects.get(email=person.email).is_superuser
            assert client.get("/admin/", headers=headers).status_code == 200
            continue
        if person.role == "member":
            html = client.get("/portal/", headers=headers).content.decode()
            hello = "שלום" if language == "he" else "Hello"
            assert f"{hello}, {person.first_name}" in html, person.email
            continue
        membership = StaffMembership.objects.get(user__email=person.email)
        assert (membership.brand.slug, membership.role) == (person.brand, person.role)
        html = client.get(f"/console/{person.brand}/", headers=headers).content.decode()
        assert f"{'שלום' if language == 'he' else 'Hello'}, {person.first_name} (" in html, person.email


def test_each_brand_has_every_staff_role_and_a_member() -> None:
    for brand in ("shahar", "northwind"):
        roles = {p.role for p in DEMO_PEOPLE if p.brand == brand}
        assert roles == {"owner", "marketer", "analyst", "moderator", "service_agent", "member"}
