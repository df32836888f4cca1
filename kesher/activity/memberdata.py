"""The activity stream's share of a member's data: what they did, for their download and for erasure
(registered from ActivityConfig.ready() with kesher.members.hooks)."""

from __future__ import annotations

from typing import Any

from kesher.activity.models import Activity
from kesher.members.models import Member

# What an erased member's activities keep: their kind, time and points (the statistics) and these
# attributes, which describe the purchase, not the person. Ids that a till or a shop could look up
# (external id, idempotency key, order numbers) go.
KEPT_ATTRIBUTES = frozenset({"amount", "currency", "store", "items", "quantity"})


def member_activities_export(*, member: Member) -> list[dict[str, Any]]:
    rows = Activity.objects.filter(brand_id=member.brand_id, member=member).order_by("occurred_at", "id")
    return [
        {
            "id": str(activity.pk),
            "type": activity.type,
            "source": activity.source,
            "external_id": activity.external_id,
            "occurred_at": activity.occurred_at.isoformat(),
            "attributes": activity.attributes,
            "points_awarded": activity.points_awarded,
        }
        for activity in rows.iterator(chunk_size=1000)
    ]


def member_activities_erase(*, member: Member) -> None:
    rows = Activity.objects.filter(brand_id=member.brand_id, member=member)
    for pk, attributes in rows.values_list("pk", "attributes").iterator(chunk_size=1000):
        kept = {key: value for key, value in (attributes or {}).items() if key in KEPT_ATTRIBUTES}
        Activity.objects.filter(pk=pk).update(
            attributes=kept, external_id=None, idempotency_key=None, request_hash=None
        )
