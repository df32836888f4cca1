"""Asking a question, and counting the views of one."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from kesher.community.access import reader_member, space_visible
from kesher.community.models import Post, Space
from kesher.community.services._posts import clean_tags, clean_title, new_post
from kesher.community.services.authors import Author
from kesher.community.services.reputation import POPULAR_QUESTION_VIEWS, badge_give
from kesher.core.errors import NotFound, PermissionDenied

VIEW_FLUSH_EVERY = 10  # counted views are written to the database in batches, not on every page view


@transaction.atomic
def question_ask(
    *, space: Space, author: Author, title: str, body: str, tags: list[str] | None = None
) -> Post:
    """Ask in a space the author may see. Spam suspicions hold the question for review."""
    if author.member is not None and not space_visible(space, reader_member(author.member)):
        raise NotFound("No such space", code="space_not_found", field="space")
    if space.kind == Space.Kind.ANNOUNCEMENTS and not author.by_brand:
        raise PermissionDenied("Only the brand posts in announcements", code="announcements_only")
    return new_post(
        space=space, kind=Post.Kind.QUESTION, author=author, title=clean_title(title), body=body,
        tags=clean_tags(tags or []),
    )  # fmt: skip


def question_view_register(*, question: Post, viewer: str) -> bool:
    """Count a viewer (a member id, or a hash of an anonymous session) once a day; write in batches."""
    day = timezone.localdate().isoformat()
    if not cache.add(f"cview:{question.pk}:{viewer}:{day}", 1, timeout=26 * 3600):
        return False
    pending_key = f"cview-pending:{question.pk}"
    cache.add(pending_key, 0, timeout=None)
    try:
        pending = cache.incr(pending_key)
    except ValueError:
        cache.set(pending_key, 1, timeout=None)
        pending = 1
    if pending >= VIEW_FLUSH_EVERY:
        question_views_flush(question_id=question.pk)
    return True


def question_views_flush(*, question_id: Any) -> int:
    """Move counted views from the cache to the database row; safe to run any time."""
    pending_key = f"cview-pending:{question_id}"
    pending = int(cache.get(pending_key) or 0)
    if pending <= 0:
        return 0
    try:
        cache.decr(pending_key, pending)
    except ValueError:
        return 0
    Post.objects.filter(pk=question_id).update(view_count=F("view_count") + pending)
    question = Post.objects.filter(pk=question_id).select_related("author").first()
    if question is not None and question.author is not None and question.view_count >= POPULAR_QUESTION_VIEWS:
        badge_give(question.author, "popular_question", str(question.pk))
    return pending
