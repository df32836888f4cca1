"""Shapes and helpers every router shares: the error body, idempotent execution from a request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from ninja import Schema, Status

from kesher.api.auth import brand_of
from kesher.core.idempotency import request_fingerprint, run_idempotent


class ErrorDetail(Schema):
    code: str
    message: str
    field: str | None = None


class ErrorOut(Schema):
    error: ErrorDetail


ERRORS: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    413: ErrorOut,
    415: ErrorOut,
    422: ErrorOut,
    429: ErrorOut,
}


def idempotent(request: HttpRequest, payload: Any, perform: Callable[[], tuple[int, Any]]) -> Status[Any]:
    """Run a value-changing call under the request's Idempotency-Key (when it sent one)."""
    key = request.headers.get("Idempotency-Key")
    fingerprint = request_fingerprint(request.method or "", request.path, payload)
    status, body = run_idempotent(brand=brand_of(request), key=key, fingerprint=fingerprint, perform=perform)
    return Status(status, body)
