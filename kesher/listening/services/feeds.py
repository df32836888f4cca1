"""Reading an RSS or Atom feed: a conditional GET (the cursor's ETag and Last-Modified, so an unchanged
feed costs a 304), parsed by feedparser, each entry a mention keyed by its id (or link).

Server-side request forgery: in production a feed whose host resolves to a private, loopback, link-local
or reserved address is refused, and the request goes to the very address checked (pinned: the host name in
the Host header and the TLS server name), so a DNS answer that changes in between cannot turn it inward.
`KESHER_LISTENING_ALLOW_PRIVATE` (on outside production) lets development and the tests read 127.0.0.1.
"""

from __future__ import annotations

import calendar
import hashlib
import ipaddress
import socket
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import feedparser
import urllib3
from django.conf import settings
from django.utils.html import strip_tags

from kesher.core.errors import ValidationFailed
from kesher.listening.services.ingest import MentionIn

MAX_FEED_BYTES = 5 * 1024 * 1024
MAX_ENTRIES = 1_000
TIMEOUT_SECONDS = 15.0
USER_AGENT = "Kesher-Listening/1 (+feed reader)"


@dataclass(frozen=True)
class FeedRead:
    entries: list[MentionIn]
    etag: str
    modified: str
    unchanged: bool  # 304: nothing new since the cursor


def private_allowed() -> bool:
    return bool(getattr(settings, "KESHER_LISTENING_ALLOW_PRIVATE", not settings.PRODUCTION))


def feed_url_check(url: str) -> tuple[str, str, int, str, str]:
    """(scheme, host, port, path, the address to connect to); refused (422, field "url") when the URL is not
    http(s), does not resolve, or points inward where that is not allowed."""
    parsed = urllib.parse.urlsplit(url.strip())
    if parsed.scheme not in {"http", "https"} or not parsed.hostname or parsed.username or parsed.password:
        raise ValidationFailed(
            "The feed's URL must be http:// or https:// with a host", field="url", code="invalid_url"
        )
    try:
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
    except ValueError:
        raise ValidationFailed(
            "The feed URL's port is not a number", field="url", code="invalid_url"
        ) from None
    try:
        infos = socket.getaddrinfo(parsed.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise ValidationFailed(
            f"The host {parsed.hostname!r} does not resolve", field="url", code="feed_unreachable"
        ) from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if not private_allowed():
        for address in addresses:
            mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
            if not (mapped or address).is_global:
                raise ValidationFailed(
                    f"The host {parsed.hostname!r} resolves to a private or reserved address",
                    field="url",
                    code="feed_address_refused",
                )
    path = (parsed.path or "/") + (f"?{parsed.query}" if parsed.query else "")
    return parsed.scheme, parsed.hostname, port, path, str(addresses[0])


def _fetch(url: str, etag: str, modified: str) -> tuple[int, bytes, dict[str, str]]:
    scheme, host, port, path, ip = feed_url_check(url)
    headers = {
        "user-agent": USER_AGENT,
        "accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5",
    }
    default_port = 443 if scheme == "https" else 80
    headers["host"] = host if port == default_port else f"{host}:{port}"
    if etag:
        headers["if-none-match"] = etag
    if modified:
        headers["if-modified-since"] = modified
    pool: urllib3.HTTPConnectionPool
    if scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            ip, port, server_hostname=host, assert_hostname=host, cert_reqs="CERT_REQUIRED", maxsize=1
        )
    else:
        pool = urllib3.HTTPConnectionPool(ip, port, maxsize=1)
    try:
        response = pool.urlopen(
            "GET",
            path,
            headers=headers,
            redirect=False,
            retries=False,
            timeout=urllib3.Timeout(total=TIMEOUT_SECONDS),
            preload_content=False,
            assert_same_host=False,
        )
        try:
            body = response.read(MAX_FEED_BYTES + 1)
        finally:
            response.release_conn()
    except urllib3.exceptions.HTTPError as exc:
        raise ValidationFailed(
            f"The feed could not be read: {type(exc).__name__}", field="url", code="feed_unreachable"
        ) from None
    finally:
        pool.close()
    if len(body) > MAX_FEED_BYTES:
        raise ValidationFailed("The feed is larger than 5 MB", field="url", code="feed_too_large")
    return response.status, body, {k.lower(): v for k, v in response.headers.items()}


def _when(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if parsed:
            return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    return None


def entry_mention(entry: Any, *, source: str, fallback_at: datetime) -> MentionIn | None:
    """One feed entry as a mention; None for an entry with neither text nor a way to know it again."""
    link = str(entry.get("link") or "")
    external_id = str(entry.get("id") or link or "")
    title = strip_tags(str(entry.get("title") or "")).strip()
    summary = strip_tags(str(entry.get("summary") or "")).strip()
    text = f"{title}\n{summary}".strip() if summary and summary != title else title or summary
    if not text:
        return None
    if not external_id:
        external_id = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    author = entry.get("author_detail") or {}
    return MentionIn(
        source=source,
        external_id=external_id[:200],
        text=text[:10_000],
        posted_at=_when(entry) or fallback_at,
        url=link[:2000],
        author_handle=str(author.get("email") or entry.get("author") or "")[:200],
        author_name=str(author.get("name") or entry.get("author") or "")[:200],
        language=str(entry.get("language") or "")[:8],
    )


def feed_read(*, url: str, source: str, etag: str = "", modified: str = "", now: datetime) -> FeedRead:
    """The feed's entries (newest as the feed lists them), or `unchanged` when the server says 304."""
    status, body, headers = _fetch(url, etag, modified)
    if status == 304:
        return FeedRead(entries=[], etag=etag, modified=modified, unchanged=True)
    if status >= 400:
        raise ValidationFailed(f"The feed answered {status}", field="url", code="feed_unreachable")
    parsed = feedparser.parse(body)
    if parsed.bozo and not parsed.entries:
        raise ValidationFailed(
            "The address does not serve an RSS or Atom feed", field="url", code="feed_invalid"
        )
    entries = []
    for entry in parsed.entries[:MAX_ENTRIES]:
        mention = entry_mention(entry, source=source, fallback_at=now)
        if mention is not None:
            entries.append(mention)
    return FeedRead(
        entries=entries,
        etag=headers.get("etag", ""),
        modified=headers.get("last-modified", ""),
        unchanged=False,
    )
