"""Fixtures for the reviews tests: members, purchases, an API key of each scope."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kesher.activity.services import activity_record
from kesher.brands.models import Brand
from kesher.members.models import Member
from kesher.members.tests.factories import MemberFactory


@pytest.fixture
def make_member(brand: Brand) -> Callable[..., Member]:
    def make(first_name: str = "נועה", *, of: Brand | None = None, **kw: Any) -> Member:
        return MemberFactory(brand=of or brand, first_name=first_name, **kw)  # type: ignore[return-value]

    return make


@pytest.fixture
def buy() -> Callable[..., Any]:
    """Record a purchase of these skus by the member."""

    def purchase(member: Member, *skus: str, **kw: Any) -> Any:
        activity, _ = activity_record(
            brand=member.brand,
            member=member,
            type="purchase",
            attributes={"amount": "100", "items": [{"sku": sku, "name": sku} for sku in skus]},
            **kw,
        )
        return activity

    return purchase


@pytest.fixture(autouse=True)
def _plain_storage(settings: Any, tmp_path: Any) -> None:
    settings.STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.MEDIA_ROOT = str(tmp_path / "media")
