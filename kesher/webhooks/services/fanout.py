"""From a domain event to deliveries: one per active endpoint of the brand that hears the event's type.

`event_fan_out` listens on kesher/core/events.py inside the announcing transaction (registered from the
app's ready() with `in_transaction=True`): the deliveries commit or roll back with the change, cost no
commit of their own, and the dispatcher is asked for once the transaction commits. Every emit asks it,
on the hottest paths (each activity, each points change), so which event types each brand's endpoints
hear is kept per process: a brand without endpoints costs no query. Any change to a brand's endpoints
drops the process's copy at once and, after its commit, writes a new generation to the shared cache
that every process looks at at most once a second.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from typing import Any

from celery import current_app
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from kesher.core.events import Event
from kesher.core.tasks import enqueue
from kesher.webhooks.models import Delivery, Endpoint

log = logging.getLogger(__name__)

GENERATION_KEY = "webhooks:routes-generation"
GENERATION_CHECK_SECONDS = 1.0
DISPATCH_TASK = "kesher.webhooks.tasks.webhooks_dispatch"

# brand id -> event type -> ids of the active endpoints that hear it
_routes: dict[Any, dict[str, tuple[uuid.UUID, ...]]] = {}
_state: dict[str, Any] = {"generation": None, "checked": -1e18, "kicked": -1e18}
_lock = threading.Lock()


def _check_generation() -> None:
    now = time.monotonic()
    if now - _state["checked"] < GENERATION_CHECK_SECONDS:
        return
    generation = cache.get(GENERATION_KEY)
    with _lock:
        if generation != _state["generation"]:
            _routes.clear()
            _state["generation"] = generation
        _state["checked"] = now


def routes_of(brand_id: Any) -> dict[str, tuple[uuid.UUID, ...]]:
    """Which active endpoints of the brand hear which event types (one query the first time per process)."""
    _check_generation()
    found = _routes.get(brand_id)
    if found is None:
        table: dict[str, list[uuid.UUID]] = {}
        for endpoint_id, events in Endpoint.objects.filter(brand_id=brand_id, active=True).values_list(
            "id", "events"
        ):
            for name in events:
                table.setdefault(name, []).append(endpoint_id)
        found = {name: tuple(ids) for name, ids in table.items()}
        with _lock:
            _routes[brand_id] = found
    return found


def routes_changed(brand_id: Any) -> None:
    """A brand's endpoints changed: forget the routes here now and, after the commit, everywhere."""
    with _lock:
        _routes.pop(brand_id, None)

    def publish() -> None:
        with _lock:
            _routes.pop(brand_id, None)
        cache.set(GENERATION_KEY, uuid.uuid4().hex, None)

    transaction.on_commit(publish)


def event_body(event: Event) -> str:
    """The JSON sent for an event, in the Standard Webhooks shape {type, timestamp, data}."""
    return json.dumps(
        {"type": event.type, "timestamp": event.occurred_at.isoformat(), "data": event.data},
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )


def _member_of(event: Event) -> uuid.UUID | None:
    value = event.data.get("member_id")
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def fan_out(event: Event, *, kick: bool = True) -> int:
    """Write one delivery per active endpoint hearing the event; start the dispatcher. Returns how many."""
    endpoint_ids = routes_of(event.brand_id).get(event.type)
    if not endpoint_ids:
        return 0
    body, member_id, now = event_body(event), _member_of(event), timezone.now()

    def rows(ids: tuple[uuid.UUID, ...]) -> list[Delivery]:
        return [
            Delivery(
                brand_id=event.brand_id,
                endpoint_id=endpoint_id,
                msg_id=event.id,
                event_type=event.type,
                body=body,
                member_id=member_id,
                created_at=now,
                next_attempt_at=now,
            )
            for endpoint_id in ids
        ]

    with transaction.atomic():  # a savepoint: a failure here leaves the announcing transaction usable
        endpoint_ids = _held(endpoint_ids)
        Delivery.objects.bulk_create(rows(endpoint_ids), ignore_conflicts=True)
    if kick and endpoint_ids:
        _kick_after_commit()
    return len(endpoint_ids)


def _held(endpoint_ids: tuple[uuid.UUID, ...]) -> tuple[uuid.UUID, ...]:
    """Those of the endpoints that still exist and are active, held on PostgreSQL (FOR KEY SHARE) until the
    announcing transaction ends: an endpoint's removal then waits for it, rather than the removal
    committing first and the deliveries' foreign key failing the announcing transaction at its commit."""
    if connection.vendor != "postgresql":  # one writer at a time: no removal commits inside this transaction
        return tuple(Endpoint.objects.filter(pk__in=endpoint_ids, active=True).values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(_HELD_SQL, [list(endpoint_ids)])
        return tuple(row[0] for row in cursor.fetchall())


_HELD_SQL = f"SELECT id FROM {Endpoint._meta.db_table} WHERE id = ANY(%s) AND active FOR KEY SHARE"


def _kick_after_commit() -> None:
    """Ask for the dispatcher once the announcing transaction commits, once per transaction however many
    events it announced (at once outside a transaction)."""
    conn = transaction.get_connection()
    if conn.in_atomic_block and any(entry[1] is dispatch_kick for entry in conn.run_on_commit):
        return
    transaction.on_commit(dispatch_kick)


def event_fan_out(event: Event) -> None:
    """The listener registered on the domain events (kesher/webhooks/apps.py)."""
    fan_out(event)


def dispatch_kick() -> None:
    """Ask for the dispatcher. In the embedded mode it runs here and now; with a broker at most once a
    second per process, a second later (one run sends everything due), and beat catches the rest."""
    if current_app.conf.task_always_eager:
        enqueue(DISPATCH_TASK)
        return
    now = time.monotonic()
    with _lock:
        if now - _state["kicked"] < 1.0:
            return
        _state["kicked"] = now
    try:
        enqueue(DISPATCH_TASK, countdown=1)
    except Exception:  # the broker is away: beat's run picks the deliveries up
        log.warning("could not ask for the webhooks dispatcher", exc_info=True)
