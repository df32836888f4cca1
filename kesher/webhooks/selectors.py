"""Reads of the webhooks part, always inside one brand: endpoints with their health, the delivery log."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Max, Q

from kesher.brands.models import Brand
from kesher.core.errors import NotFound, ValidationFailed
from kesher.webhooks.models import Attempt, Delivery, DeliveryStatus, Endpoint


@dataclass(frozen=True)
class Health:
    """How an endpoint is doing: `state` is ok, failing, disabled or new (nothing sent yet)."""

    state: str
    pending: int
    succeeded: int
    failed: int
    last_success_at: datetime | None


def endpoint_list(*, brand: Brand) -> list[Endpoint]:
    return list(Endpoint.objects.filter(brand=brand).order_by("created_at", "id"))


def endpoint_get(*, brand: Brand, endpoint_id: Any) -> Endpoint:
    try:
        found = Endpoint.objects.filter(brand=brand, pk=endpoint_id).first()
    except (ValueError, ValidationFailed):
        found = None
    if found is None:
        raise NotFound("No such webhook endpoint", field="id")
    return found


def endpoints_health(*, brand: Brand, endpoints: list[Endpoint]) -> dict[uuid.UUID, Health]:
    """Each endpoint's health in one query over its deliveries."""
    counts = {
        row["endpoint_id"]: row
        for row in Delivery.objects.filter(brand=brand, endpoint__in=endpoints)
        .values("endpoint_id")
        .annotate(
            pending=Count("id", filter=Q(status=DeliveryStatus.PENDING)),
            succeeded=Count("id", filter=Q(status=DeliveryStatus.SUCCEEDED)),
            failed=Count("id", filter=Q(status=DeliveryStatus.FAILED)),
            last_success_at=Max("finished_at", filter=Q(status=DeliveryStatus.SUCCEEDED)),
        )
    }
    found: dict[uuid.UUID, Health] = {}
    for endpoint in endpoints:
        row = counts.get(endpoint.pk, {})
        if not endpoint.active:
            state = "disabled"
        elif endpoint.failing_since is not None or endpoint.consecutive_failures:
            state = "failing"
        elif not row:
            state = "new"
        else:
            state = "ok"
        found[endpoint.pk] = Health(
            state=state,
            pending=row.get("pending", 0),
            succeeded=row.get("succeeded", 0),
            failed=row.get("failed", 0),
            last_success_at=row.get("last_success_at"),
        )
    return found


@dataclass(frozen=True)
class DeliveryPage:
    deliveries: list[Delivery]
    attempts: dict[uuid.UUID, list[Attempt]]
    next_cursor: str | None


def _cursor_read(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        at, _, pk = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(at), uuid.UUID(pk)
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed("The cursor is not one this list gave", field="cursor") from None


def _cursor_make(delivery: Delivery) -> str:
    return base64.urlsafe_b64encode(f"{delivery.created_at.isoformat()}|{delivery.pk}".encode()).decode()


def delivery_page(
    *, brand: Brand, endpoint: Endpoint, cursor: str | None = None, limit: int = 50, status: str | None = None
) -> DeliveryPage:
    """The endpoint's deliveries, newest first, with their attempts (two queries a page)."""
    rows = Delivery.objects.filter(brand=brand, endpoint=endpoint)
    if status:
        if status not in DeliveryStatus.values:
            raise ValidationFailed("status must be pending, succeeded or failed", field="status")
        rows = rows.filter(status=status)
    if cursor:
        at, pk = _cursor_read(cursor)
        rows = rows.filter(Q(created_at__lt=at) | Q(created_at=at, id__lt=pk))
    found = list(rows.order_by("-created_at", "-id")[: limit + 1])
    more = len(found) > limit
    found = found[:limit]
    attempts: dict[uuid.UUID, list[Attempt]] = {delivery.pk: [] for delivery in found}
    for attempt in Attempt.objects.filter(delivery__in=found).order_by("delivery_id", "number"):
        attempts[attempt.delivery_id].append(attempt)
    return DeliveryPage(
        deliveries=found, attempts=attempts, next_cursor=_cursor_make(found[-1]) if more and found else None
    )


def delivery_get(*, brand: Brand, delivery_id: Any, endpoint: Endpoint | None = None) -> Delivery:
    """A delivery of the brand (and of `endpoint`, when given)."""
    rows = Delivery.objects.filter(brand=brand, pk=delivery_id)
    if endpoint is not None:
        rows = rows.filter(endpoint=endpoint)
    found = rows.select_related("endpoint").first()
    if found is None:
        raise NotFound("No such delivery", field="id")
    return found


def delivery_attempts(*, delivery: Delivery) -> list[Attempt]:
    return list(Attempt.objects.filter(delivery=delivery).order_by("number"))
