"""Reading the brand's own parts as mentions: community posts, published reviews and survey verbatims,
through those parts' selectors, from the connector's cursor (the time and id of the last one read).

Each run looks back LOOKBACK before the cursor: a post whose transaction committed late (published a
moment before one already read) is still met, and what was read before is dropped by the mentions' key.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.urls import reverse
from django.utils.dateparse import parse_datetime

from kesher.brands.models import Brand
from kesher.community.selectors import posts_published_after
from kesher.listening.services.ingest import MentionIn
from kesher.reviews.selectors import reviews_published_after
from kesher.surveys.selectors import verbatims_after

LOOKBACK = timedelta(minutes=2)
PAGE = 500


def _since(cursor: dict[str, Any]) -> datetime | None:
    at = parse_datetime(str(cursor.get("at") or ""))
    return at - LOOKBACK if at is not None else None


def _community_page(
    brand: Brand, since: datetime | None, after: Any
) -> tuple[list[MentionIn], list[tuple[datetime, Any]]]:
    posts = posts_published_after(brand=brand, since=since, after_id=after, limit=PAGE)
    items, marks = [], []
    for post in posts:
        assert post.published_at is not None
        author = post.author
        thread = post.question_id or post.pk
        items.append(
            MentionIn(
                source="community",
                external_id=str(post.pk),
                text=(f"{post.title}\n{post.body}" if post.title else post.body)[:10_000],
                posted_at=post.published_at,
                url=reverse("community:question_short", args=[brand.slug, thread]),
                author_handle=str(author.pk) if author else "",
                author_name=(author.full_name if author else "")[:200],
                parent_external_id=str(post.parent_id or post.question_id or ""),
                member_id=author.pk if author else None,
            )
        )
        marks.append((post.published_at, post.pk))
    return items, marks


def _reviews_page(
    brand: Brand, since: datetime | None, after: Any
) -> tuple[list[MentionIn], list[tuple[datetime, Any]]]:
    reviews = reviews_published_after(brand=brand, since=since, after_id=after, limit=PAGE)
    items, marks = [], []
    for review in reviews:
        assert review.published_at is not None
        named = not review.anonymous
        items.append(
            MentionIn(
                source="reviews",
                external_id=str(review.pk),
                text="\n".join(
                    part for part in (review.title, review.body, review.pros, review.cons) if part
                )[:10_000],
                posted_at=review.published_at,
                url=reverse("reviews:product", args=[brand.slug, review.sku]) if review.sku else "",
                author_handle=str(review.member_id) if named and review.member_id else "",
                author_name=review.author_name if named else "",
                language=review.locale[:2],
                member_id=review.member_id if named else None,
            )
        )
        marks.append((review.published_at, review.pk))
    return items, marks


def _surveys_page(
    brand: Brand, since: datetime | None, after: Any
) -> tuple[list[MentionIn], list[tuple[datetime, Any]]]:
    answers = verbatims_after(brand=brand, since=since, after_id=after, limit=PAGE)
    items, marks = [], []
    for answer in answers:
        response = answer.response
        items.append(
            MentionIn(
                source="surveys",
                external_id=f"answer:{answer.pk}",
                text=answer.text[:10_000],
                posted_at=response.created_at,
                author_handle=str(response.member_id) if response.member_id else "",
                language=response.locale,
                member_id=response.member_id,
            )
        )
        marks.append((response.created_at, answer.pk))
    return items, marks


READERS: dict[
    str, Callable[[Brand, datetime | None, Any], tuple[list[MentionIn], list[tuple[datetime, Any]]]]
] = {
    "community": _community_page,
    "reviews": _reviews_page,
    "surveys": _surveys_page,
}


def internal_pages(*, brand: Brand, kind: str, cursor: dict[str, Any]):  # type: ignore[no-untyped-def]
    """Pages of mentions from the cursor on, each with the cursor to keep once it is taken in."""
    read = READERS[kind]
    since, after = _since(cursor), None
    while True:
        items, marks = read(brand, since, after)
        if not marks:
            return
        last_at, last_id = marks[-1]
        yield items, {"at": last_at.isoformat(), "id": str(last_id)}
        if len(marks) < PAGE:
            return
        since, after = last_at, (int(last_id) if isinstance(last_id, int) else uuid.UUID(str(last_id)))
