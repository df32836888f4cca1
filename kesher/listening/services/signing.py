"""Checking a signed webhook post, in the Standard Webhooks scheme (https://www.standardwebhooks.com), the
one Kesher's outbound webhooks sign with: the secret is `whsec_` + base64 of random bytes; the headers are
`webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`, a space-separated list of
`v1,` + base64(HMAC-SHA256(secret bytes, "<webhook-id>.<webhook-timestamp>.<body>")). Any one matching
signature will do; a timestamp more than five minutes away from now is refused (a replayed capture)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time

SECRET_PREFIX = "whsec_"
TOLERANCE_SECONDS = 5 * 60


def secret_new() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


def signature(secret: str, msg_id: str, timestamp: int | str, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode("ascii")


def signed_headers(
    secret: str, body: bytes, *, msg_id: str | None = None, at: int | None = None
) -> dict[str, str]:
    """The headers a sender puts on a post (the tests, the documentation's example and the benchmark)."""
    msg_id = msg_id or "msg_" + secrets.token_hex(12)
    timestamp = int(time.time()) if at is None else at
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, msg_id, timestamp, body),
        "content-type": "application/json",
    }


def signature_problem(
    secret: str, *, msg_id: str, timestamp: str, signatures: str, body: bytes, now: float | None = None
) -> str | None:
    """Why the post is not to be trusted (a stable error code), or None when it is."""
    if not msg_id or not timestamp or not signatures:
        return "signature_missing"
    try:
        sent_at = int(timestamp)
    except ValueError:
        return "signature_timestamp_invalid"
    if abs((time.time() if now is None else now) - sent_at) > TOLERANCE_SECONDS:
        return "signature_timestamp_too_old"
    try:
        expected = signature(secret, msg_id, timestamp, body).encode()
    except (binascii.Error, ValueError):
        return "signature_invalid"
    for candidate in signatures.split():
        if hmac.compare_digest(candidate.encode(), expected):
            return None
    return "signature_invalid"
