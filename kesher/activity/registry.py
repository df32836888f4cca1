"""Activity types (each with a schema for its attributes) and the consumers that react to them.

Other parts register their own types and consumers from their AppConfig.ready(). An immediate consumer
runs inside the activity's transaction (points, so the cashier sees the balance at once); a deferred one
runs after commit, in a Celery worker or in-process when no broker is configured.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from kesher.core.errors import ValidationFailed

if TYPE_CHECKING:
    from kesher.activity.models import Activity


@dataclass
class ActivityType:
    name: str
    schema: type[BaseModel]
    description: str = ""


ImmediateConsumer = Callable[["Activity"], None]
DeferredConsumer = Callable[["Activity"], None]
# Handles many activities of one bulk call at once; must give the same result as the one-by-one consumer.
BatchConsumer = Callable[[list["Activity"]], None]


@dataclass
class Registry:
    types: dict[str, ActivityType] = field(default_factory=dict)
    immediate: dict[str, list[tuple[str, ImmediateConsumer]]] = field(default_factory=dict)
    deferred: dict[str, list[tuple[str, DeferredConsumer]]] = field(default_factory=dict)
    deferred_by_name: dict[str, DeferredConsumer] = field(default_factory=dict)
    batch_by_name: dict[str, BatchConsumer] = field(default_factory=dict)


registry = Registry()
ANY = "*"


def activity_type(name: str, *, description: str = "") -> Callable[[type[BaseModel]], type[BaseModel]]:
    def register(schema: type[BaseModel]) -> type[BaseModel]:
        registry.types[name] = ActivityType(name=name, schema=schema, description=description)
        return schema

    return register


def consumer(
    *types: str, name: str, immediate: bool = False, batch: BatchConsumer | None = None
) -> Callable[[ImmediateConsumer], ImmediateConsumer]:
    """Register `fn` for the given activity types (or ANY). Names must be unique and stable.

    An immediate consumer may also give a `batch` form, which bulk recording uses for many activities.
    """

    def register(fn: ImmediateConsumer) -> ImmediateConsumer:
        if batch is not None:
            registry.batch_by_name[name] = batch
        table = registry.immediate if immediate else registry.deferred
        for type_name in types:
            entries = table.setdefault(type_name, [])
            if all(existing != name for existing, _ in entries):
                entries.append((name, fn))
        if not immediate:
            registry.deferred_by_name[name] = fn
        return fn

    return register


def consumers_for(type_name: str, *, immediate: bool) -> list[tuple[str, ImmediateConsumer]]:
    table = registry.immediate if immediate else registry.deferred
    return [*table.get(type_name, []), *table.get(ANY, [])]


def validate_attributes(type_name: str, attributes: dict[str, Any]) -> dict[str, Any]:
    """Check attributes against the type's schema; the answer is JSON-ready with defaults filled in."""
    spec = registry.types.get(type_name)
    if spec is None:
        known = ", ".join(sorted(registry.types))
        raise ValidationFailed(f"Unknown activity type {type_name!r}; known types: {known}", field="type")
    try:
        parsed = spec.schema.model_validate(attributes)
    except ValidationError as exc:
        first = exc.errors()[0]
        location = ".".join(str(part) for part in first["loc"])
        raise ValidationFailed(
            f"attributes.{location}: {first['msg']}",
            field=f"attributes.{location}" if location else "attributes",
        ) from None
    return parsed.model_dump(mode="json", exclude_none=True)
