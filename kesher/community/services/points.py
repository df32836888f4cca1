"""Points for community activities: given through the activity stream (the loyalty ledger), taken
back when what earned them goes away."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext_noop

from kesher.community.models import PointsReversal, Post
from kesher.core.audit import SYSTEM, Actor
from kesher.members.models import Member

if TYPE_CHECKING:
    from kesher.activity.models import Activity


ACTIVITY_SOURCE = "community"


@dataclass(frozen=True)
class Grant:
    """What one community activity is: its type, attributes, and its key without the round."""

    key: str
    type: str
    attributes: dict[str, str]


def accepted_grant(answer: Post) -> Grant:
    return Grant(
        key=f"answer_accepted:{answer.pk}",
        type="answer_accepted",
        attributes={"answer_id": str(answer.pk), "question_id": str(answer.question_id)},
    )


def post_grants(post: Post, *, accepted: bool) -> list[Grant]:
    """The activities a post earns by being published (and, with `accepted`, by being accepted)."""
    if post.kind == Post.Kind.QUESTION:
        return [
            Grant(
                key=f"question_asked:{post.pk}",
                type="question_asked",
                attributes={"question_id": str(post.pk), "space": post.space.slug},
            )
        ]
    if post.kind != Post.Kind.ANSWER:
        return []
    grants = [
        Grant(
            key=f"answer_posted:{post.pk}",
            type="answer_posted",
            attributes={"answer_id": str(post.pk), "question_id": str(post.question_id)},
        )
    ]
    if accepted and Post.objects.filter(accepted_answer=post).exclude(author_id=post.author_id).exists():
        grants.append(accepted_grant(post))
    return grants


def _round_key(member: Member, grant: Grant) -> str:
    """The idempotency key of the grant's current round: the base key, then base:2, base:3 after reversals."""
    rounds = PointsReversal.objects.filter(member=member, grant_key=grant.key).count()
    return grant.key if rounds == 0 else f"{grant.key}:{rounds + 1}"


def points_grant(*, member: Member, grant: Grant) -> Activity:
    from kesher.activity.services import activity_record

    activity, _ = activity_record(
        brand=member.brand,
        member=member,
        type=grant.type,
        attributes=grant.attributes,
        source=ACTIVITY_SOURCE,
        idempotency_key=_round_key(member, grant),
    )
    return activity


def points_take_back(
    *, member: Member, grant: Grant, post: Post | None, reason: str, actor: Actor = SYSTEM
) -> PointsReversal | None:
    """Take back what the grant's current round gave (once), lot by lot through the loyalty ledger's
    `points_reverse_for_activity`; `lifetime_earned` falls with it.

    Points already spent are not driven below zero (unless the brand allows debt): what can be taken is
    taken and recorded exactly, and a restore gives back exactly that.
    """
    from kesher.activity.models import Activity
    from kesher.loyalty.services import points_reverse_for_activity

    activity = Activity.objects.filter(
        brand_id=member.brand_id,
        member=member,
        source=ACTIVITY_SOURCE,
        idempotency_key=_round_key(member, grant),
    ).first()
    if activity is None:
        return None
    entry = points_reverse_for_activity(activity=activity, reason=REVERSAL_REASONS[reason], actor=actor)
    return PointsReversal.objects.create(
        brand_id=member.brand_id,
        member=member,
        activity=activity,
        grant_key=grant.key,
        post=post,
        reason=reason,
        points=-entry.points if entry is not None else 0,
        ledger_entry=entry,
    )


def points_give_back(*, member: Member, grant: Grant, reason: str) -> bool:
    """After a reversal for `reason` is undone (a post restored), the grant is given again as a new round."""
    from kesher.activity.models import Activity

    latest = PointsReversal.objects.filter(member=member, grant_key=grant.key).order_by("-id").first()
    if latest is None or latest.reason != reason:
        return False
    if Activity.objects.filter(
        brand_id=member.brand_id, source=ACTIVITY_SOURCE, idempotency_key=_round_key(member, grant)
    ).exists():
        return False
    points_grant_again(member=member, grant=grant)
    return True


def points_grant_again(*, member: Member, grant: Grant) -> None:
    """Give a grant (again): after a reversal the member ends with exactly what the reversal took back.
    Where it took less than the new round earns (the points had been spent, and the member kept them),
    the difference is taken back from the new round's own lots at once, so one acceptance or one post
    never pays twice."""
    from kesher.loyalty.services import points_reverse_for_activity

    latest = PointsReversal.objects.filter(member=member, grant_key=grant.key).order_by("-id").first()
    again = points_grant(member=member, grant=grant)
    if latest is None or latest.activity_id == again.pk:
        return
    surplus = again.points_awarded - latest.points
    if surplus > 0:
        points_reverse_for_activity(activity=again, reason=SPENT_BEFORE_REASON, points=surplus)


SPENT_BEFORE_REASON = gettext_noop("Points spent before they were taken back are not given twice")

REVERSAL_REASONS: dict[str, str] = {
    PointsReversal.Reason.ACCEPTANCE_MOVED: gettext_noop("An accepted answer is no longer the accepted one"),
    PointsReversal.Reason.SPAM: gettext_noop("A community post removed as spam"),
}
