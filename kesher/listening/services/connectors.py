"""A brand's connectors: adding a feed or a signed webhook, switching the brand's own parts on, running a
connector from its cursor (by hand, "run now", or from the polling task), and taking a signed post in.

Every connector goes through `mentions_ingest`, whose unique key drops what was seen before, so any run
may be repeated; the cursor only saves work (a feed's 304, the parts' time of the last post read).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from kesher.brands.models import Brand
from kesher.core.audit import Actor, audit_record
from kesher.core.crypto import text_decrypt, text_encrypt
from kesher.core.errors import KesherError, NotFound, ValidationFailed
from kesher.listening.models import INTERNAL_KINDS, Connector, ConnectorKind
from kesher.listening.services import feeds, signing
from kesher.listening.services.ingest import (
    MAX_BATCH,
    SOURCE_PATTERN,
    IngestResult,
    MentionIn,
    internal_connector,
    mention_clean,
    mentions_ingest,
)
from kesher.listening.services.internal import internal_pages

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConnectorMade:
    connector: Connector
    secret: str | None = None  # a webhook's, shown once


@dataclass(frozen=True)
class RunOutcome:
    added: int
    seen: int
    error: str = ""


def _source(value: str, default: str) -> str:
    source = (value or default).strip().lower()
    if not SOURCE_PATTERN.match(source):
        raise ValidationFailed(
            "The source must be lowercase letters, digits, dots, dashes or underscores", field="source"
        )
    return source


def _name(value: str) -> str:
    name = " ".join((value or "").split())
    if not name or len(name) > 120:
        raise ValidationFailed("Give the connector a name of up to 120 characters", field="name")
    return name


@transaction.atomic
def connector_feed_add(*, brand: Brand, name: str, url: str, source: str = "", actor: Actor) -> ConnectorMade:
    feeds.feed_url_check(url)
    connector = Connector.objects.create(
        brand=brand, kind=ConnectorKind.FEED, name=_name(name), url=url.strip(), source=_source(source, "rss")
    )
    audit_record(
        brand=brand,
        actor=actor,
        action="listening.connector_add",
        target_type="connector",
        target_id=connector.pk,
        data={"kind": "feed", "url": connector.url},
    )
    return ConnectorMade(connector=connector)


@transaction.atomic
def connector_webhook_add(*, brand: Brand, name: str, source: str = "", actor: Actor) -> ConnectorMade:
    secret = signing.secret_new()
    connector = Connector.objects.create(
        brand=brand,
        kind=ConnectorKind.WEBHOOK,
        name=_name(name),
        source=_source(source, "webhook"),
        secret=text_encrypt(secret),
    )
    audit_record(
        brand=brand,
        actor=actor,
        action="listening.connector_add",
        target_type="connector",
        target_id=connector.pk,
        data={"kind": "webhook"},
    )
    return ConnectorMade(connector=connector, secret=secret)


@transaction.atomic
def connector_rotate(*, brand: Brand, connector_id: Any, actor: Actor) -> ConnectorMade:
    connector = _get(brand, connector_id, lock=True)
    if connector.kind != ConnectorKind.WEBHOOK:
        raise ValidationFailed("Only a webhook connector has a secret", code="not_a_webhook")
    secret = signing.secret_new()
    connector.secret = text_encrypt(secret)
    connector.save(update_fields=["secret"])
    audit_record(
        brand=brand,
        actor=actor,
        action="listening.connector_rotate",
        target_type="connector",
        target_id=connector.pk,
        data={},
    )
    return ConnectorMade(connector=connector, secret=secret)


@transaction.atomic
def connector_switch(
    *, brand: Brand, connector_id: Any = None, kind: str = "", active: bool, actor: Actor
) -> Connector:
    """Pause or resume a connector; for the brand's own parts (by `kind`), made on first use."""
    if connector_id is None:
        if kind not in INTERNAL_KINDS:
            raise ValidationFailed("Choose one of the brand's own parts", field="kind")
        connector = internal_connector(brand=brand, kind=kind)
    else:
        connector = _get(brand, connector_id, lock=True)
    if connector.active != active:
        connector.active = active
        connector.save(update_fields=["active"])
        audit_record(
            brand=brand,
            actor=actor,
            action="listening.connector_switch",
            target_type="connector",
            target_id=connector.pk,
            data={"active": active},
        )
    return connector


@transaction.atomic
def connector_delete(*, brand: Brand, connector_id: Any, actor: Actor) -> None:
    """Remove a connector; its mentions stay (they lose the connector, not their source)."""
    connector = _get(brand, connector_id, lock=True)
    audit_record(
        brand=brand,
        actor=actor,
        action="listening.connector_delete",
        target_type="connector",
        target_id=connector.pk,
        data={"kind": connector.kind, "name": connector.name},
    )
    connector.delete()


def _get(brand: Brand, connector_id: Any, *, lock: bool = False) -> Connector:
    rows = Connector.objects.filter(brand=brand)
    if lock:
        rows = rows.select_for_update()
    try:
        return rows.get(pk=connector_id)
    except (Connector.DoesNotExist, ValueError, DjangoValidationError):
        raise NotFound("No such connector", code="connector_not_found") from None


# --- running ------------------------------------------------------------------------------------------


def _finish(connector: Connector, *, added: int, cursor: dict[str, Any] | None, error: str = "") -> None:
    values: dict[str, Any] = {"last_run_at": timezone.now(), "last_added": added, "last_error": error[:300]}
    if cursor is not None:
        values["cursor"] = cursor
    Connector.objects.filter(pk=connector.pk).update(**values)
    for name, value in values.items():
        setattr(connector, name, value)


def _run_feed(connector: Connector) -> RunOutcome:
    cursor = dict(connector.cursor or {})
    read = feeds.feed_read(
        url=connector.url,
        source=connector.source,
        etag=str(cursor.get("etag") or ""),
        modified=str(cursor.get("modified") or ""),
        now=timezone.now(),
    )
    added = seen = 0
    if not read.unchanged:
        for start in range(0, len(read.entries), MAX_BATCH):
            batch = [mention_clean(item) for item in read.entries[start : start + MAX_BATCH]]
            result = mentions_ingest(brand=connector.brand, items=batch, connector=connector)
            added, seen = added + result.added, seen + len(batch)
        newest = max((item.posted_at for item in read.entries), default=None)
        cursor.update(etag=read.etag, modified=read.modified)
        if newest is not None:
            old = parse_datetime(str(cursor.get("newest") or ""))
            cursor["newest"] = max(newest, old).isoformat() if old else newest.isoformat()
    cursor["checked_at"] = timezone.now().isoformat()
    _finish(connector, added=added, cursor=cursor)
    return RunOutcome(added=added, seen=seen)


def _run_internal(connector: Connector) -> RunOutcome:
    cursor = dict(connector.cursor or {})
    added = seen = 0
    for items, next_cursor in internal_pages(brand=connector.brand, kind=connector.kind, cursor=cursor):
        with transaction.atomic():  # the page and the cursor past it together
            result = mentions_ingest(
                brand=connector.brand, items=[mention_clean(i) for i in items], connector=connector
            )
            _finish(connector, added=added + result.added, cursor=next_cursor)
        added, seen, cursor = added + result.added, seen + len(items), next_cursor
    _finish(connector, added=added, cursor=cursor)
    return RunOutcome(added=added, seen=seen)


def connector_run(*, brand: Brand, connector_id: Any) -> RunOutcome:
    """Read the connector from its cursor now. A failure (an unreachable feed) is kept on the connector
    and returned, not raised: the next run tries again."""
    connector = _get(brand, connector_id)
    connector.brand = brand
    try:
        if connector.kind == ConnectorKind.FEED:
            return _run_feed(connector)
        if connector.kind in INTERNAL_KINDS:
            return _run_internal(connector)
    except KesherError as refusal:
        _finish(connector, added=0, cursor=None, error=refusal.message)
        return RunOutcome(added=0, seen=0, error=refusal.message)
    return RunOutcome(added=0, seen=0)  # webhooks and uploads are pushed, not pulled


def connectors_poll() -> dict[str, int]:
    """Every active feed and own-part connector of every brand, once (the polling task)."""
    outcomes = {"connectors": 0, "added": 0, "failed": 0}
    pulled = [ConnectorKind.FEED, *INTERNAL_KINDS]
    for connector in (
        Connector.objects.filter(kind__in=pulled, active=True).select_related("brand").order_by("id")
    ):
        outcome = connector_run(brand=connector.brand, connector_id=connector.pk)
        outcomes["connectors"] += 1
        outcomes["added"] += outcome.added
        outcomes["failed"] += bool(outcome.error)
        if outcome.error:
            log.warning("listening connector %s failed: %s", connector.pk, outcome.error)
    return outcomes


# --- a signed post ------------------------------------------------------------------------------------


class SignatureRefused(KesherError):
    status = 401
    code = "signature_invalid"


def _item(raw: Any, position: int | None, source: str) -> MentionIn:
    where = "" if position is None else f"mentions.{position}."
    if not isinstance(raw, dict):
        raise ValidationFailed("Each mention must be a JSON object", field=where.rstrip(".") or None)
    author = raw.get("author") or {}
    if not isinstance(author, dict):
        raise ValidationFailed("author must be an object", field=f"{where}author")
    posted = parse_datetime(str(raw.get("posted_at") or "")) if raw.get("posted_at") else timezone.now()
    if posted is None:
        raise ValidationFailed("posted_at must be an ISO 8601 time", field=f"{where}posted_at")
    try:
        return mention_clean(
            MentionIn(
                source=str(raw.get("source") or source),
                external_id=str(raw.get("external_id") or ""),
                text=str(raw.get("text") or ""),
                posted_at=posted,
                url=str(raw.get("url") or ""),
                author_handle=str(author.get("handle") or ""),
                author_name=str(author.get("name") or ""),
                author_followers=author.get("followers"),
                shares=raw.get("shares") or 0,
                engagement=raw.get("engagement") or 0,
                language=str(raw.get("language") or ""),
                parent_external_id=str(raw.get("in_reply_to") or ""),
                author_email=str(author.get("email") or ""),
                author_phone=str(author.get("phone") or ""),
            )
        )
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, field=f"{where}{exc.field}" if exc.field else None) from None


def webhook_receive(
    *, connector_id: Any, headers: dict[str, str], body: bytes
) -> tuple[Connector, IngestResult]:
    """A post to a webhook connector's address: checked against its secret (Standard Webhooks), then one
    mention (`{source, external_id, text, …}`) or `{"mentions": [...]}` up to 1,000 taken in. A refusal
    (401 for the signature, 422 for the body naming the field) takes nothing in."""
    connector = (
        Connector.objects.select_related("brand").filter(pk=connector_id, kind=ConnectorKind.WEBHOOK).first()
    )
    if connector is None:
        raise NotFound("No such connector", code="connector_not_found")
    problem = signing.signature_problem(
        text_decrypt(connector.secret),
        msg_id=headers.get("webhook-id", ""),
        timestamp=headers.get("webhook-timestamp", ""),
        signatures=headers.get("webhook-signature", ""),
        body=body,
    )
    if problem is not None:
        raise SignatureRefused(
            "The webhook-signature header does not match this connector's secret", code=problem
        )
    if not connector.active:
        raise KesherError("This connector is paused", code="connector_paused")
    try:
        payload = json.loads(body or b"null")
    except ValueError:
        raise ValidationFailed("The body is not valid JSON", code="malformed_json") from None
    if isinstance(payload, dict) and "mentions" in payload:
        raw_items = payload["mentions"]
        if not isinstance(raw_items, list) or not 1 <= len(raw_items) <= MAX_BATCH:
            raise ValidationFailed(f"mentions must be a list of 1 to {MAX_BATCH}", field="mentions")
        items = [_item(raw, position, connector.source) for position, raw in enumerate(raw_items)]
    else:
        items = [_item(payload, None, connector.source)]
    with transaction.atomic():
        result = mentions_ingest(brand=connector.brand, items=items, connector=connector)
        _finish(
            connector,
            added=result.added,
            cursor={
                "last_message_id": headers.get("webhook-id", "")[:100],
                "received_at": timezone.now().isoformat(),
            },
        )
    return connector, result
