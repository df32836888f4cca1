"""Idempotent execution of value-changing calls: the first answer is stored and replayed.

The record is written in the same transaction as the change, so a concurrent duplicate waits on the
unique index and then reads the committed answer instead of doing the work twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db import transaction

from kesher.core.bulk import row_insert_new
from kesher.core.errors import KesherError, ValidationFailed
from kesher.core.models import IdempotencyRecord

if TYPE_CHECKING:
    from kesher.brands.models import Brand

MAX_KEY_LENGTH = 255


def request_fingerprint(method: str, path: str, payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def error_body(exc: KesherError) -> dict[str, Any]:
    return {"error": {"code": exc.code, "message": exc.message, "field": exc.field}}


def run_idempotent(
    *,
    brand: Brand,
    key: str | None,
    fingerprint: str,
    perform: Callable[[], tuple[int, Any]],
) -> tuple[int, Any]:
    """Run `perform` once per (brand, key); refusals (KesherError) are answers too and are replayed."""
    if key is not None and not 0 < len(key) <= MAX_KEY_LENGTH:
        raise ValidationFailed(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters", field="Idempotency-Key"
        )
    if key is None:
        try:
            with transaction.atomic():
                return perform()
        except KesherError as exc:
            return exc.status, error_body(exc)

    with transaction.atomic():
        record = IdempotencyRecord(
            brand=brand, key=key, request_hash=fingerprint, status_code=0, response_body=""
        )
        if not row_insert_new(record):  # the key was used before (or is being used right now)
            existing = IdempotencyRecord.objects.get(brand=brand, key=key)
            if existing.request_hash != fingerprint:
                raise ValidationFailed(
                    "This Idempotency-Key was already used with a different request",
                    field="Idempotency-Key",
                    code="idempotency_key_reused",
                ) from None
            return existing.status_code, json.loads(existing.response_body)
        try:
            with transaction.atomic():
                status, body = perform()
        except KesherError as exc:
            status, body = exc.status, error_body(exc)
        # Round-trip through JSON so the first answer and every replay are the same bytes.
        text = json.dumps(body, default=str, ensure_ascii=False)
        IdempotencyRecord.objects.filter(pk=record.pk).update(status_code=status, response_body=text)
        return status, json.loads(text)
