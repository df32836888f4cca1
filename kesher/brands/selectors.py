"""Reads for brands and keys."""

from __future__ import annotations

import hmac

from django.contrib.auth.models import AbstractBaseUser

from kesher.brands.models import ApiKey, Brand, StaffMembership
from kesher.brands.services import hash_api_key, split_api_key
from kesher.core.errors import NotFound
from kesher.core.rows import row_get


def brand_get(*, slug: str) -> Brand:
    try:
        return Brand.objects.get(slug=slug)
    except Brand.DoesNotExist:
        raise NotFound(f"No brand with slug {slug!r}", field="slug") from None


def api_key_authenticate(*, raw_key: str) -> ApiKey | None:
    """The live key matching `raw_key`, or None for a malformed, unknown or revoked key."""
    prefix = split_api_key(raw_key)
    if prefix is None:
        return None
    api_key = row_get(ApiKey, related=("brand",), prefix=prefix, revoked_at__isnull=True)
    if api_key is None or not hmac.compare_digest(api_key.key_hash, hash_api_key(raw_key)):
        return None
    return api_key


def staff_brands(*, user: AbstractBaseUser) -> list[StaffMembership]:
    return list(
        StaffMembership.objects.filter(user_id=user.pk).select_related("brand").order_by("brand__name")
    )


def brand_for_host(*, host: str) -> Brand | None:
    """The brand whose own domain is `host` (the Host header, port and case aside), or None."""
    name = host.rpartition(":")[0] if host.count(":") == 1 else host
    name = name.strip().lower().rstrip(".")
    if not name or name in ("localhost", "127.0.0.1", "testserver"):
        return None
    return Brand.objects.filter(domain=name).first()
