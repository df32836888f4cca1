"""Reads of the magazine, always inside one brand; the public sees published articles only."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from django.db.models import QuerySet
from django.urls import reverse

from kesher.brands.models import Brand
from kesher.core.errors import NotFound, ValidationFailed
from kesher.magazine.models import Article, ArticleStatus


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
