"""Reads of the magazine, always inside one brand; the public sees published articles only."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from kesher.brands.models import Brand
from kesher.core.errors import NotFound, ValidationFailed
from kesher.magazine.models import Article, ArticleStatus, ReaderInterest, Reading
from kesher.members.models import Member

# How many of the newest articles the reader's order is chosen from (older ones follow, newest first).
READER_CANDIDATES = 200
# An article a fortnight old is half as fresh as one out today.
FRESHNESS_HALF_LIFE_DAYS = 14.0
READING_HALF_LIFE_DAYS = 30.0  # as kesher.magazine.reading.HALF_LIFE_DAYS


def magazine_path(brand: Brand) -> str:
    return reverse("magazine:index", args=[brand.slug])


def article_path(article: Article) -> str:
    return reverse("magazine:article", args=[article.brand.slug, article.slug])


def articles_published(*, brand: Brand, locale: str | None = None) -> QuerySet[Article]:
    """What the portal shows, newest first."""
    articles = Article.objects.filter(brand=brand, status=ArticleStatus.PUBLISHED)
    if locale:
        articles = articles.filter(locale=locale)
    return articles.select_related("brand").order_by("-published_at", "-created_at")


def article_public_get(*, brand: Brand, slug: str) -> Article:
    article = (
        Article.objects.select_related("brand", "author")
        .filter(brand=brand, slug=slug, status=ArticleStatus.PUBLISHED)
        .first()
    )
    if article is None:
        raise NotFound("No such article", code="article_not_found")
    return article


def article_list(*, brand: Brand, status: str | None = None, limit: int = 200) -> list[Article]:
    """Every article of the brand for staff, the latest changed first."""
    articles = Article.objects.filter(brand=brand).select_related("brand")
    if status:
        if status not in ArticleStatus.values:
            raise ValidationFailed("status must be draft or published", field="status")
        articles = articles.filter(status=status)
    return list(articles.order_by("-updated_at", "-pk")[:limit])


def article_get(*, brand: Brand, article_id: uuid.UUID | str) -> Article:
    try:
        return Article.objects.select_related("brand", "author").get(
            brand=brand, pk=uuid.UUID(str(article_id))
        )
    except (ValueError, Article.DoesNotExist):
        raise NotFound(f"No article with id {article_id}", code="article_not_found") from None


def issue_articles(*, brand: Brand, article_ids: Sequence[uuid.UUID | str]) -> list[Article]:
    """The picked articles in the order given; each must be the brand's and published."""
    wanted: list[uuid.UUID] = []
    for raw in article_ids:
        try:
            article_id = uuid.UUID(str(raw))
        except ValueError:
            raise ValidationFailed(f"{raw!r} is not an article id", field="articles") from None
        if article_id not in wanted:
            wanted.append(article_id)
    found = {
        article.pk: article
        for article in Article.objects.select_related("brand").filter(brand=brand, pk__in=wanted)
    }
    missing = [str(article_id) for article_id in wanted if article_id not in found]
    if missing:
        raise NotFound(f"No article with id {missing[0]}", field="articles", code="article_not_found")
    drafts = [
        found[article_id] for article_id in wanted if found[article_id].status != ArticleStatus.PUBLISHED
    ]
    if drafts:
        raise ValidationFailed(f"{drafts[0].title!r} is not published", field="articles")
    return [found[article_id] for article_id in wanted]


def interest_weights(*, member: Member, now: datetime | None = None) -> dict[str, float]:
    """What reading taught about the member: each interest's weight today, the strongest scaled to 1."""
    now = now or timezone.now()
    weights: dict[str, float] = {}
    for interest, weight, updated_at in ReaderInterest.objects.filter(member=member).values_list(
        "interest", "weight", "updated_at"
    ):
        days = max((now - updated_at).total_seconds(), 0.0) / 86400
        weights[interest] = weight * 0.5 ** (days / READING_HALF_LIFE_DAYS)
    strongest = max(weights.values(), default=0.0)
    if strongest <= 0:
        return {}
    return {interest: round(weight / strongest, 4) for interest, weight in weights.items()}


def read_article_ids(*, member: Member, article_ids: Sequence[uuid.UUID] | None = None) -> set[uuid.UUID]:
    readings = Reading.objects.filter(member=member)
    if article_ids is not None:
        readings = readings.filter(article_id__in=list(article_ids))
    return set(readings.values_list("article_id", flat=True).distinct())


def article_reader_score(
    article: Article, *, stated: set[str], learned: dict[str, float], now: datetime
) -> float:
    """Interest first (a stated interest counts 1, a learned one its weight up to 1, twice over), then
    freshness (1 today, halving every fortnight)."""
    interest = sum((1.0 if tag in stated else 0.0) + learned.get(tag, 0.0) for tag in article.interests or [])
    published = article.published_at or article.created_at
    age_days = max((now - published).total_seconds(), 0.0) / 86400
    return 2 * interest + 0.5 ** (age_days / FRESHNESS_HALF_LIFE_DAYS)


def articles_for_reader(
    *,
    brand: Brand,
    member: Member | None,
    interests: Sequence[str] | None = None,
    learned: dict[str, float] | None = None,
    only_unread: bool = False,
) -> QuerySet[Article] | list[Article]:
    """The magazine in the reader's order: unread before read, then by their interests (stated and
    learned from reading) and freshness. Anyone else (and a member of another brand) gets the editorial
    order, newest first, as a query a page can slice. For a member, three queries: the articles, the
    readings among them, the learned weights."""
    published = articles_published(brand=brand)
    if member is None or member.brand_id != brand.pk:
        return published
    now = timezone.now()
    candidates = list(published[:READER_CANDIDATES])
    read = read_article_ids(member=member, article_ids=[article.pk for article in candidates])
    stated = set(member.interests if interests is None else interests)
    if learned is None:
        learned = interest_weights(member=member, now=now)
    scored = sorted(
        candidates,
        key=lambda article: (
            article.pk in read,
            -article_reader_score(article, stated=stated, learned=learned, now=now),
        ),
    )
    if only_unread:
        return [article for article in scored if article.pk not in read]
    if len(candidates) == READER_CANDIDATES:
        scored += list(published[READER_CANDIDATES:])
    return scored


def brand_topics(*, brand: Brand, limit: int = 40) -> list[str]:
    """The interests the brand's published articles are about, the most written about first."""
    counts: dict[str, int] = {}
    for tags in Article.objects.filter(brand=brand, status=ArticleStatus.PUBLISHED).values_list(
        "interests", flat=True
    )[:1000]:
        for tag in tags or []:
            counts[tag] = counts.get(tag, 0) + 1
    return [tag for tag, _count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))][:limit]
