"""The magazine's data about a member (their readings and the interests learned from them): export,
erasure and merging of duplicates."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from kesher.magazine.models import ReaderInterest, Reading
from kesher.members.merging import MergeRecord, Step
from kesher.members.models import Member


def magazine_member_export(*, member: Member) -> dict[str, Any]:
    return {
        "readings": [
            {
                "article_id": str(row.article_id),
                "article": row.article.title,
                "started_at": row.started_at.isoformat(),
                "seconds": row.seconds,
                "scroll": row.scroll,
            }
            for row in Reading.objects.filter(member=member).select_related("article").order_by("started_at")
        ],
        "interests_learned": [
            {"interest": row.interest, "weight": round(row.weight, 4), "at": row.updated_at.isoformat()}
            for row in ReaderInterest.objects.filter(member=member).order_by("interest")
        ],
    }


@transaction.atomic
def magazine_member_erase(*, member: Member) -> None:
    """What they read says who they are: it all goes (the articles keep no reader counts of their own)."""
    Reading.objects.filter(member=member).delete()
    ReaderInterest.objects.filter(member=member).delete()


@transaction.atomic
def magazine_members_merge(*, source: Member, target: Member) -> list[Step]:
    """The duplicate's readings move to the member kept; a learned interest both have keeps the kept
    member's weight (the duplicate's row is removed, kept in the steps for an undo)."""
    record = MergeRecord()
    both = set(ReaderInterest.objects.filter(member=target).values_list("interest", flat=True))
    record.remove(ReaderInterest.objects.filter(member=source, interest__in=both))
    for model in (Reading, ReaderInterest):
        record.move(model.objects.filter(member=source), "member_id", old=source.pk, new=target.pk)
    return record.steps
