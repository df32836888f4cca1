"""The brand's identity as its members meet it, changed in one step: its look (name, colours, domain,
logo, favicon: brands) and the sender it writes from (the campaigns' messaging settings). It lives on
the campaigns' floor because it writes both; the brands part below knows nothing of senders."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from kesher.brands import look
from kesher.brands.models import Brand
from kesher.campaigns.services import messaging_settings_update
from kesher.core.audit import SYSTEM, Actor, audit_record
from kesher.core.errors import Conflict, ValidationFailed

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
