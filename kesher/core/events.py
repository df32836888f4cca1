"""What happened, told to whoever listens from above: the domain events outbound webhooks deliver.

A part that changes something other systems care about (a member created, points changed, a review
published) announces it with `event_emit`. Listeners register from their AppConfig.ready() with
`on_event` (the webhooks part does), so the announcing part never knows who hears it. Listeners run
after the announcing transaction commits, never for work that was rolled back, each in registration
order; a listener that fails is logged and does not stop the others or undo the change.

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


def event_type(name: str, description: str) -> str:
    """Declare an event type (`member.created`); declaring the same name twice keeps the first text."""
    if "." not in name or name != name.strip().lower():
        raise ValueError(f"event types are lower-case '<noun>.<verb>': {name!r}")
    _types.setdefault(name, description)
    return name


def event_types() -> dict[str, str]:
    """Every declared event type with its description, sorted by name."""
    return dict(sorted(_types.items()))


def on_event(listener: Listener) -> Listener:
    """Run `listener(event)` after commit for every event emitted from now on."""
    if listener not in _listeners:  # ready() may run again: once is enough
        _listeners.append(listener)
    return listener


def event_emit(*, brand_id: uuid.UUID, type: str, data: Mapping[str, Any]) -> Event:
    """Announce that something happened in a brand; listeners hear it once the transaction commits."""
    if type not in _types:
        raise LookupError(f"undeclared event type {type!r}: declare it with event_type()")
    event = Event(brand_id=brand_id, type=type, data=dict(data))
    transaction.on_commit(lambda: _deliver(event))
    return event


def _deliver(event: Event) -> None:
    for listener in list(_listeners):
        try:
            listener(event)
        except Exception:
            log.exception("event listener failed", extra={"event_type": event.type, "event_id": event.id})
