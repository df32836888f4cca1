"""Uploaded photos made safe to publish: checked to be an image, turned upright by their EXIF
orientation, shrunk to a bounded size and stored without any metadata (no GPS position, no camera serial).

Used by the members' gallery and review photos, the magazine's images and the brand's pictures. The file
goes to the default storage: a local folder in the embedded mode, any S3-compatible store in production
(`KESHER_S3_BUCKET`, config/settings.py).
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageOps, UnidentifiedImageError

from kesher.core.errors import ValidationFailed

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_SIDE = 2048
MAX_PIXELS = 40_000_000  # a decompression bomb is refused before it is decoded
ACCEPTED = {"JPEG", "PNG", "WEBP", "GIF", "MPO"}


@dataclass(frozen=True)
class StoredImage:
    name: str  # the storage name, for ImageField/FileField values and default_storage.url()
    width: int
    height: int
    bytes: int


def image_clean(
    data: bytes, *, max_side: int = MAX_SIDE, field: str = "image"
) -> tuple[bytes, int, int, str]:
    """The image re-encoded: upright, at most `max_side` on its longer side, no metadata at all.
    Returns (bytes, width, height, extension). Anything that is not a readable image is a ValidationFailed."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationFailed("The image is larger than 10 MB", field=field, code="image_too_large")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format or ""
            if probe.width * probe.height > MAX_PIXELS:
                raise ValidationFailed("The image has too many pixels", field=field, code="image_too_large")
            probe.verify()
        if kind not in ACCEPTED:
            raise ValidationFailed("This file is not a JPEG, PNG, WebP or GIF image", field=field)
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            upright = ImageOps.exif_transpose(image)
    except ValidationFailed:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationFailed("This file is not a JPEG, PNG, WebP or GIF image", field=field) from None
    upright.thumbnail((max_side, max_side))
    keeps_alpha = upright.mode in ("RGBA", "LA", "P") and kind in ("PNG", "WEBP", "GIF")
    out = io.BytesIO()
    if keeps_alpha:
        # A fresh image carries the pixels only: no EXIF, no XMP, no text chunks.
        clean = Image.new("RGBA", upright.size)
        clean.paste(upright.convert("RGBA"))
        clean.save(out, format="PNG", optimize=True)
        extension = "png"
    else:
        clean = Image.new("RGB", upright.size)
        clean.paste(upright.convert("RGB"))
        clean.save(out, format="JPEG", quality=85, optimize=True)
        extension = "jpg"
    return out.getvalue(), clean.width, clean.height, extension


def image_store(data: bytes, *, folder: str, max_side: int = MAX_SIDE, field: str = "image") -> StoredImage:
    """Clean the image (image_clean) and save it under `folder/` with a random name."""
    cleaned, width, height, extension = image_clean(data, max_side=max_side, field=field)
    name = default_storage.save(f"{folder.strip('/')}/{uuid.uuid4().hex}.{extension}", ContentFile(cleaned))
    return StoredImage(name=name, width=width, height=height, bytes=len(cleaned))
