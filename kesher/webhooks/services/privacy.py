"""A member's data in the webhooks part: the deliveries about them, for the privacy rights and merging."""

from __future__ import annotations

import json

from django.db import transaction

from kesher.members.merging import MergeRecord, Step
from kesher.members.models import Member
from kesher.webhooks.models import Attempt, Delivery


def member_deliveries_export(*, member: Member) -> list[dict[str, object]]:
    """What was sent about the member: each delivery's event, endpoint, status and when (bodies aside, the
    data in them is the member's own, exported by the parts it came from)."""
    return [
        {
            "event_type": event_type,
            "endpoint": url,
            "status": status,
            "created_at": created_at.isoformat(),
        }
        for event_type, url, status, created_at in Delivery.objects.filter(
            brand_id=member.brand_id, member_id=member.pk
        )
        .order_by("created_at")
        .values_list("event_type", "endpoint__url", "status", "created_at")
    ]


def member_deliveries_erase(*, member: Member) -> int:
    """Redact every stored or pending delivery about the member: the body keeps only the event's type, time
    and the member's id (a pending one goes out redacted); what the receivers answered is dropped too."""
    redacted = 0
    with transaction.atomic():
        rows = list(
            Delivery.objects.select_for_update()
            .filter(brand_id=member.brand_id, member_id=member.pk)
            .only("id", "body")
        )
        for delivery in rows:
            try:
                sent = json.loads(delivery.body)
            except ValueError:
                sent = {}
            delivery.body = json.dumps(
                {
                    "type": sent.get("type", ""),
                    "timestamp": sent.get("timestamp", ""),
                    "data": {"member_id": str(member.pk), "redacted": True},
                },
                separators=(",", ":"),
            )
            redacted += 1
        Delivery.objects.bulk_update(rows, ["body"], batch_size=500)
        Attempt.objects.filter(delivery__in=[row.pk for row in rows]).update(response_excerpt="")
    return redacted


def member_deliveries_merge(*, source: Member, target: Member) -> list[Step]:
    """The deliveries about a duplicate count as the kept member's (their bodies stay as they were sent);
    the move is recorded, so undoing the merge gives them back."""
    record = MergeRecord()
    rows = Delivery.objects.filter(brand_id=source.brand_id, member_id=source.pk)
    record.move(rows, "member_id", old=source.pk, new=target.pk)
    return record.steps
