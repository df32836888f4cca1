"""The listening part's data about a member: the mentions linked to them and the handles known to be theirs.
Export lists both; erasure unlinks the mentions and blanks what names the person (their words, handle,
name and address), keeping the row so that the same post read again is still known and not taken in anew;
a merge moves both to the member kept, undoably."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from kesher.listening.models import AuthorLink, Mention
from kesher.members.merging import MergeRecord, Step
from kesher.members.models import Member


def listening_member_export(*, member: Member) -> dict[str, Any]:
    return {
        "mentions": [
            {
                "source": mention.source,
                "external_id": mention.external_id,
                "url": mention.url,
                "author_handle": mention.author_handle,
                "author_name": mention.author_name,
                "text": mention.text,
                "posted_at": mention.posted_at.isoformat(),
                "sentiment": mention.sentiment,
                "topics": mention.topics,
                "case_id": str(mention.case_id) if mention.case_id else None,
            }
            for mention in Mention.objects.filter(member=member).order_by("posted_at", "id")
        ],
        "handles": [
            {"source": link.source, "handle": link.handle}
            for link in AuthorLink.objects.filter(member=member).order_by("source", "handle")
        ],
    }


@transaction.atomic
def listening_member_erase(*, member: Member) -> None:
    Mention.objects.filter(member=member).update(
        member=None, text="", author_handle="", author_name="", url="", author_followers=None
    )
    AuthorLink.objects.filter(member=member).delete()


@transaction.atomic
def listening_members_merge(*, source: Member, target: Member) -> list[Step]:
    record = MergeRecord()
    record.move(Mention.objects.filter(member=source), "member_id", old=source.pk, new=target.pk)
    # A handle both are known by stays with the duplicate (the target's is the one that counts).
    record.move(
        AuthorLink.objects.filter(member=source),
        "member_id",
        old=source.pk,
        new=target.pk,
        unique=("brand_id", "source", "handle"),
    )
    return record.steps
