"""The webhooks part's writes: endpoints, fan-out of events into deliveries, dispatch, member data."""

from kesher.webhooks.services.dispatch import SCHEDULE, deliveries_claim, retry_delay, webhooks_dispatch
from kesher.webhooks.services.endpoints import (
    ROTATION_OVERLAP,
    Registered,
    delivery_replay,
    endpoint_create,
    endpoint_delete,
    endpoint_rotate,
    endpoint_update,
)
from kesher.webhooks.services.fanout import event_fan_out, fan_out

__all__ = [
    "ROTATION_OVERLAP",
    "SCHEDULE",
    "Registered",
    "deliveries_claim",
    "delivery_replay",
    "endpoint_create",
    "endpoint_delete",
    "endpoint_rotate",
    "endpoint_update",
    "event_fan_out",
    "fan_out",
    "retry_delay",
    "webhooks_dispatch",
]
