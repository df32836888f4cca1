"""Sending one webhook: Standard Webhooks signatures, the address guard (SSRF) and the pinned HTTP post.

Signatures follow https://www.standardwebhooks.com: the secret is `whsec_` + base64 of random bytes; the
signature is `v1,` + base64 of HMAC-SHA256(secret bytes, "<webhook-id>.<webhook-timestamp>.<body>"); several
are sent space-separated (during a rotation, one per secret).

Server-side request forgery: in production an endpoint whose host resolves to a private, loopback,
link-local, multicast, reserved or unspecified address is refused when registered and again at each
delivery. The delivery connects to the very address it checked (the connection is pinned to it, the host
name going in the Host header and the TLS server name), so a DNS answer that changes between the check and
the connection (DNS rebinding) cannot turn it inward. `KESHER_WEBHOOKS_ALLOW_PRIVATE` (on in the embedded
mode) lets development and the tests post to 127.0.0.1.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import urllib3
from django.conf import settings

from kesher.core.errors import ValidationFailed

SECRET_PREFIX = "whsec_"
USER_AGENT = "Kesher-Webhooks/1"


def secret_new() -> str:
    """A new signing secret: `whsec_` and 24 random bytes in base64 (the format standardwebhooks reads)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode("ascii")


def signed_headers(secrets_now: list[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The Standard Webhooks headers, signed with every secret given (newest first)."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signature(secret, msg_id, timestamp, body) for secret in secrets_now),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


# --- which addresses may be posted to -----------------------------------------------------------------


class AddressRefused(ValidationFailed):
    code = "webhook_address_refused"


def private_allowed() -> bool:
    return bool(getattr(settings, "KESHER_WEBHOOKS_ALLOW_PRIVATE", not settings.PRODUCTION))


def _inward(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


@dataclass(frozen=True)
class Target:
    """A checked endpoint: where to connect (`ip`) and what to call the host (Host header, TLS name)."""

    scheme: str
    host: str
    port: int
    ip: str
    path: str


def url_parts(url: str) -> tuple[str, str, int, str]:
    """Scheme, host, port and path-with-query of an http(s) URL; anything else is refused."""
    parsed = urllib.parse.urlsplit(url.strip())
    if parsed.scheme not in {"http", "https"} or not parsed.hostname:
        raise ValidationFailed(
            "The URL must be http:// or https:// with a host", field="url", code="invalid_url"
        )
    if parsed.username or parsed.password:
        raise ValidationFailed(
            "The URL must not carry a user name or password", field="url", code="invalid_url"
        )
    try:
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
    except ValueError:
        raise ValidationFailed("The URL's port is not a number", field="url", code="invalid_url") from None
    path = parsed.path or "/"
    if parsed.query:
        path += "?" + parsed.query
    return parsed.scheme, parsed.hostname, port, path


def target_resolve(url: str) -> Target:
    """Resolve the URL's host and check every address it has; refused (422) when one points inward and
    private addresses are not allowed, or when it does not resolve."""
    scheme, host, port, path = url_parts(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise AddressRefused(f"The host {host!r} does not resolve", field="url") from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if not addresses:
        raise AddressRefused(f"The host {host!r} does not resolve", field="url")
    if not private_allowed():
        inward = [str(address) for address in addresses if _inward(address)]
        if inward:
            raise AddressRefused(
                f"The host {host!r} resolves to a private or reserved address ({inward[0]})", field="url"
            )
    return Target(scheme=scheme, host=host, port=port, ip=str(addresses[0]), path=path)


# --- the post itself ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status_code: int | None  # None: no answer (refused address, connection failed, timed out)
    error: str = ""
    excerpt: str = ""
    retry_after: float | None = None  # seconds, from the Retry-After header
    duration_ms: int = 0


_pools: dict[tuple[str, str, int, str], urllib3.HTTPConnectionPool] = {}
_pools_lock = threading.Lock()
MAX_POOLS = 256
POOL_SIZE = 16  # connections kept per endpoint: as many as a dispatcher sends at once by default


def _pool(target: Target) -> urllib3.HTTPConnectionPool:
    key = (target.scheme, target.ip, target.port, target.host)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            if len(_pools) >= MAX_POOLS:
                for old in _pools.values():
                    old.close()
                _pools.clear()
            if target.scheme == "https":
                pool = urllib3.HTTPSConnectionPool(
                    target.ip,
                    target.port,
                    maxsize=POOL_SIZE,
                    server_hostname=target.host,
                    assert_hostname=target.host,
                    cert_reqs="CERT_REQUIRED",
                )
            else:
                pool = urllib3.HTTPConnectionPool(target.ip, target.port, maxsize=POOL_SIZE)
            _pools[key] = pool
        return pool


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


def timeout_seconds() -> float:
    return float(getattr(settings, "KESHER_WEBHOOKS_TIMEOUT_SECONDS", 15))


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST the body to the URL once (no redirects followed), checking and pinning the address first."""
    started = time.monotonic()
    try:
        target = target_resolve(url)
    except ValidationFailed as exc:
        return Answer(status_code=None, error=str(exc)[:300])
    host = target.host if ":" not in target.host else f"[{target.host}]"
    default_port = 443 if target.scheme == "https" else 80
    all_headers = {**headers, "host": host if target.port == default_port else f"{host}:{target.port}"}
    try:
        response = _pool(target).urlopen(
            "POST",
            target.path,
            body=body,
            headers=all_headers,
            redirect=False,
            retries=False,
            timeout=urllib3.Timeout(total=timeout_seconds()),
            preload_content=False,
            assert_same_host=False,
        )
        try:
            excerpt = response.read(500, decode_content=False)[:500].decode("utf-8", "replace")
            response.drain_conn()
        finally:
            response.release_conn()
    except urllib3.exceptions.HTTPError as exc:
        return Answer(
            status_code=None,
            error=f"{type(exc).__name__}: {exc}"[:300],
            duration_ms=int((time.monotonic() - started) * 1000),
        )
    return Answer(
        status_code=response.status,
        excerpt=excerpt,
        retry_after=retry_after_seconds(response.headers.get("retry-after")),
        duration_ms=int((time.monotonic() - started) * 1000),
    )
