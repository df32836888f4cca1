"""Merging a duplicate question into another."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from kesher.community import pagecache
from kesher.community.models import Follow, Notification, Post, ReputationEvent
from kesher.community.services._posts import post_index, thread_recount
from kesher.community.services.answers import accept_effects_undo
from kesher.core.audit import Actor, audit_record
from kesher.core.errors import Conflict, NotFound, ValidationFailed


@dataclass(frozen=True)
class MergeOutcome:
    question: Post  # the duplicate, now merged
    into: Post
    answers: int
    comments: int
    follows: int


@transaction.atomic
def question_merge(*, question: Post, into: Post, actor: Actor, reason: str = "") -> MergeOutcome:
    """Merge a duplicate question into another of the brand: its answers and comments (with their votes)
    move to the target, its followers follow the target, and the duplicate leaves lists and search; its
    page redirects to the target. Votes, reputation and points already given stay as they are, except an
    acceptance on the duplicate: it moves to the target when the target has none, else it is undone."""
    if question.kind != Post.Kind.QUESTION or into.kind != Post.Kind.QUESTION:
        raise NotFound("No such question", code="question_not_found")
    if question.brand_id != into.brand_id:
        raise NotFound("No such question", code="question_not_found", field="into")
    if question.pk == into.pk:
        raise ValidationFailed("a question cannot be merged into itself", field="into")
    # Both rows locked in key order, so two merges of the same pair never deadlock.
    locked = {
        post.pk: post
        for post in Post.objects.select_for_update().filter(pk__in=[question.pk, into.pk]).order_by("pk")
    }
    duplicate, target = locked[question.pk], locked[into.pk]
    if duplicate.status == Post.Status.MERGED:
        raise Conflict("This question is already merged", code="question_merged")
    if target.status != Post.Status.PUBLISHED:
        raise Conflict("Merge into a published question", code="question_not_published", field="into")
    now = timezone.now()
    thread = Post.objects.filter(question=duplicate)
    answer_ids = list(thread.filter(kind=Post.Kind.ANSWER).values_list("pk", flat=True))
    comments = thread.filter(kind=Post.Kind.COMMENT).count()
    # Comments on the duplicate itself now comment on the target; every post of the thread moves along.
    thread.filter(parent=duplicate).update(parent=target)
    thread.update(question=target, space=target.space)
    follows = 0
    for follow in Follow.objects.filter(kind=Follow.Kind.QUESTION, question=duplicate):
        if Follow.objects.filter(
            member_id=follow.member_id, kind=Follow.Kind.QUESTION, question=target
        ).exists():
            follow.delete()
        else:
            Follow.objects.filter(pk=follow.pk).update(question=target)
            follows += 1
    Notification.objects.filter(question=duplicate).update(question=target)
    accepted = duplicate.accepted_answer
    if accepted is not None:
        Post.objects.filter(pk=duplicate.pk).update(accepted_answer=None, accepted_at=None)
        if target.accepted_answer_id is None:
            # The acceptance travels with its answer; what it gave stays, keyed to the target from now on.
            Post.objects.filter(pk=target.pk).update(
                accepted_answer=accepted, accepted_at=duplicate.accepted_at
            )
            for source in ("accepted", "accepting"):
                ReputationEvent.objects.filter(
                    brand_id=target.brand_id, source_key=f"{source}:{duplicate.pk}"
                ).update(source_key=f"{source}:{target.pk}")
        else:
            # The target has its own accepted answer: the duplicate's acceptance ends, and what it gave too.
            accept_effects_undo(duplicate, accepted)
    Post.objects.filter(pk=duplicate.pk).update(
        status=Post.Status.MERGED,
        duplicate_of=target,
        merged_at=now,
        closed_at=duplicate.closed_at or now,
        close_reason=(reason or duplicate.close_reason)[:200],
        pinned=False,
    )
    duplicate.refresh_from_db()
    target.refresh_from_db()
    post_index(duplicate)  # out of search: it is no longer published
    for answer in Post.objects.filter(pk__in=answer_ids).select_related("question"):
        post_index(answer)  # found under the target now, with the target's visibility
    thread_recount(duplicate)
    Post.objects.filter(pk=target.pk).update(last_activity_at=now)
    thread_recount(target)
    audit_record(
        brand=target.brand,
        actor=actor,
        action="community.question.merge",
        target_type="post",
        target_id=duplicate.pk,
        data={
            "into": str(target.pk),
            "reason": reason[:200],
            "answers": len(answer_ids),
            "comments": comments,
            "follows": follows,
        },
    )
    pagecache.thread_changed(duplicate)
    pagecache.thread_changed(target)
    target.refresh_from_db()
    return MergeOutcome(
        question=duplicate, into=target, answers=len(answer_ids), comments=comments, follows=follows
    )
