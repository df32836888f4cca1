"""Writes for brands, staff and API keys."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from kesher.brands import look
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
    from kesher.community.services import community_install_defaults
    from kesher.loyalty.services import program_install_defaults

    if Brand.objects.filter(slug=slug).exists():
        raise Conflict(f"A brand with slug {slug!r} already exists", field="slug")
    if default_locale not in Brand.Locale.values:
        raise ValidationFailed("default_locale must be he or en", field="default_locale")
    brand = Brand.objects.create(
        slug=slug, name=name, default_locale=default_locale, currency=currency.upper(), time_zone=time_zone
    )
    program_install_defaults(brand=brand)
    community_install_defaults(brand=brand)
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


# The brand's look: what the owner may change on the settings page and through PATCH /api/v1/brand.
LOOK_FIELDS = {"name", "primary_color", "accent_color", "domain"}
# The sender identity lives with the rest of the messaging settings (campaigns), and is changed there.
SENDER_FIELDS = {"sender_name", "sender_email", "sms_sender"}
IMAGE_TYPES = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp", "GIF": "gif", "ICO": "ico"}
MAX_IMAGE_BYTES = 1024 * 1024


def _image_check(upload: UploadedFile, *, field: str) -> UploadedFile:
    from PIL import Image, UnidentifiedImageError

    if upload.size is not None and upload.size > MAX_IMAGE_BYTES:
        raise ValidationFailed("The image is larger than 1 MB", field=field, code="image_too_large")
    try:
        with Image.open(upload) as image:
            image.verify()
            kind = image.format or ""
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationFailed("This file is not a PNG, JPEG, WebP, GIF or ICO image", field=field) from None
    if kind not in IMAGE_TYPES:
        raise ValidationFailed("This file is not a PNG, JPEG, WebP, GIF or ICO image", field=field)
    upload.seek(0)
    # The stored name ends in what the file is, not what its name claimed.
    upload.name = f"{field}.{IMAGE_TYPES[kind]}"
    return upload


@transaction.atomic
def brand_look_update(
    *,
    brand: Brand,
    changes: dict[str, Any],
    logo: UploadedFile | None = None,
    favicon: UploadedFile | None = None,
    remove: frozenset[str] = frozenset(),
    actor: Actor = SYSTEM,
) -> Brand:
    """Change the brand's name, colours, domain, images and sender identity in one transaction, audited.
    Everything is checked before anything is written: a refusal changes nothing."""
    from kesher.campaigns.services import messaging_settings_update

    unknown = set(changes) - LOOK_FIELDS - SENDER_FIELDS
    if unknown:
        name = sorted(unknown)[0]
        raise ValidationFailed(f"{name} cannot be changed here", field=name)
    clean: dict[str, Any] = {}
    if "name" in changes:
        clean["name"] = " ".join(str(changes["name"] or "").split())
        if not clean["name"]:
            raise ValidationFailed("The club's name cannot be empty", field="name")
        if len(clean["name"]) > 200:
            raise ValidationFailed("The club's name is longer than 200 characters", field="name")
    for field in ("primary_color", "accent_color"):
        if field in changes:
            clean[field] = look.colour_check(str(changes[field] or ""), field=field)
    if "domain" in changes:
        clean["domain"] = look.domain_parse(changes["domain"])
        if clean["domain"] and Brand.objects.filter(domain=clean["domain"]).exclude(pk=brand.pk).exists():
            raise Conflict("Another club already lives on this domain", field="domain", code="domain_taken")
    sender = {field: str(changes[field] or "").strip() for field in SENDER_FIELDS if field in changes}
    if len(sender.get("sms_sender", "")) > 11:
        raise ValidationFailed("An SMS sender name has at most 11 characters", field="sms_sender")
    if sender.get("sms_sender") and not sender["sms_sender"].isascii():
        raise ValidationFailed(
            "An SMS sender name is written in English letters and digits", field="sms_sender"
        )
    images = {
        field: _image_check(upload, field=field)
        for field, upload in (("logo", logo), ("favicon", favicon))
        if upload is not None
    }

    locked = Brand.objects.select_for_update().get(pk=brand.pk)
    if sender:  # first: its own checks (the address) refuse before any file is stored
        messaging_settings_update(brand=locked, changes=sender, actor=actor)
    before = {field: str(getattr(locked, field) or "") for field in [*clean, *images, *remove]}
    for field, value in clean.items():
        setattr(locked, field, value)
    for field in remove - set(images):
        if field in ("logo", "favicon"):
            setattr(locked, field, "")
    for field, upload in images.items():
        getattr(locked, field).save(upload.name, upload, save=False)
    locked.save()
    after = {field: str(getattr(locked, field) or "") for field in before}
    audit_record(
        brand=locked,
        actor=actor,
        action="brand.look_update",
        target_type="brand",
        target_id=locked.pk,
        data={"before": before, "after": after, "sender": sender},
    )
    for field in [*before, "domain"]:
        setattr(brand, field, getattr(locked, field))
    return locked
