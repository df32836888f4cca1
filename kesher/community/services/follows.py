"""Following questions, tags and spaces, and the notifications followers get."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from kesher.community.access import reader_member, space_visible, visible_posts_q
from kesher.community.models import Follow, Notification, Post, Space, Tag
from kesher.core.errors import NotFound, ValidationFailed
from kesher.members.models import Member, MemberStatus


@transaction.atomic
def follow_set(
    *, member: Member, question: Post | None = None, tag: Tag | None = None, space: Space | None = None
) -> Follow:
    """Follow one question, tag or space the member may see; following twice is the same follow."""
    targets = [target for target in (question, tag, space) if target is not None]
    if len(targets) != 1:
        raise ValidationFailed("follow one question, tag or space", field="target")
    reader = reader_member(member)
    if question is not None:
        visible = (
            question.kind == Post.Kind.QUESTION
            and Post.objects.filter(visible_posts_q(reader), pk=question.pk).exists()
        )
        if not visible:
            raise NotFound("No such question", code="question_not_found")
        follow, _created = Follow.objects.get_or_create(
            member=member,
            kind=Follow.Kind.QUESTION,
            question=question,
            defaults={"brand_id": member.brand_id},
        )
    elif tag is not None:
        if tag.brand_id != member.brand_id:
            raise NotFound("No such tag", code="tag_not_found")
        follow, _created = Follow.objects.get_or_create(
            member=member, kind=Follow.Kind.TAG, tag=tag, defaults={"brand_id": member.brand_id}
        )
    else:
        assert space is not None
        if space.brand_id != member.brand_id or not space_visible(space, reader):
            raise NotFound("No such space", code="space_not_found")
        follow, _created = Follow.objects.get_or_create(
            member=member, kind=Follow.Kind.SPACE, space=space, defaults={"brand_id": member.brand_id}
        )
    return follow


def follow_remove(
    *, member: Member, question: Post | None = None, tag: Tag | None = None, space: Space | None = None
) -> bool:
    follows = Follow.objects.filter(member=member)
    if question is not None:
        follows = follows.filter(kind=Follow.Kind.QUESTION, question=question)
    elif tag is not None:
        follows = follows.filter(kind=Follow.Kind.TAG, tag=tag)
    elif space is not None:
        follows = follows.filter(kind=Follow.Kind.SPACE, space=space)
    else:
        raise ValidationFailed("unfollow one question, tag or space", field="target")
    removed, _ = follows.delete()
    return removed > 0


def _may_see(member: Member, post: Post) -> bool:
    return (
        member.status in (MemberStatus.ACTIVE, MemberStatus.PROSPECT)
        and Post.objects.filter(visible_posts_q(reader_member(member)), pk=post.pk).exists()
    )


def notifications_for_new_answer(*, answer_id: Any) -> int:
    """Tell the asker and whoever follows the question, its tags or its space; only those who may see it."""
    answer = Post.objects.select_related("question", "question__space", "brand").filter(pk=answer_id).first()
    if answer is None or answer.question is None or answer.status != Post.Status.PUBLISHED:
        return 0
    question = answer.question
    follows = Follow.objects.filter(
        Q(kind=Follow.Kind.QUESTION, question=question)
        | Q(kind=Follow.Kind.TAG, tag__in=question.tags.all())
        | Q(kind=Follow.Kind.SPACE, space_id=question.space_id),
        brand_id=answer.brand_id,
    )
    member_ids = set(follows.values_list("member_id", flat=True))
    if question.author_id is not None:
        member_ids.add(question.author_id)
    if answer.author_id is not None:
        member_ids.discard(answer.author_id)
    members = Member.objects.filter(pk__in=member_ids, brand_id=answer.brand_id).select_related("brand")
    rows = [
        Notification(
            brand_id=answer.brand_id,
            member=member,
            kind=Notification.Kind.NEW_ANSWER,
            question=question,
            post=answer,
        )
        for member in members
        if _may_see(member, answer) and _may_see(member, question)
    ]
    return len(Notification.objects.bulk_create(rows, ignore_conflicts=True))


def notifications_for_accepted(*, answer_id: Any) -> int:
    """Tell the answer's author their answer was accepted (not when they accepted their own)."""
    answer = Post.objects.select_related("question", "author", "author__brand").filter(pk=answer_id).first()
    if answer is None or answer.question is None or answer.author is None:
        return 0
    if answer.question.accepted_answer_id != answer.pk or answer.question.author_id == answer.author_id:
        return 0
    if not (_may_see(answer.author, answer) and _may_see(answer.author, answer.question)):
        return 0
    created = Notification.objects.bulk_create(
        [
            Notification(
                brand_id=answer.brand_id,
                member=answer.author,
                kind=Notification.Kind.ANSWER_ACCEPTED,
                question=answer.question,
                post=answer,
            )
        ],
        ignore_conflicts=True,
    )
    return len(created)


def notifications_mark_read(*, member: Member, notification_ids: list[Any] | None = None) -> int:
    """Mark the member's own notifications read: the listed ones, or all of them."""
    unread = Notification.objects.filter(member=member, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=notification_ids)
    return unread.update(read_at=timezone.now())
