"""A member's ideas data for the privacy rights (export, erasure) and for merging duplicates."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Count, F

from kesher.ideas.models import (
    BetaApplication,
    BetaFeedback,
    ChallengeWinner,
    Idea,
    IdeaComment,
    IdeaNotice,
    IdeaSupport,
)
from kesher.members.merging import MergeRecord, Step
from kesher.members.models import Member


def ideas_member_export(*, member: Member) -> dict[str, Any]:
    return {
        "ideas": [
            {
                "id": str(i.pk),
                "title": i.title,
                "body": i.body,
                "status": i.status.code,
                "supporters": i.supporters,
                "created_at": i.created_at.isoformat(),
            }
            for i in Idea.objects.filter(author=member).select_related("status").order_by("created_at")
        ],
        "supported": [
            {"idea_id": str(s.idea_id), "title": s.idea.title, "at": s.created_at.isoformat()}
            for s in IdeaSupport.objects.filter(member=member).select_related("idea").order_by("created_at")
        ],
        "comments": [
            {"idea_id": str(c.idea_id), "body": c.body, "at": c.created_at.isoformat()}
            for c in IdeaComment.objects.filter(author=member)
        ],
        "beta_applications": [
            {
                "program_id": str(a.program_id),
                "program": a.program.title,
                "status": a.status,
                "motivation": a.motivation,
                "agreement_text": a.agreement_text,
                "agreement_accepted_at": a.agreement_accepted_at.isoformat(),
            }
            for a in BetaApplication.objects.filter(member=member).select_related("program")
        ],
        "beta_feedback": [
            {
                "task_id": str(f.task_id),
                "task": f.task.title,
                "rating": f.rating,
                "text": f.text,
                "at": f.created_at.isoformat(),
            }
            for f in BetaFeedback.objects.filter(member=member).select_related("task")
        ],
        "challenge_wins": [
            {"challenge_id": str(w.challenge_id), "idea_id": str(w.idea_id), "points": w.points}
            for w in ChallengeWinner.objects.filter(member=member)
        ],
    }


@transaction.atomic
def ideas_member_erase(*, member: Member) -> None:
    """Ideas stay on the board without a name; comments, notices and free text go; counts are kept."""
    Idea.objects.filter(author=member).update(author=None)
    for idea_id, count in (
        IdeaComment.objects.filter(author=member).values_list("idea_id").annotate(n=Count("id"))
    ):
        Idea.objects.filter(pk=idea_id).update(comment_count=F("comment_count") - count)
    IdeaComment.objects.filter(author=member).delete()
    IdeaNotice.objects.filter(member=member).delete()
    # The supporter counts keep these supports; only the link to the person goes.
    IdeaSupport.objects.filter(member=member).delete()
    BetaApplication.objects.filter(member=member).update(motivation="")
    BetaFeedback.objects.filter(member=member).update(text="")
    ChallengeWinner.objects.filter(member=member).update(member=None)


@transaction.atomic
def ideas_members_merge(*, source: Member, target: Member) -> list[Step]:
    """Move the duplicate's ideas data to the kept member. A member who supported an idea from both
    records counts once: the duplicate's support stays with the duplicate and the idea's count falls by
    one (so too a support of an idea by its own author, once both are one member). A beta application or
    task feedback the kept member already has stays with the duplicate, except that an accepted application
    of the duplicate's makes the kept one accepted."""
    record = MergeRecord()
    src, dst = source.pk, target.pk
    theirs = IdeaSupport.objects.filter(member=source)
    moving = list(theirs.values_list("pk", flat=True))  # before the kept member's own come over
    stays = set(
        theirs.filter(idea_id__in=IdeaSupport.objects.filter(member=target).values("idea_id")).values_list(
            "pk", flat=True
        )
    ) | set(theirs.filter(idea__author=target).values_list("pk", flat=True))
    for idea_id in IdeaSupport.objects.filter(pk__in=stays).values_list("idea_id", flat=True):
        record.add(Idea, idea_id, supporters=-1)
    # The kept member's supports of the duplicate's ideas go to the duplicate: authors do not support their
    # own. Before the duplicate's supports come over (no two rows of one member and idea at any point).
    own = IdeaSupport.objects.filter(member=target, idea__author=source)
    for idea_id in own.values_list("idea_id", flat=True):
        record.add(Idea, idea_id, supporters=-1)
    record.move(own, "member_id", old=dst, new=src)
    record.move(
        IdeaSupport.objects.filter(pk__in=moving).exclude(pk__in=stays),
        "member_id",
        old=src,
        new=dst,
        unique=("idea_id",),
    )
    record.move(Idea.objects.filter(author=source), "author_id", old=src, new=dst)
    record.move(IdeaComment.objects.filter(author=source), "author_id", old=src, new=dst)
    for model in (IdeaNotice, ChallengeWinner):
        record.move(model.objects.filter(member=source), "member_id", old=src, new=dst)
    for application in BetaApplication.objects.filter(member=source):
        kept = BetaApplication.objects.filter(member=target, program_id=application.program_id).first()
        if kept is not None and (
            application.status == BetaApplication.Status.ACCEPTED and kept.status != application.status
        ):
            record.change(kept, status=application.status, decided_at=application.decided_at)
    record.move(
        BetaApplication.objects.filter(member=source), "member_id", old=src, new=dst, unique=("program_id",)
    )
    record.move(
        BetaFeedback.objects.filter(member=source), "member_id", old=src, new=dst, unique=("task_id",)
    )
    return record.steps
