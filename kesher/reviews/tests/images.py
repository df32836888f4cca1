"""Test photos: a JPEG carrying a GPS position and an EXIF rotation, as phones write them."""

from __future__ import annotations

import io

from PIL import Image


def jpeg_with_gps(width: int = 60, height: int = 40) -> bytes:
    image = Image.new("RGB", (width, height), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° to show upright
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (32.0, 4.0, 55.0)  # Tel Aviv
    gps[3], gps[4] = "E", (34.0, 46.0, 50.0)
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def has_gps(data: bytes) -> bool:
    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        return bool(exif.get_ifd(0x8825)) or 0x8825 in exif
