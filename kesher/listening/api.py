"""The listening part's API calls, mounted at /api/v1 by kesher/api/api.py: taking a mention in (once per
source and external id: the same again answers 200 with the first answer) and the stream of mentions.

Both need the `manage` scope: a mention names people and the stream is the brand's view of them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import StringConstraints

from kesher.api.auth import brand_of, require_scope
from kesher.api.common import ERRORS, StrictInput, idempotent
from kesher.listening import selectors, services
from kesher.listening.models import Mention

router = Router()

Handle = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


class MentionAuthorIn(StrictInput):
    handle: Handle = ""
    name: Handle = ""
    followers: int | None = Field(None, ge=0, le=10**15)
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254)] = Field(
        "", description="links the author to the member with this email"
    )
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] = Field(
        "", description="links the author to the member with this phone number"
    )


class MentionPostIn(StrictInput):
    source: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)] = Field(
        ...,
        description="where it was said: twitter, facebook, instagram, a forum's name…",
        examples=["twitter"],
    )
    external_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    url: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""
    author: MentionAuthorIn = Field(default_factory=MentionAuthorIn)  # type: ignore[arg-type]
    text: Annotated[str, StringConstraints(min_length=1, max_length=10_000)]
    posted_at: datetime
    shares: int = Field(0, ge=0, le=10**15)
    engagement: int = Field(0, ge=0, le=10**15, description="likes, comments and reactions")
    language: Annotated[str, StringConstraints(strip_whitespace=True, max_length=8)] = ""
    in_reply_to: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = Field(
        "", description="the external_id of the mention this one replies to (same source)"
    )


class MentionAnswerOut(Schema):
    id: UUID
    sentiment: str = Field(..., description="positive, neutral or negative")
    topics: list[str]
    priority: str = Field(..., description="low, normal, high or urgent")
    case_id: UUID | None = Field(
        None, description="the service inbox's case, when the mention needs an answer"
    )


class MentionAuthorOut(Schema):
    handle: str
    name: str
    followers: int | None
    member_id: UUID | None


class MentionOut(MentionAnswerOut):
    source: str
    external_id: str
    url: str
    author: MentionAuthorOut
    text: str
    language: str
    posted_at: datetime
    score: float
    urgent: list[str]
    influence: float
    shares: int
    engagement: int
    in_reply_to: str


class MentionPageOut(Schema):
    items: list[MentionOut]
    next_cursor: str | None


def _answer(mention: Mention) -> dict[str, Any]:
    return {
        "id": str(mention.pk),
        "sentiment": mention.sentiment,
        "topics": list(mention.topics),
        "priority": mention.priority,
        "case_id": str(mention.case_id) if mention.case_id else None,
    }


def _mention_out(mention: Mention) -> dict[str, Any]:
    return {
        **_answer(mention),
        "source": mention.source,
        "external_id": mention.external_id,
        "url": mention.url,
        "author": {
            "handle": mention.author_handle,
            "name": mention.author_name,
            "followers": mention.author_followers,
            "member_id": mention.member_id,
        },
        "text": mention.text,
        "language": mention.language,
        "posted_at": mention.posted_at,
        "score": mention.score,
        "urgent": list(mention.urgent),
        "influence": mention.influence,
        "shares": mention.shares,
        "engagement": mention.engagement,
        "in_reply_to": mention.parent_external_id,
    }


@router.post(
    "/mentions",
    response={200: MentionAnswerOut, 201: MentionAnswerOut, **ERRORS},
    summary="Take a mention in: 201 with its analysis and case; the same source and external_id again, "
    "200 with the first answer (manage)",
)
def post_mention(request: HttpRequest, payload: MentionPostIn) -> Status[Any]:
    require_scope(request, "manage")
    brand = brand_of(request)

    def perform() -> tuple[int, Any]:
        item = services.mention_clean(
            services.MentionIn(
                source=payload.source,
                external_id=payload.external_id,
                text=payload.text,
                posted_at=payload.posted_at,
                url=payload.url,
                author_handle=payload.author.handle,
                author_name=payload.author.name,
                author_followers=payload.author.followers,
                shares=payload.shares,
                engagement=payload.engagement,
                language=payload.language,
                parent_external_id=payload.in_reply_to,
                author_email=payload.author.email,
                author_phone=payload.author.phone,
            )
        )
        result = services.mentions_ingest(brand=brand, items=[item])
        mention = result.mentions[0]
        return (201 if result.is_new(mention) else 200), _answer(mention)

    return idempotent(request, payload.model_dump(mode="json"), perform)


@router.get(
    "/mentions",
    response={200: MentionPageOut, **ERRORS},
    summary="The brand's mentions, newest first, by sentiment, topic, source or priority (manage)",
)
def list_mentions(
    request: HttpRequest,
    sentiment: str = "",
    topic: str = "",
    source: str = "",
    priority: str = "",
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,  # type: ignore[type-arg]
) -> dict[str, Any]:
    require_scope(request, "manage")
    page = selectors.mention_page(
        brand=brand_of(request),
        sentiment=sentiment,
        topic=topic,
        source=source,
        priority=priority,
        cursor=cursor,
        limit=limit,
    )
    return {"items": [_mention_out(m) for m in page.mentions], "next_cursor": page.next_cursor}
