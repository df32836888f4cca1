"""Voting on a post."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from kesher.community import pagecache
from kesher.community.access import reader_member, space_visible
from kesher.community.models import Post, Vote
from kesher.community.services._posts import check_may_post, require_privilege
from kesher.community.services.authors import Author
from kesher.community.services.reputation import (
    GOOD_QUESTION_SCORE,
    badge_give,
    reputation_give,
    reputation_take_back,
)
from kesher.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from kesher.members.models import Member


@transaction.atomic
def vote_cast(*, post: Post, member: Member, value: int) -> Post:
    """One vote per member per post, never on one's own; +1, -1, or 0 to take it back."""
    if value not in (-1, 0, 1):
        raise ValidationFailed("value must be 1, -1 or 0", field="value")
    if post.brand_id != member.brand_id or not space_visible(post.space, reader_member(member)):
        raise NotFound("No such post", code="post_not_found")
    if post.kind == Post.Kind.COMMENT:
        raise ValidationFailed("comments are not voted on", field="post")
    if post.status != Post.Status.PUBLISHED:
        raise Conflict("This post is not published", code="post_not_published")
    if post.author_id == member.pk:
        raise PermissionDenied("Nobody votes on their own post", code="own_post")
    check_may_post(Author(member=member), post.brand)
    if value == 1:
        require_privilege(member, "vote_up")
    elif value == -1:
        require_privilege(member, "vote_down")
    locked = Post.objects.select_for_update().get(pk=post.pk)
    existing = Vote.objects.filter(post=locked, member=member).first()
    old = existing.value if existing is not None else 0
    if old == value:
        return locked
    source_key = f"vote:{post.pk}:{member.pk}"
    author = locked.author
    if author is not None and old != 0:
        reputation_take_back(member=author, source_key=source_key)
    if value == 0:
        assert existing is not None
        existing.delete()
    elif existing is not None:
        existing.value = value
        existing.save(update_fields=["value", "updated_at"])
    else:
        Vote.objects.create(brand_id=post.brand_id, post=locked, member=member, value=value)
    Post.objects.filter(pk=locked.pk).update(
        score=F("score") + (value - old),
        upvotes=F("upvotes") + int(value == 1) - int(old == 1),
        downvotes=F("downvotes") + int(value == -1) - int(old == -1),
    )
    if author is not None and value != 0:
        event = "post_downvoted" if value == -1 else f"{locked.kind}_upvoted"
        reputation_give(member=author, event=event, post=locked, source_key=source_key)
    locked.refresh_from_db()
    if author is not None and locked.kind == Post.Kind.QUESTION and locked.score >= GOOD_QUESTION_SCORE:
        badge_give(author, "good_question", str(locked.pk))
    pagecache.thread_changed(locked)
    return locked
