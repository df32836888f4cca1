"""Shapes and helpers every router shares: the error body, idempotent execution from a request."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Any, get_args

from django.http import HttpRequest
from ninja import Field, Schema, Status
from pydantic import ConfigDict, ValidationInfo, WithJsonSchema, field_validator

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


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def PatchField(**constraints: Any) -> Any:
    """A field a PATCH may leave out but not set to null: the OpenAPI document shows it as not nullable
    (and without the null default), and an explicit null is refused with 422 naming the field."""
    return Field(None, json_schema_extra=_no_default, **constraints)


# A time of day as the API reads and writes it ("21:00" or "21:00:00"): OpenAPI's `format: time` means an
# RFC 3339 time with its offset, which a quiet hour in the brand's own time zone does not have.
ClockTime = Annotated[
    time,
    WithJsonSchema(
        {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$", "example": "21:00"}
    ),
]


_NUMBERS = (int, float, Decimal)
_DATES = (date, datetime, time)


def _kinds(annotation: Any) -> set[type]:
    """The classes a field's annotation accepts, through Annotated, unions and Optional."""
    if isinstance(annotation, type):
        return {annotation}
    found: set[type] = set()
    for part in get_args(annotation):
        found |= _kinds(part)
    return found


def loose_coercion(value: Any, annotation: Any) -> str | None:
    """Why pydantic's lax mode would take this JSON value for the field although the contract does not:
    true or false for a number, 0 or "yes" for true or false, a number for a date or a time (seconds since
    1970)."""
    kinds = _kinds(annotation)
    if bool in kinds and not kinds - {bool, type(None)} and value is not None and not isinstance(value, bool):
        return "must be true or false"
    if isinstance(value, bool):
        if bool not in kinds and any(issubclass(kind, _NUMBERS) for kind in kinds):
            return "must be a number, not true or false"
    elif (
        isinstance(value, int | float)
        and not any(issubclass(kind, _NUMBERS) for kind in kinds)
        and any(issubclass(kind, _DATES) for kind in kinds)
    ):
        return "must be written as a string (2026-01-31, 2026-01-31T09:00:00+02:00, 21:00)"
    return None


class StrictInput(Schema):
    """An API body: unknown fields refused, and no loose coercion (see loose_coercion)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_loose_coercion(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        problem = loose_coercion(value, field.annotation) if field is not None else None
        if problem:
            raise ValueError(problem)
        return value
