"""Fixtures for the community tests: the brand's community installed, members, and readers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache, caches
from django.test import Client

from kesher.brands.models import Brand
from kesher.community.models import CommunityProfile, Space
from kesher.community.services import community_install_defaults
from kesher.members.models import Member
from kesher.members.tests.factories import MemberFactory


@pytest.fixture
def general(brand: Brand) -> Space:
    # brand_create will call this itself once the brands part wires it in; calling twice is harmless.
    return community_install_defaults(brand=brand)


@pytest.fixture
def other_general(other_brand: Brand) -> Space:
    return community_install_defaults(brand=other_brand)


@pytest.fixture
def make_member(brand: Brand) -> Callable[..., Member]:
    def make(
        first_name: str = "נועה", *, reputation: int | None = None, of: Brand | None = None, **kw: Any
    ) -> Member:
        member: Member = MemberFactory(brand=of or brand, first_name=first_name, **kw)  # type: ignore[assignment]
        if reputation is not None:
            CommunityProfile.objects.update_or_create(
                member=member, defaults={"brand_id": member.brand_id, "reputation": reputation}
            )
        return member

    return make


@pytest.fixture(autouse=True)
def _empty_page_cache() -> None:
    """Cached pages and their versions from one test never reach another."""
    cache.clear()
    caches["pages"].clear()


@pytest.fixture(autouse=True)
def _plain_static_files(settings: Any) -> None:
    """Pages use {% static %}; the hashed-manifest storage would need `collectstatic` first."""
    settings.STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def signed_in(make_member: Callable[..., Member]) -> Callable[..., tuple[Client, Member]]:
    """A member with a login, and a browser client signed in as them."""

    def sign_in(name: str, **kw: Any) -> tuple[Client, Member]:
        member = make_member(name, **kw)
        user = get_user_model().objects.create_user(username=f"u{member.pk.hex[:8]}", email=member.email)
        Member.objects.filter(pk=member.pk).update(user=user)
        member.refresh_from_db()
        client = Client()
        client.force_login(user)
        return client, member

    return sign_in
