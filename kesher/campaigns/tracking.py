"""Signed, short tokens for the links a message carries: open pixel, tracked links, unsubscribe, receipts.

A token names a message (its UUID in 22 characters) and, for a link, the link's position in the body; the
signature (django.core.signing, keyed by SECRET_KEY) makes tokens unforgeable, so a tracked link can only
ever redirect to a link that really is in the message.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALTS = {
    "open": "kesher.campaigns.open",
    "click": "kesher.campaigns.click",
    "unsubscribe": "kesher.campaigns.unsubscribe",
    "receipt": "kesher.campaigns.receipt",
    "inbound": "kesher.campaigns.inbound",
    "forward": "kesher.campaigns.forward",
    "bounce": "kesher.campaigns.bounce",
}


def _short(value: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(value.bytes).decode().rstrip("=")


def _long(value: str) -> uuid.UUID:
    return uuid.UUID(bytes=base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))


def token_make(purpose: str, subject_id: uuid.UUID, index: int | None = None) -> str:
    payload = _short(subject_id) if index is None else f"{_short(subject_id)}.{index}"
    return signing.Signer(salt=SALTS[purpose]).sign(payload)


@dataclass(frozen=True)
class TokenFacts:
    subject_id: uuid.UUID
    index: int | None


def token_read(purpose: str, token: str) -> TokenFacts | None:
    """The message (or brand) and link index a token names, or None when it was not made here."""
    try:
        payload = signing.Signer(salt=SALTS[purpose]).unsign(token)
        short, _, index = payload.partition(".")
        return TokenFacts(subject_id=_long(short), index=int(index) if index else None)
    except (signing.BadSignature, ValueError):
        return None


PLACEHOLDER = "TOKEN"


@lru_cache(maxsize=16)
def _path_around(name: str) -> tuple[str, str]:
    """The path before and after the token: reversing a URL for every link of every message costs more
    than signing it, and the pattern never changes while the process runs."""
    before, _, after = reverse(name, args=[PLACEHOLDER]).partition(PLACEHOLDER)
    return before, after


def _url(name: str, token: str) -> str:
    before, after = _path_around(name)
    return f"{settings.KESHER_BASE_URL.rstrip('/')}{before}{token}{after}"


def open_url(message_id: uuid.UUID) -> str:
    return _url("campaigns:open", token_make("open", message_id))


def click_url(message_id: uuid.UUID, index: int) -> str:
    return _url("campaigns:click", token_make("click", message_id, index))


def unsubscribe_url(message_id: uuid.UUID) -> str:
    return _url("campaigns:unsubscribe", token_make("unsubscribe", message_id))


def receipt_url(message_id: uuid.UUID) -> str:
    return _url("campaigns:sms_receipt", token_make("receipt", message_id))


def inbound_url(brand_id: uuid.UUID) -> str:
    """Where a brand's SMS provider posts replies (a member answering the opt-out word)."""
    return _url("campaigns:sms_inbound", token_make("inbound", brand_id))


def forward_url(message_id: uuid.UUID) -> str:
    """The member's page for forwarding the message to a friend."""
    return _url("campaigns:forward", token_make("forward", message_id))


def bounce_url(brand_id: uuid.UUID) -> str:
    """Where a brand's mail provider posts bounce and complaint notices; the signed token is its secret."""
    return _url("campaigns:bounces", token_make("bounce", brand_id))
