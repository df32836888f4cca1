"""What happened, told to whoever listens from above: the domain events outbound webhooks deliver.

A part that changes something other systems care about (a member created, points changed, a review
published) announces it with `event_emit`. Listeners register from their AppConfig.ready() with
`on_event`, so the announcing part never knows who hears it. Listeners run after the announcing
transaction commits, never for work that was rolled back, each in registration order; a listener that
fails is logged and does not stop the others or undo the change.

A listener registered with `in_transaction=True` runs at once, inside the announcing transaction, so what
it writes commits or rolls back with the change and costs no commit of its own: the outbound webhooks
write their deliveries this way (a crash between the commit and an after-commit listener would lose
them). Such a listener must be quick, must do its writes in its own `transaction.atomic()` (a savepoint,
so a failure of its own leaves the announcing transaction usable) and is logged, not raised, when it fails.

Every event type is declared once with `event_type("<noun>.<verb>", description)` by the part that owns
it, so the list of what a brand can subscribe to is complete and documented (`event_types()`).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    brand_id: uuid.UUID
    type: str
    data: Mapping[str, Any]
    id: str = field(default_factory=lambda: f"evt_{uuid.uuid4().hex}")
    occurred_at: datetime = field(default_factory=timezone.now)


Listener = Callable[[Event], object]

_types: dict[str, str] = {}
_listeners: list[Listener] = []
_writers: list[Listener] = []  # in_transaction listeners


def event_type(name: str, description: str) -> str:
    """Declare an event type (`member.created`); declaring the same name twice keeps the first text."""
    if "." not in name or name != name.strip().lower():
        raise ValueError(f"event types are lower-case '<noun>.<verb>': {name!r}")
    _types.setdefault(name, description)
    return name


def event_types() -> dict[str, str]:
    """Every declared event type with its description, sorted by name."""
    return dict(sorted(_types.items()))


def on_event(listener: Listener, *, in_transaction: bool = False) -> Listener:
    """Run `listener(event)` for every event emitted from now on: after commit, or with `in_transaction`
    at once inside the announcing transaction (see the module's text)."""
    chosen = _writers if in_transaction else _listeners
    if listener not in chosen:  # ready() may run again: once is enough
        chosen.append(listener)
    return listener


def event_emit(*, brand_id: uuid.UUID, type: str, data: Mapping[str, Any]) -> Event:
    """Announce that something happened in a brand; listeners hear it once the transaction commits."""
    if type not in _types:
        raise LookupError(f"undeclared event type {type!r}: declare it with event_type()")
    event = Event(brand_id=brand_id, type=type, data=dict(data))
    for writer in list(_writers):
        try:
            writer(event)
        except Exception:
            log.exception("event writer failed", extra={"event_type": event.type, "event_id": event.id})
    if _listeners:
        transaction.on_commit(lambda: _deliver(event))
    return event


def _deliver(event: Event) -> None:
    for listener in list(_listeners):
        try:
            listener(event)
        except Exception:
            log.exception("event listener failed", extra={"event_type": event.type, "event_id": event.id})
