"""Encryption at rest and the cleaning of uploaded photos (kesher/core/crypto.py, kesher/core/images.py)."""

from __future__ import annotations

import io

import pytest
from cryptography.fernet import Fernet
from django.core.files.storage import default_storage
from PIL import Image

from kesher.core import crypto
from kesher.core.errors import ValidationFailed
from kesher.core.images import image_clean, image_store


def test_encrypted_text_reads_back_and_hides_the_value():
    stored = crypto.text_encrypt("whsec_topsecret")
    assert crypto.is_encrypted(stored)
    assert "topsecret" not in stored
    assert crypto.text_decrypt(stored) == "whsec_topsecret"


def test_rotation_reads_old_values_and_reencrypts_with_the_new_key(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.KESHER_ENCRYPTION_KEYS = [old]
    stored = crypto.text_encrypt("050-1234567")
    settings.KESHER_ENCRYPTION_KEYS = [new, old]
    assert crypto.text_decrypt(stored) == "050-1234567"
    moved = crypto.text_reencrypt(stored)
    settings.KESHER_ENCRYPTION_KEYS = [new]
    assert crypto.text_decrypt(moved) == "050-1234567"
    with pytest.raises(crypto.DecryptionFailed):
        crypto.text_decrypt(stored)


def test_a_value_that_is_not_encrypted_is_refused():
    with pytest.raises(crypto.DecryptionFailed):
        crypto.text_decrypt("plain")


def _jpeg_with_gps_rotated() -> bytes:
    image = Image.new("RGB", (400, 200), (200, 10, 10))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    exif[0x010F] = "CameraMaker"
    gps = {1: "N", 2: (32.0, 4.0, 0.0), 3: "E", 4: (34.0, 46.0, 0.0)}
    exif[0x8825] = gps
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_a_photo_is_turned_upright_and_loses_its_position_and_camera():
    data = _jpeg_with_gps_rotated()
    with Image.open(io.BytesIO(data)) as before:
        assert before.getexif().get_ifd(0x8825)  # the GPS block is there to start with
    cleaned, width, height, extension = image_clean(data)
    assert (width, height, extension) == (200, 400, "jpg")
    with Image.open(io.BytesIO(cleaned)) as after:
        assert dict(after.getexif()) == {}
        assert "exif" not in after.info
        assert after.size == (200, 400)


def test_a_large_photo_is_shrunk_and_a_transparent_one_stays_png():
    big = io.BytesIO()
    Image.new("RGBA", (3000, 1500), (0, 0, 0, 0)).save(big, format="PNG")
    cleaned, width, height, extension = image_clean(big.getvalue(), max_side=1000)
    assert (width, height, extension) == (1000, 500, "png")


@pytest.mark.parametrize("data", [b"", b"not an image at all", b"GIF89a" + b"\x00" * 20])
def test_what_is_not_an_image_is_refused(data):
    with pytest.raises(ValidationFailed):
        image_clean(data)


def test_a_stored_photo_lands_in_the_default_storage(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    stored = image_store(_jpeg_with_gps_rotated(), folder="gallery/test")
    assert stored.name.startswith("gallery/test/") and stored.name.endswith(".jpg")
    with default_storage.open(stored.name) as handle:
        assert handle.read()[:2] == b"\xff\xd8"
