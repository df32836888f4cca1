"""Writes for brands, staff and API keys."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from kesher.brands.hooks import brand_created_run
from kesher.brands.models import ApiKey, ApiScope, Brand, StaffMembership, StaffRole
from kesher.core.audit import SYSTEM, Actor, audit_record
from kesher.core.errors import Conflict, ValidationFailed

KEY_PREFIX = "ksh"


def hash_api_key(raw_key: str) -> str:
    # Keys carry 256 bits of randomness, so a fast hash is enough and keeps every request cheap.
    return hashlib.sha256(raw_key.encode()).hexdigest()


def split_api_key(raw_key: str) -> str | None:
    """The lookup prefix of a well-formed key, or None."""
    parts = raw_key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != 10:
        return None
    return parts[1]


@transaction.atomic
def brand_create(
    *,
    slug: str,
    name: str,
    default_locale: str = "he",
    currency: str = "ILS",
    time_zone: str = "Asia/Jerusalem",
) -> Brand:
    if Brand.objects.filter(slug=slug).exists():
        raise Conflict(f"A brand with slug {slug!r} already exists", field="slug")
    if default_locale not in Brand.Locale.values:
        raise ValidationFailed("default_locale must be he or en", field="default_locale")
    brand = Brand.objects.create(
        slug=slug, name=name, default_locale=default_locale, currency=currency.upper(), time_zone=time_zone
    )
    brand_created_run(brand=brand)  # every part installs its defaults (kesher.brands.hooks)
    return brand


@dataclass(frozen=True)
class IssuedKey:
    api_key: ApiKey
    raw_key: str


@transaction.atomic
def api_key_create(
    *,
    brand: Brand,
    scope: str,
    name: str = "",
    rate_limit_per_minute: int | None = None,
    actor: Actor = SYSTEM,
) -> IssuedKey:
    if scope not in ApiScope.values:
        raise ValidationFailed("scope must be pos, manage or all", field="scope")
    if rate_limit_per_minute is not None and rate_limit_per_minute < 1:
        raise ValidationFailed("rate_limit_per_minute must be at least 1", field="rate_limit_per_minute")
    prefix = secrets.token_hex(5)
    raw_key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey.objects.create(
        brand=brand,
        name=name,
        prefix=prefix,
        key_hash=hash_api_key(raw_key),
        scope=scope,
        rate_limit_per_minute=rate_limit_per_minute,
    )
    audit_record(
        brand=brand,
        actor=actor,
        action="api_key.create",
        target_type="api_key",
        target_id=api_key.pk,
        data={"scope": scope, "prefix": prefix},
    )
    return IssuedKey(api_key=api_key, raw_key=raw_key)


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, actor: Actor = SYSTEM) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        audit_record(
            brand=api_key.brand,
            actor=actor,
            action="api_key.revoke",
            target_type="api_key",
            target_id=api_key.pk,
            data={"prefix": api_key.prefix},
        )
    return api_key


@transaction.atomic
def staff_grant(*, brand: Brand, user: AbstractBaseUser, role: str, actor: Actor = SYSTEM) -> StaffMembership:
    if role not in StaffRole.values:
        raise ValidationFailed(f"role must be one of {', '.join(StaffRole.values)}", field="role")
    membership, _ = StaffMembership.objects.update_or_create(brand=brand, user=user, defaults={"role": role})
    if role == StaffRole.OWNER and not user.is_staff:  # type: ignore[attr-defined]
        # Owners use the Django admin for their brand.
        user.is_staff = True  # type: ignore[attr-defined]
        user.save(update_fields=["is_staff"])
    audit_record(
        brand=brand,
        actor=actor,
        action="staff.grant",
        target_type="user",
        target_id=user.pk,
        data={"role": role},
    )
    return membership
