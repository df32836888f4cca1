"""Encryption at rest for the few values that must be read back: webhook secrets, fields a brand marks as
highly sensitive (Amendment 13 of the Israeli Privacy Protection Law).

The keys are `KESHER_ENCRYPTION_KEYS`, a comma-separated list of Fernet keys, newest first: values are
encrypted with the first and read with any, so a key is rotated by putting a new one in front and
`text_reencrypt` moving old values over. In the embedded mode, with none set, one key is derived from
`SECRET_KEY`, so development needs no setup; production refuses to start without them (config/settings.py).
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

PREFIX = "fernet:"


class DecryptionFailed(Exception):
    """The value was not encrypted with any of the configured keys (or was altered)."""


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if not keys:
        digest = hashlib.sha256(f"kesher-encryption:{secret_key}".encode()).digest()
        derived = base64.urlsafe_b64encode(digest)
        return MultiFernet([Fernet(derived)])
    return MultiFernet([Fernet(key.encode()) for key in keys])


def _keys() -> MultiFernet:
    return _fernet(tuple(getattr(settings, "KESHER_ENCRYPTION_KEYS", ())), settings.SECRET_KEY)


def text_encrypt(plain: str) -> str:
    """The value encrypted with the newest key, as text that can be stored in any text column."""
    return PREFIX + _keys().encrypt(plain.encode()).decode("ascii")


def text_decrypt(stored: str) -> str:
    if not stored.startswith(PREFIX):
        raise DecryptionFailed("the value is not encrypted")
    try:
        return _keys().decrypt(stored[len(PREFIX) :].encode("ascii")).decode()
    except InvalidToken:
        raise DecryptionFailed("no configured key opens the value") from None


def text_reencrypt(stored: str) -> str:
    """The value encrypted again with the newest key (for key rotation)."""
    return PREFIX + _keys().rotate(stored[len(PREFIX) :].encode("ascii")).decode("ascii")


def is_encrypted(stored: str) -> bool:
    return stored.startswith(PREFIX)
