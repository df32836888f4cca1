"""Reading the magazine: a member's reading of an article recorded once per page view, as an activity,
and what it teaches about their interests (weights that fade with a half-life)."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from kesher.activity.services import activity_record
from kesher.core.errors import Conflict, NotFound, ValidationFailed
from kesher.magazine.models import Article, ArticleStatus, ReaderInterest, Reading
from kesher.magazine.types import MAX_READING_SECONDS
from kesher.members.models import Member

# An interest read about a month ago counts half as much as one read today.
HALF_LIFE_DAYS = 30.0
# How long a reading must last to count in full; opening the page counts a little by itself.
FULL_READING_SECONDS = 120


def reading_engagement(*, seconds: int, scroll: int) -> float:
    """0.2 for opening the article, up to 0.4 more for time on the page and 0.4 for reading to the end."""
    time_share = min(max(seconds, 0), FULL_READING_SECONDS) / FULL_READING_SECONDS
    return 0.2 + 0.4 * time_share + 0.4 * min(max(scroll, 0), 100) / 100


def decayed(weight: float, since: datetime, now: datetime) -> float:
    days = max((now - since).total_seconds(), 0.0) / 86400
    return weight * 0.5 ** (days / HALF_LIFE_DAYS)


def _clean_numbers(seconds: int, scroll: int) -> tuple[int, int]:
    if seconds < 0:
        raise ValidationFailed("seconds cannot be negative", field="seconds", code="invalid_seconds")
    if not 0 <= scroll <= 100:
        raise ValidationFailed("scroll is a percentage from 0 to 100", field="scroll", code="invalid_scroll")
    return min(seconds, MAX_READING_SECONDS), scroll


def _interests_add(*, member: Member, interests: list[str], amount: float, now: datetime) -> None:
    """Bring each interest's weight up to date and add `amount` to it, row locked."""
    for interest in sorted(set(interests)):  # a fixed order, so two readings lock rows alike
        row = ReaderInterest.objects.select_for_update().filter(member=member, interest=interest).first()
        if row is None:
            try:
                with transaction.atomic():
                    ReaderInterest.objects.create(
                        brand_id=member.brand_id,
                        member=member,
                        interest=interest,
                        weight=amount,
                        updated_at=now,
                    )
                continue
            except IntegrityError:  # a concurrent first reading of the same interest made it
                row = ReaderInterest.objects.select_for_update().get(member=member, interest=interest)
        row.weight = decayed(row.weight, row.updated_at, now) + amount
        row.updated_at = now
        row.save(update_fields=["weight", "updated_at"])


def reading_record(
    *, member: Member, article: Article, reading_id: uuid.UUID, seconds: int, scroll: int
) -> Reading:
    """Record a beacon of one reading. The first beacon of a reading id records the `article_read`
    activity; later ones only raise the seconds and the depth kept (never lower them) and add to the
    interests what the longer reading is worth beyond what was counted already."""
    seconds, scroll = _clean_numbers(seconds, scroll)
    if article.brand_id != member.brand_id or article.status != ArticleStatus.PUBLISHED:
        raise NotFound("No such article", code="article_not_found", field="article")
    now = timezone.now()
    with transaction.atomic():
        created = False
        reading = Reading.objects.select_for_update().filter(pk=reading_id).first()
        if reading is None:
            try:
                with transaction.atomic():
                    reading = Reading.objects.create(
                        id=reading_id,
                        brand_id=member.brand_id,
                        member=member,
                        article=article,
                        seconds=seconds,
                        scroll=scroll,
                        started_at=now,
                        updated_at=now,
                    )
                created = True
            except IntegrityError:  # the same reading's other beacon, at the same instant
                reading = Reading.objects.select_for_update().get(pk=reading_id)
        if reading.member_id != member.pk or reading.article_id != article.pk:
            raise Conflict(
                "This reading id belongs to another reading", code="reading_mismatch", field="reading"
            )
        if created:
            activity_record(
                brand=article.brand,
                member=member,
                type="article_read",
                attributes={
                    "article_id": str(article.pk),
                    "reading_id": str(reading_id),
                    "interests": list(article.interests or [])[:10],
                    "seconds": seconds,
                    "scroll": scroll,
                },
                occurred_at=now,
                source="magazine",
                idempotency_key=f"reading:{reading_id}",
            )
        else:
            reading.seconds = max(reading.seconds, seconds)
            reading.scroll = max(reading.scroll, scroll)
            reading.updated_at = now
        worth = reading_engagement(seconds=reading.seconds, scroll=reading.scroll)
        added = worth - reading.weight
        if added > 0:
            _interests_add(member=member, interests=list(article.interests or []), amount=added, now=now)
            reading.weight = worth
        reading.save(update_fields=["seconds", "scroll", "weight", "updated_at"])
    return reading


def reader_interests_reset(*, member: Member) -> int:
    """Forget what reading taught about the member (their stated interests stay)."""
    deleted, _ = ReaderInterest.objects.filter(member=member).delete()
    return deleted
