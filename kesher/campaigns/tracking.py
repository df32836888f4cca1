"""Signed, short tokens for the links a message carries: open pixel, tracked links, unsubscribe, receipts.

A token names a message (its UUID in 22 characters) and, for a link, the link's position in the body; the
signature (django.core.signing, keyed by SECRET_KEY) makes tokens unforgeable, so a tracked link can only
ever redirect to a link that really is in the message.

Bounce notices are also signed by the sender: X-Kesher-Signature, an HMAC-SHA256 of "<unix time>.<body>"
with the brand's signing secret, itself derived from SECRET_KEY and the brand like the URL token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.crypto import salted_hmac

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


# --- signed bounce notices ---------------------------------------------------------------------------

SIGNATURE_HEADER = "X-Kesher-Signature"
SIGNATURE_TOLERANCE = 300  # seconds a signature's timestamp may be away from our clock (either way)
_SIGNING_SALT = "kesher.campaigns.bounce-signing"


def bounce_signing_secret(brand_id: uuid.UUID) -> str:
    """The brand's webhook signing secret (64 hex characters): derived, never stored, like the bounce URL's
    token, so the settings can show it at any time and it changes only with SECRET_KEY."""
    return salted_hmac(_SIGNING_SALT, str(brand_id), algorithm="sha256").hexdigest()


def bounce_signature_make(secret: str, body: bytes, timestamp: int) -> str:
    """The header value a sender puts on a notice: t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def bounce_signature_problem(secret: str, header: str, body: bytes, now: float | None = None) -> str | None:
    """Why the notice's signature is not acceptable (missing, malformed, stale, invalid), or None when it
    is: made with the secret over this very body at most SIGNATURE_TOLERANCE seconds from now. Several v1
    values may be given (a sender between two secrets); one matching is enough."""
    if not header.strip():
        return "signature_missing"
    timestamp = ""
    candidates: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            timestamp = value.strip()
        elif name == "v1":
            candidates.append(value.strip().lower())
    if not timestamp.isdigit() or len(timestamp) > 12 or not candidates:
        return "signature_malformed"
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > SIGNATURE_TOLERANCE:
        return "signature_stale"
    expected = bounce_signature_make(secret, body, int(timestamp)).partition(",v1=")[2]
    if not any(hmac.compare_digest(expected.encode(), candidate.encode()) for candidate in candidates):
        return "signature_invalid"
    return None
