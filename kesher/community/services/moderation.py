"""Moderation: flags, hiding and restoring posts, suspending members, closing and locking questions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from kesher.community import pagecache
from kesher.community.access import Reader, reader_member, space_visible
from kesher.community.models import CommunityProfile, Flag, PointsReversal, Post
from kesher.community.services._posts import (
    check_may_post,
    on_publish,
    post_index,
    require_privilege,
    thread_recount,
)
from kesher.community.services.authors import Author
from kesher.community.services.defaults import profile_of
from kesher.community.services.points import points_give_back, points_take_back, post_grants
from kesher.community.services.reputation import reputation_give, reputation_take_back
from kesher.core.audit import SYSTEM, Actor, audit_record
from kesher.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from kesher.members.models import Member

FLAGS_TO_HOLD = 3  # open flags from different members that take a post out of view until reviewed


@transaction.atomic
def flag_create(*, post: Post, reporter: Member, reason: str, note: str = "") -> Flag:
    if reason not in Flag.Reason.values:
        raise ValidationFailed(f"reason must be one of {', '.join(Flag.Reason.values)}", field="reason")
    if post.brand_id != reporter.brand_id or not space_visible(post.space, reader_member(reporter)):
        raise NotFound("No such post", code="post_not_found")
    if post.author_id == reporter.pk:
        raise PermissionDenied("Nobody flags their own post", code="own_post")
    check_may_post(Author(member=reporter), post.brand)
    require_privilege(reporter, "flag")
    if Flag.objects.filter(post=post, reporter=reporter, status=Flag.Status.OPEN).exists():
        raise Conflict("You already flagged this post", code="already_flagged")
    flag = Flag.objects.create(
        brand_id=post.brand_id, post=post, reporter=reporter, reason=reason, note=note[:500]
    )
    open_flags = Flag.objects.filter(post=post, status=Flag.Status.OPEN).count()
    if open_flags >= FLAGS_TO_HOLD and post.status == Post.Status.PUBLISHED:
        Post.objects.filter(pk=post.pk).update(status=Post.Status.HELD, hold_reasons=["flagged"])
        post.refresh_from_db()
        _after_status_change(post)
        audit_record(
            brand=post.brand,
            actor=SYSTEM,
            action="community.post.hold",
            target_type="post",
            target_id=post.pk,
            data={"reason": "flagged", "open_flags": open_flags},
        )
    pagecache.thread_changed(post)
    return flag


def _after_status_change(post: Post) -> None:
    post_index(post)
    thread_recount(post)


def _moderate(post: Post, *, status: str, actor: Actor, action: str, data: dict[str, Any]) -> Post:
    locked = Post.objects.select_for_update().get(pk=post.pk)
    before = locked.status
    Post.objects.filter(pk=locked.pk).update(
        status=status, hold_reasons=[] if status != "held" else locked.hold_reasons
    )
    locked.refresh_from_db()
    audit_record(
        brand=locked.brand,
        actor=actor,
        action=action,
        target_type="post",
        target_id=locked.pk,
        data={"before": before, "after": status, **data},
    )
    pagecache.thread_changed(locked)
    return locked


@transaction.atomic
def post_hide(*, post: Post, actor: Actor, reason: str = "", spam: bool = False) -> Post:
    """A moderator hides a post; as spam it also costs the author reputation and upholds spam flags."""
    hidden = _moderate(
        post,
        status=Post.Status.HIDDEN,
        actor=actor,
        action="community.post.hide",
        data={"reason": reason, "spam": spam},
    )
    Flag.objects.filter(post=hidden, status=Flag.Status.OPEN).update(
        status=Flag.Status.UPHELD, resolved_at=timezone.now()
    )
    if spam and hidden.author is not None:
        reputation_give(
            member=hidden.author, event="spam_removed", post=hidden, source_key=f"spam:{hidden.pk}"
        )
        for grant in post_grants(hidden, accepted=True):
            points_take_back(
                member=hidden.author, grant=grant, post=hidden, reason=PointsReversal.Reason.SPAM, actor=actor
            )
    _after_status_change(hidden)
    return hidden


@transaction.atomic
def post_restore(*, post: Post, actor: Actor, reason: str = "") -> Post:
    """Publish a held post or bring back a hidden one; a spam penalty is given back."""
    restored = _moderate(
        post,
        status=Post.Status.PUBLISHED,
        actor=actor,
        action="community.post.restore",
        data={"reason": reason},
    )
    Flag.objects.filter(post=restored, status=Flag.Status.OPEN).update(
        status=Flag.Status.DISMISSED, resolved_at=timezone.now()
    )
    if restored.author is not None:
        reputation_take_back(member=restored.author, source_key=f"spam:{restored.pk}")
        for grant in post_grants(restored, accepted=True):
            points_give_back(member=restored.author, grant=grant, reason=PointsReversal.Reason.SPAM)
    _after_status_change(restored)
    on_publish(restored)
    return restored


@transaction.atomic
def post_delete(*, post: Post, actor: Actor, reason: str = "") -> Post:
    deleted = _moderate(
        post, status=Post.Status.DELETED, actor=actor, action="community.post.delete", data={"reason": reason}
    )
    _after_status_change(deleted)
    return deleted


@transaction.atomic
def flag_dismiss(*, flag: Flag, actor: Actor) -> Flag:
    Flag.objects.filter(pk=flag.pk, status=Flag.Status.OPEN).update(
        status=Flag.Status.DISMISSED, resolved_at=timezone.now()
    )
    audit_record(
        brand=flag.post.brand,
        actor=actor,
        action="community.flag.dismiss",
        target_type="flag",
        target_id=flag.pk,
        data={"post": str(flag.post_id)},
    )
    flag.refresh_from_db()
    return flag


@transaction.atomic
def member_suspend(
    *, member: Member, until: datetime | None, actor: Actor, reason: str = ""
) -> CommunityProfile:
    """Suspend a member from posting, voting and flagging until a time (None lifts a suspension)."""
    profile = profile_of(member)
    CommunityProfile.objects.filter(pk=profile.pk).update(suspended_until=until)
    audit_record(
        brand=member.brand,
        actor=actor,
        action="community.member.suspend" if until else "community.member.unsuspend",
        target_type="member",
        target_id=member.pk,
        data={"until": until.isoformat() if until else None, "reason": reason},
    )
    profile.refresh_from_db()
    return profile


QUESTION_STATES = ("close", "reopen", "lock", "unlock", "pin", "unpin")


@transaction.atomic
def question_state_set(
    *, question: Post, action: str, actor: Actor, reason: str = "", duplicate_of: Post | None = None
) -> Post:
    """Close (or close as a duplicate), reopen, lock, unlock, pin or unpin a question."""
    if question.kind != Post.Kind.QUESTION:
        raise NotFound("No such question", code="question_not_found")
    if action not in QUESTION_STATES:
        raise ValidationFailed(f"action must be one of {', '.join(QUESTION_STATES)}", field="action")
    changes: dict[str, Any] = {}
    if action == "close":
        if duplicate_of is not None and (
            duplicate_of.pk == question.pk or duplicate_of.brand_id != question.brand_id
        ):
            raise ValidationFailed(
                "a question duplicates another question of the brand", field="duplicate_of"
            )
        changes = {"closed_at": timezone.now(), "close_reason": reason[:200], "duplicate_of": duplicate_of}
    elif action == "reopen":
        changes = {"closed_at": None, "close_reason": "", "duplicate_of": None}
    else:
        changes = (
            {"locked": action == "lock"} if action in ("lock", "unlock") else {"pinned": action == "pin"}
        )
    Post.objects.filter(pk=question.pk).update(**changes)
    audit_record(
        brand=question.brand,
        actor=actor,
        action=f"community.question.{action}",
        target_type="post",
        target_id=question.pk,
        data={"reason": reason, "duplicate_of": str(duplicate_of.pk) if duplicate_of else None},
    )
    question.refresh_from_db()
    pagecache.thread_changed(question)
    return question


def reader_may_moderate(reader: Reader) -> bool:
    return reader.is_staff
