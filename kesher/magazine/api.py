"""The magazine over the API, mounted under /api/v1/magazine (manage scope): write and list articles."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import StringConstraints

from kesher.api.auth import actor_of, brand_of, require_scope
from kesher.api.common import ERRORS, StrictInput, idempotent
from kesher.magazine import selectors, services
from kesher.magazine.models import Article

router = Router()


class ArticleIn(StrictInput):
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    body: Annotated[str, StringConstraints(min_length=1, max_length=services.MAX_BODY)] = Field(
        ..., description="Markdown; rendered and sanitised on the server"
    )
    summary: Annotated[str, StringConstraints(max_length=300)] = ""
    slug: Annotated[str, StringConstraints(max_length=120)] = Field(
        "", description="The article's address; empty: made from the title. Hebrew allowed"
    )
    locale: Literal["he", "en"] | None = Field(None, description="Empty: the brand's language")
    interests: list[Annotated[str, StringConstraints(max_length=50)]] = Field(
        default_factory=list, max_length=services.MAX_INTERESTS, description="Member interests it is for"
    )
    status: Literal["draft", "published"] = "draft"


class ArticleOut(Schema):
    id: UUID
    title: str
    slug: str
    summary: str
    body: str
    body_html: str
    locale: str
    interests: list[str]
    status: str
    published_at: datetime | None
    url: str
    created_at: datetime
    updated_at: datetime


def _out(request: HttpRequest, article: Article) -> dict[str, Any]:
    return {
        "id": article.pk,
        "title": article.title,
        "slug": article.slug,
        "summary": article.summary,
        "body": article.body,
        "body_html": article.body_html,
        "locale": article.locale,
        "interests": article.interests,
        "status": article.status,
        "published_at": article.published_at,
        "url": request.build_absolute_uri(selectors.article_path(article)),
        "created_at": article.created_at,
        "updated_at": article.updated_at,
    }


@router.post("/articles", response={201: ArticleOut, **ERRORS}, summary="Write an article (manage)")
def create_article(request: HttpRequest, payload: ArticleIn) -> Status[Any]:
    require_scope(request, "manage")
    brand = brand_of(request)

    def perform() -> tuple[int, Any]:
        article = services.article_create(
            brand=brand,
            title=payload.title,
            body=payload.body,
            summary=payload.summary,
            slug=payload.slug,
            locale=payload.locale,
            interests=payload.interests,
            publish=payload.status == "published",
            actor=actor_of(request),
        )
        return 201, ArticleOut.model_validate(_out(request, article)).model_dump(mode="json")

    return idempotent(request, payload.model_dump(mode="json"), perform)


@router.get("/articles", response={200: list[ArticleOut], **ERRORS}, summary="The brand's articles (manage)")
def list_articles(
    request: HttpRequest,
    status: Literal["draft", "published"] | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,  # type: ignore[type-arg]
) -> list[dict[str, Any]]:
    require_scope(request, "manage")
    articles = selectors.article_list(brand=brand_of(request), status=status, limit=max(1, min(limit, 200)))
    return [_out(request, article) for article in articles]
