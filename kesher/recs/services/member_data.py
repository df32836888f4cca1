"""The recs part's data about a member: their stored lists (derived from their activities, recomputed at
every training). Exported as what is recommended and why; erased with them; merged undoably."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from kesher.members.merging import MergeRecord, Step
from kesher.members.models import Member
from kesher.recs.models import MemberList


def recs_member_export(*, member: Member) -> dict[str, Any]:
    return {
        "lists": [
            {
                "kind": row.kind,
                "computed_at": row.computed_at.isoformat(),
                "items": [{"id": item["id"], "reason": item.get("reason", "")} for item in row.items],
                "already_has": row.seen,
                "facts": row.facts,
            }
            for row in MemberList.objects.filter(member=member).order_by("kind")
        ]
    }


@transaction.atomic
def recs_member_erase(*, member: Member) -> None:
    MemberList.objects.filter(member=member).delete()


@transaction.atomic
def recs_members_merge(*, source: Member, target: Member) -> list[Step]:
    """The duplicate's lists move to the member kept where the kept one has none of that kind; the rest
    are removed (kept in the steps for an undo). The next training learns from the merged activities."""
    record = MergeRecord()
    record.move(
        MemberList.objects.filter(member=source), "member_id", old=source.pk, new=target.pk, unique=("kind",)
    )
    record.remove(MemberList.objects.filter(member=source))
    return record.steps
