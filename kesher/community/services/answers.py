"""Answering a question, and accepting (or un-accepting) an answer."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from kesher.community import pagecache
from kesher.community.access import reader_member, space_visible
from kesher.community.models import PointsReversal, Post
from kesher.community.services._posts import check_may_post, check_open, lock_question, new_post
from kesher.community.services.authors import Author
from kesher.community.services.follows import notifications_for_accepted
from kesher.community.services.points import accepted_grant, points_grant_again, points_take_back
from kesher.community.services.reputation import badge_give, reputation_give, reputation_take_back
from kesher.core.audit import Actor, audit_record
from kesher.core.errors import Conflict, NotFound, PermissionDenied
from kesher.members.models import Member


@transaction.atomic
def answer_post(*, question: Post, author: Author, body: str) -> Post:
    question = lock_question(question)
    if author.member is not None and not space_visible(question.space, reader_member(author.member)):
        raise NotFound("No such question", code="question_not_found")
    check_open(question)
    return new_post(space=question.space, kind=Post.Kind.ANSWER, author=author, body=body, question=question)


def accept_effects_undo(question: Post, answer: Post) -> None:
    """Undo what accepting `answer` gave: the answerer's reputation and points, the asker's reputation."""
    if answer.author is not None:
        reputation_take_back(member=answer.author, source_key=f"accepted:{question.pk}")
        points_take_back(
            member=answer.author,
            grant=accepted_grant(answer),
            post=answer,
            reason=PointsReversal.Reason.ACCEPTANCE_MOVED,
        )
    if question.author is not None:
        reputation_take_back(member=question.author, source_key=f"accepting:{question.pk}")


@transaction.atomic
def answer_accept(*, answer: Post, member: Member | None = None, staff: Actor | None = None) -> Post:
    """The asker (or staff) marks one answer as the accepted one; accepting another moves the mark."""
    if answer.kind != Post.Kind.ANSWER or answer.question is None:
        raise NotFound("No such answer", code="answer_not_found")
    question = lock_question(answer.question)
    if staff is None:
        if member is None or question.author_id != member.pk:
            raise PermissionDenied("Only the asker or staff accept an answer", code="not_the_asker")
        check_may_post(Author(member=member), question.brand)
    if answer.status != Post.Status.PUBLISHED or question.status != Post.Status.PUBLISHED:
        raise Conflict("Only a published answer can be accepted", code="post_not_published")
    if question.locked:
        raise Conflict("This question is locked", code="question_locked")
    if question.accepted_answer_id == answer.pk:
        return question
    if question.accepted_answer is not None:
        accept_effects_undo(question, question.accepted_answer)
    now = timezone.now()
    Post.objects.filter(pk=question.pk).update(accepted_answer=answer, accepted_at=now, last_activity_at=now)
    question.refresh_from_db()
    accepted_id = answer.pk
    transaction.on_commit(lambda: notifications_for_accepted(answer_id=accepted_id))
    self_answer = answer.author_id is not None and answer.author_id == question.author_id
    if answer.author is not None and not self_answer:
        reputation_give(
            member=answer.author, event="answer_accepted", post=answer, source_key=f"accepted:{question.pk}"
        )
        if staff is None and question.author is not None:
            reputation_give(
                member=question.author,
                event="accepting_answer",
                post=question,
                source_key=f"accepting:{question.pk}",
            )
        # Keyed by the answer and the round: points moved away and back are given again, never twice.
        points_grant_again(member=answer.author, grant=accepted_grant(answer))
        badge_give(answer.author, "first_accepted")
        badge_give(answer.author, "ten_accepted")
    if staff is not None:
        audit_record(
            brand=question.brand,
            actor=staff,
            action="community.answer.accept",
            target_type="post",
            target_id=answer.pk,
            data={"question": str(question.pk)},
        )
    pagecache.thread_changed(question)
    return question


@transaction.atomic
def answer_unaccept(*, question: Post, member: Member | None = None, staff: Actor | None = None) -> Post:
    question = lock_question(question)
    if staff is None and (member is None or question.author_id != member.pk):
        raise PermissionDenied("Only the asker or staff change the accepted answer", code="not_the_asker")
    if question.accepted_answer is None:
        return question
    accept_effects_undo(question, question.accepted_answer)
    Post.objects.filter(pk=question.pk).update(accepted_answer=None, accepted_at=None)
    question.refresh_from_db()
    if staff is not None:
        audit_record(
            brand=question.brand,
            actor=staff,
            action="community.answer.unaccept",
            target_type="post",
            target_id=question.pk,
            data={},
        )
    pagecache.thread_changed(question)
    return question
