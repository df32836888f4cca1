"""Reads of the listening part, always inside one brand: the stream of mentions with its filters (paged
by a cursor), the top voices for good and bad, the connectors."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Max, Q, Sum
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from kesher.brands.models import Brand
from kesher.core.errors import NotFound, ValidationFailed
from kesher.listening.models import AuthorLink, Connector, Mention, Priority, Sentiment
from kesher.members.models import Member

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class MentionPage:
    mentions: list[Mention]
    next_cursor: str | None


def _cursor_encode(mention: Mention) -> str:
    raw = json.dumps([mention.posted_at.isoformat(), str(mention.pk)]).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _cursor_decode(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, pk = json.loads(raw)
        when = parse_datetime(at)
        if when is None:
            raise ValueError
        return when, uuid.UUID(pk)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise ValidationFailed(
            "The cursor is not one this list gave", field="cursor", code="invalid_cursor"
        ) from None


def mention_page(
    *,
    brand: Brand,
    sentiment: str = "",
    topic: str = "",
    source: str = "",
    priority: str = "",
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> MentionPage:
    """The brand's mentions, newest first, filtered; `next_cursor` continues after the last one shown."""
    if sentiment and sentiment not in Sentiment.values:
        raise ValidationFailed("sentiment must be positive, neutral or negative", field="sentiment")
    if priority and priority not in Priority.values:
        raise ValidationFailed("priority must be low, normal, high or urgent", field="priority")
    rows = Mention.objects.filter(brand=brand)
    if sentiment:
        rows = rows.filter(sentiment=sentiment)
    if source:
        rows = rows.filter(source=source.strip().lower())
    if priority:
        rows = rows.filter(priority=priority)
    if topic:
        rows = rows.filter(topics_text__contains=f" {topic.strip().lower()} ")
    if cursor:
        at, pk = _cursor_decode(cursor)
        rows = rows.filter(Q(posted_at__lt=at) | Q(posted_at=at, id__lt=pk))
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    found = list(rows.select_related("member").order_by("-posted_at", "-id")[: limit + 1])
    more = len(found) > limit
    found = found[:limit]
    return MentionPage(mentions=found, next_cursor=_cursor_encode(found[-1]) if more and found else None)


def mention_sources(*, brand: Brand) -> list[str]:
    return sorted(set(Mention.objects.filter(brand=brand).values_list("source", flat=True).distinct()[:100]))


def sentiment_counts(*, brand: Brand, days: int = 30) -> dict[str, int]:
    since = timezone.now() - timedelta(days=days)
    counts = dict(
        Mention.objects.filter(brand=brand, posted_at__gte=since)
        .values_list("sentiment")
        .annotate(n=Count("id"))
        .values_list("sentiment", "n")
    )
    return {label: int(counts.get(label, 0)) for label in Sentiment.values}


@dataclass(frozen=True)
class Voice:
    source: str
    handle: str
    name: str
    followers: int
    mentions: int
    influence: float  # the sum of their mentions' influence, for this side
    member: Member | None


def _voices(brand: Brand, sentiment: str, since: datetime, limit: int) -> list[dict[str, Any]]:
    return list(
        Mention.objects.filter(brand=brand, sentiment=sentiment, posted_at__gte=since)
        .exclude(author_handle="")
        .values("source", "author_handle")
        .annotate(
            name=Max("author_name"),
            followers=Max("author_followers"),
            mentions=Count("id"),
            weight=Sum("influence"),
        )
        .order_by("-weight", "-mentions", "source", "author_handle")[:limit]
    )


def top_voices(*, brand: Brand, days: int = 90, limit: int = 10) -> dict[str, list[Voice]]:
    """Who speaks about the brand with the most weight (their mentions' influence added up) in the last
    `days`: `good` for the positive side, `bad` for the negative; each with their member when known."""
    since = timezone.now() - timedelta(days=days)
    sides = {
        "good": _voices(brand, Sentiment.POSITIVE, since, limit),
        "bad": _voices(brand, Sentiment.NEGATIVE, since, limit),
    }
    handles = {row["author_handle"] for rows in sides.values() for row in rows}
    links = {
        (link.source, link.handle): link.member_id
        for link in AuthorLink.objects.filter(brand=brand, handle__in=handles)
    }
    member_ids = set(links.values())
    for rows in sides.values():
        for row in rows:
            if row["source"] in ("community", "reviews", "surveys"):
                try:  # the brand's own parts name the member by id
                    member_ids.add(uuid.UUID(row["author_handle"]))
                    links[(row["source"], row["author_handle"])] = uuid.UUID(row["author_handle"])
                except ValueError:
                    pass
    members = {m.pk: m for m in Member.objects.filter(brand=brand, pk__in=member_ids)} if member_ids else {}
    return {
        side: [
            Voice(
                source=row["source"],
                handle=row["author_handle"],
                name=row["name"] or "",
                followers=int(row["followers"] or 0),
                mentions=int(row["mentions"]),
                influence=round(float(row["weight"] or 0.0), 1),
                member=members.get(links.get((row["source"], row["author_handle"]))),  # type: ignore[arg-type]
            )
            for row in rows
        ]
        for side, rows in sides.items()
    }


def connector_list(*, brand: Brand) -> list[Connector]:
    return list(Connector.objects.filter(brand=brand).order_by("kind", "created_at", "id"))


def connector_get(*, brand: Brand, connector_id: Any) -> Connector:
    try:
        return Connector.objects.get(brand=brand, pk=connector_id)
    except (Connector.DoesNotExist, ValueError):
        raise NotFound("No such connector", code="connector_not_found") from None


def topic_set_for(*, brand: Brand) -> Any:
    """The brand's topic keywords for the analysis. Stand-in until the brand's own keyword model lands
    (the analysis part's): the default topics."""
    from kesher.listening.analysis.keywords import DEFAULT_TOPIC_SET

    return DEFAULT_TOPIC_SET
