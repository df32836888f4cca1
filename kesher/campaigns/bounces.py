"""Reading bounce and complaint notices: a provider's JSON webhook body, or a standard bounce email (a DSN,
RFC 3464: multipart/report with a message/delivery-status part)."""

from __future__ import annotations

import email
import email.policy
from email.message import Message as EmailMessage
from typing import Any

from kesher.campaigns.services import BounceNotice

MAX_NOTICES = 100
HARD_WORDS = {"hard", "permanent", "hardbounce", "hard_bounce"}
COMPLAINT_WORDS = {"complaint", "complained", "spam", "abuse", "spamreport"}


def _text(value: Any, limit: int = 300) -> str:
    return str(value or "").strip()[:limit]


def notices_from_json(payload: Any) -> list[BounceNotice]:
    """The generic webhook: one object, a list, or {"events": [...]}; each {"type": "bounce"|"complaint",
    "email": ..., "bounce_type": "hard"|"soft", "message_id": ..., "reason": ...}."""
    if isinstance(payload, dict) and isinstance(payload.get("events"), list):
        items = payload["events"]
    elif isinstance(payload, list):
        items = payload
    else:
        items = [payload]
    notices = []
    for item in items[:MAX_NOTICES]:
        if not isinstance(item, dict):
            continue
        kind = _text(item.get("type") or item.get("event"), 40).lower()
        bounce_type = _text(item.get("bounce_type") or item.get("bounceType"), 40).lower()
        if kind in COMPLAINT_WORDS:
            kind = "complaint"
        elif kind in {"bounce", "bounced", "hard_bounce", "soft_bounce", "dropped"}:
            if kind.startswith("soft"):
                bounce_type = "soft"
            kind = "bounce"
        else:
            continue
        notices.append(
            BounceNotice(
                kind=kind,
                email=_text(item.get("email") or item.get("recipient"), 254),
                bounce_type="hard" if (bounce_type in HARD_WORDS or not bounce_type) else "soft",
                message_ref=_text(item.get("message_id") or item.get("messageId"), 200),
                reason=_text(item.get("reason") or item.get("diagnostic")),
            )
        )
    return notices


def _field(block: EmailMessage, name: str) -> str:
    return str(block.get(name, "") or "").strip()


def notices_from_dsn(raw: bytes) -> list[BounceNotice]:
    """A bounce email: each failed recipient of its delivery-status part. 5.x.x is hard, 4.x.x soft;
    "delayed" and "delivered" reports are not bounces. The original Message-ID names our message."""
    report = email.message_from_bytes(raw, policy=email.policy.compat32)
    original = ""
    blocks: list[EmailMessage] = []
    for part in report.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            payload = part.get_payload()
            if isinstance(payload, list):
                blocks.extend(block for block in payload if isinstance(block, EmailMessage))
        elif kind == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], EmailMessage):
                original = original or _field(inner[0], "Message-ID")
        elif kind == "text/rfc822-headers":
            raw_headers = part.get_payload(decode=True)
            text = raw_headers.decode("utf-8", "replace") if isinstance(raw_headers, bytes) else ""
            original = original or _field(email.message_from_string(text), "Message-ID")
    notices = []
    for block in blocks:
        recipient = _field(block, "Final-Recipient") or _field(block, "Original-Recipient")
        if not recipient or _field(block, "Action").lower() != "failed":
            continue
        status = _field(block, "Status")
        notices.append(
            BounceNotice(
                kind="bounce",
                email=recipient.partition(";")[2].strip() or recipient,
                bounce_type="soft" if status.startswith("4") else "hard",
                message_ref=original,
                reason=" ".join(f"{status} {_field(block, 'Diagnostic-Code')}".split())[:300],
            )
        )
    return notices[:MAX_NOTICES]
