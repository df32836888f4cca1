"""Fixtures for the magazine: staff of a brand by role, and articles written through the services."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser

from kesher.brands.models import Brand
from kesher.brands.services import staff_grant
from kesher.campaigns.tests.conftest import smtp_server  # noqa: F401  (a real SMTP server)
from kesher.magazine.models import Article
from kesher.magazine.services import article_create


@pytest.fixture(autouse=True)
def _magazine_settings(settings: Any, tmp_path: Any) -> None:
    settings.KESHER_BASE_URL = "https://club.kesher.test"
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def staff(client: Any, brand: Brand, role: str, name: str = "staff") -> AbstractBaseUser:
    user = get_user_model().objects.create_user(username=name, email=f"{name}@example.org", password="x")
    staff_grant(brand=brand, user=user, role=role)
    client.force_login(user)
    return user


def write(brand: Brand, title: str, *, publish: bool = True, **fields: Any) -> Article:
    return article_create(
        brand=brand, title=title, body=fields.pop("body", f"About {title}."), publish=publish, **fields
    )
