"""The webhooks part's API (mounted at /api/v1): a brand's endpoints, their delivery log and replays.

Every operation needs the `manage` scope: an endpoint receives the brand's member data, so only a key
that may manage the brand may say where it goes. The secret of a new or rotated endpoint is in that one
answer only, so those two calls are not replayed from the idempotency store (it would keep the secret in
clear); every other change is idempotent under its Idempotency-Key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import StringConstraints

from kesher.api.auth import actor_of, brand_of, require_scope
from kesher.api.common import ERRORS, PatchField, idempotent
from kesher.api.common import StrictInput as Strict
from kesher.core.events import event_types
from kesher.webhooks import selectors, services
from kesher.webhooks.models import Attempt, Delivery, Endpoint

router = Router()

Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
EventName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=64)]


def _manage(request: HttpRequest) -> None:
    require_scope(request, "manage")


class EndpointIn(Strict):
    url: Url
    events: list[EventName] = Field(..., min_length=1, max_length=50)
    description: Annotated[str, StringConstraints(max_length=200)] = ""


class EndpointPatch(Strict):
    url: Url = PatchField()
    events: list[EventName] = PatchField(min_length=1, max_length=50)
    active: bool = PatchField()
    description: Annotated[str, StringConstraints(max_length=200)] = PatchField()


class HealthOut(Schema):
    state: str = Field(..., description="ok, failing, disabled or new")
    pending: int
    succeeded: int
    failed: int
    last_success_at: datetime | None
    consecutive_failures: int
    failing_since: datetime | None


class EndpointOut(Schema):
    id: UUID
    url: str
    description: str
    events: list[str]
    active: bool
    disabled_reason: str
    previous_secret_until: datetime | None = Field(
        None, description="until then deliveries are signed with the previous secret too"
    )
    created_at: datetime
    health: HealthOut


class EndpointSecretOut(EndpointOut):
    secret: str = Field(..., description="the whsec_ signing secret, shown this once")


class AttemptOut(Schema):
    number: int
    at: datetime
    status_code: int | None
    duration_ms: int
    error: str


class DeliveryOut(Schema):
    id: UUID
    webhook_id: str = Field(..., description="the webhook-id header, the same on every attempt")
    event_type: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str
    next_attempt_at: datetime | None
    created_at: datetime
    finished_at: datetime | None
    attempt_log: list[AttemptOut]


class DeliveryPageOut(Schema):
    items: list[DeliveryOut]
    next_cursor: str | None


class EventTypeOut(Schema):
    name: str
    description: str


def _endpoint_out(endpoint: Endpoint, secret: str | None = None) -> dict[str, Any]:
    health = selectors.endpoints_health(brand=endpoint.brand, endpoints=[endpoint])[endpoint.pk]
    out: dict[str, Any] = {
        "id": endpoint.pk,
        "url": endpoint.url,
        "description": endpoint.description,
        "events": endpoint.events,
        "active": endpoint.active,
        "disabled_reason": endpoint.disabled_reason,
        "previous_secret_until": endpoint.previous_secret_until,
        "created_at": endpoint.created_at,
        "health": {
            **health.__dict__,
            "consecutive_failures": endpoint.consecutive_failures,
            "failing_since": endpoint.failing_since,
        },
    }
    if secret is not None:
        out["secret"] = secret
    return out


def _delivery_out(delivery: Delivery, attempts: list[Attempt]) -> dict[str, Any]:
    return {
        "id": delivery.pk,
        "webhook_id": delivery.msg_id,
        "event_type": delivery.event_type,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
        "next_attempt_at": delivery.next_attempt_at,
        "created_at": delivery.created_at,
        "finished_at": delivery.finished_at,
        "attempt_log": [
            {
                "number": attempt.number,
                "at": attempt.at,
                "status_code": attempt.status_code,
                "duration_ms": attempt.duration_ms,
                "error": attempt.error,
            }
            for attempt in attempts
        ],
    }


@router.get(
    "/webhooks/event-types",
    response={200: list[EventTypeOut], **ERRORS},
    summary="What can be heard (manage)",
)
def list_event_types(request: HttpRequest) -> list[dict[str, str]]:
    _manage(request)
    return [{"name": name, "description": text} for name, text in event_types().items()]


@router.post(
    "/webhooks",
    response={201: EndpointSecretOut, **ERRORS},
    summary="Register an endpoint; its secret is shown once (manage)",
)
def create_webhook(request: HttpRequest, payload: EndpointIn) -> Status[Any]:
    _manage(request)
    made = services.endpoint_create(
        brand=brand_of(request),
        url=payload.url,
        events=payload.events,
        description=payload.description,
        actor=actor_of(request),
    )
    return Status(201, _endpoint_out(made.endpoint, made.secret))


@router.get(
    "/webhooks", response={200: list[EndpointOut], **ERRORS}, summary="The brand's endpoints (manage)"
)
def list_webhooks(request: HttpRequest) -> list[dict[str, Any]]:
    _manage(request)
    brand = brand_of(request)
    endpoints = selectors.endpoint_list(brand=brand)
    health = selectors.endpoints_health(brand=brand, endpoints=endpoints)
    return [
        {
            **_endpoint_out(endpoint),
            "health": {
                **health[endpoint.pk].__dict__,
                "consecutive_failures": endpoint.consecutive_failures,
                "failing_since": endpoint.failing_since,
            },
        }
        for endpoint in endpoints
    ]


@router.get(
    "/webhooks/{uuid:webhook_id}", response={200: EndpointOut, **ERRORS}, summary="An endpoint (manage)"
)
def get_webhook(request: HttpRequest, webhook_id: UUID) -> dict[str, Any]:
    _manage(request)
    return _endpoint_out(selectors.endpoint_get(brand=brand_of(request), endpoint_id=webhook_id))


@router.patch(
    "/webhooks/{uuid:webhook_id}",
    response={200: EndpointOut, **ERRORS},
    summary="Change an endpoint's URL or events, or switch it off and on (manage)",
)
def update_webhook(request: HttpRequest, webhook_id: UUID, payload: EndpointPatch) -> Status[Any]:
    _manage(request)
    changes = payload.model_dump(exclude_unset=True)

    def perform() -> tuple[int, Any]:
        endpoint = services.endpoint_update(
            brand=brand_of(request), endpoint_id=webhook_id, actor=actor_of(request), **changes
        )
        return 200, _endpoint_out(endpoint)

    return idempotent(request, payload.model_dump(mode="json", exclude_unset=True), perform)


@router.delete(
    "/webhooks/{uuid:webhook_id}",
    response={204: None, **ERRORS},
    summary="Remove an endpoint and its log (manage)",
)
def delete_webhook(request: HttpRequest, webhook_id: UUID) -> Status[Any]:
    _manage(request)
    services.endpoint_delete(brand=brand_of(request), endpoint_id=webhook_id, actor=actor_of(request))
    return Status(204, None)


@router.post(
    "/webhooks/{uuid:webhook_id}/rotate",
    response={200: EndpointSecretOut, **ERRORS},
    summary="A new secret, shown once; the old one also signs for 24 hours (manage)",
)
def rotate_webhook(request: HttpRequest, webhook_id: UUID) -> dict[str, Any]:
    _manage(request)
    made = services.endpoint_rotate(brand=brand_of(request), endpoint_id=webhook_id, actor=actor_of(request))
    return _endpoint_out(made.endpoint, made.secret)


@router.get(
    "/webhooks/{uuid:webhook_id}/deliveries",
    response={200: DeliveryPageOut, **ERRORS},
    summary="The endpoint's deliveries, newest first, with their attempts (manage)",
)
def list_deliveries(
    request: HttpRequest,
    webhook_id: UUID,
    cursor: str | None = None,
    status: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,  # type: ignore[type-arg]
) -> dict[str, Any]:
    _manage(request)
    brand = brand_of(request)
    endpoint = selectors.endpoint_get(brand=brand, endpoint_id=webhook_id)
    page = selectors.delivery_page(brand=brand, endpoint=endpoint, cursor=cursor, limit=limit, status=status)
    return {
        "items": [_delivery_out(delivery, page.attempts[delivery.pk]) for delivery in page.deliveries],
        "next_cursor": page.next_cursor,
    }


@router.post(
    "/webhooks/{uuid:webhook_id}/deliveries/{uuid:delivery_id}/replay",
    response={202: DeliveryOut, **ERRORS},
    summary="Send a delivery again now, with a new round of retries (manage)",
)
def replay_delivery(request: HttpRequest, webhook_id: UUID, delivery_id: UUID) -> Status[Any]:
    _manage(request)
    brand = brand_of(request)
    endpoint = selectors.endpoint_get(brand=brand, endpoint_id=webhook_id)
    selectors.delivery_get(brand=brand, delivery_id=delivery_id, endpoint=endpoint)

    def perform() -> tuple[int, Any]:
        delivery = services.delivery_replay(brand=brand, delivery_id=delivery_id, actor=actor_of(request))
        return 202, _delivery_out(delivery, selectors.delivery_attempts(delivery=delivery))

    return idempotent(request, {"delivery": str(delivery_id)}, perform)
