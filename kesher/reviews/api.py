"""The reviews part's API operations (mounted at /api/v1 by kesher/api/api.py): writing and reading
reviews, a product's rating, helpful votes, the brand's reply and moderation, and the gallery.

Reads with a key without the `manage` scope see published reviews only; a key of another brand finds
nothing of this brand (404)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from django.core.files.storage import default_storage
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import StringConstraints

from kesher.api.auth import actor_of, brand_of, key_of, require_scope
from kesher.api.common import ERRORS, idempotent
from kesher.api.common import StrictInput as Strict
from kesher.members.selectors import member_get
from kesher.reviews import selectors, services
from kesher.reviews.models import GalleryItem, Review

router = Router()

Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
INCENTIVE_DISCLOSURE = "Written in return for points"


class ReviewIn(Strict):
    member_id: UUID
    sku: Short = Field("", description="The product reviewed; or leave out and name the store")
    store: Short = Field("", description="For a review of service: the store or branch")
    rating: int = Field(ge=1, le=5)
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
    pros: Annotated[str, StringConstraints(max_length=500)] = ""
    cons: Annotated[str, StringConstraints(max_length=500)] = ""
    anonymous: bool = False


class ReplyOut(Schema):
    body: str
    at: datetime


class ReviewOut(Schema):
    id: UUID
    kind: str
    sku: str
    store: str
    member_id: UUID | None = Field(description="Null for an anonymous or erased author")
    author: str
    rating: int
    title: str
    body: str
    pros: str
    cons: str
    status: str
    verified_purchase: bool
    labels: list[str] = Field(description="verified_buyer or verified_member, anonymous, incentivised")
    disclosure: str | None = Field(description="How the review was collected, when it was incentivised")
    helpful_count: int
    reply: ReplyOut | None
    signals: list[str] = Field(description="Authenticity signals (manage scope only)")
    reject_reason: str
    created_at: datetime


class ReviewPageOut(Schema):
    items: list[ReviewOut]
    page: int
    has_next: bool


class RatingOut(Schema):
    count: int
    average: float | None
    distribution: dict[str, int]


class ReviewMemberIn(Strict):
    member_id: UUID


class HelpfulOut(Schema):
    review_id: UUID
    helpful_count: int


class ReviewReplyIn(Strict):
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=3000)]


class ReviewModerationIn(Strict):
    action: Literal["approve", "reject"]
    reason: Literal["abuse", "personal_data", "off_topic", "spam", ""] = Field(
        "", description="Required to reject; a review is never rejected for being negative"
    )


class GalleryOut(Schema):
    id: UUID
    kind: str
    sku: str
    title: str
    story: str
    image_url: str | None
    author: str
    like_count: int
    featured: bool
    created_at: datetime


class LikeOut(Schema):
    item_id: UUID
    like_count: int


def labels_of(review: Review) -> list[str]:
    labels = ["verified_buyer" if review.verified_purchase else "verified_member"]
    if review.anonymous or review.member_id is None:
        labels.append("anonymous")
    if review.incentivised:
        labels.append("incentivised")
    return labels


def review_out(review: Review, *, staff: bool) -> dict[str, Any]:
    hidden = review.anonymous or review.member_id is None
    return {
        "id": review.pk,
        "kind": review.kind,
        "sku": review.sku,
        "store": review.subject,
        "member_id": None if hidden else review.member_id,
        "author": review.author_name,
        "rating": review.rating,
        "title": review.title,
        "body": review.body,
        "pros": review.pros,
        "cons": review.cons,
        "status": review.status,
        "verified_purchase": review.verified_purchase,
        "labels": labels_of(review),
        "disclosure": INCENTIVE_DISCLOSURE if review.incentivised else None,
        "helpful_count": review.helpful_count,
        "reply": {"body": review.reply_body, "at": review.reply_at} if review.reply_at else None,
        "signals": list(review.signals) if staff else [],
        "reject_reason": review.reject_reason if staff else "",
        "created_at": review.created_at,
    }


def _json(data: dict[str, Any]) -> Any:
    return ReviewOut.model_validate(data).model_dump(mode="json")


def _staff(request: HttpRequest) -> bool:
    return key_of(request).allows("manage")


@router.post("/reviews", response={201: ReviewOut, **ERRORS}, summary="A member reviews a product or a store")
def create_review(request: HttpRequest, payload: ReviewIn) -> Status[Any]:
    def perform() -> tuple[int, Any]:
        member = member_get(brand=brand_of(request), member_id=payload.member_id)
        review = services.review_submit(
            member=member,
            sku=payload.sku,
            subject=payload.store,
            rating=payload.rating,
            title=payload.title,
            body=payload.body,
            pros=payload.pros,
            cons=payload.cons,
            anonymous=payload.anonymous,
        )
        return 201, _json(review_out(review, staff=_staff(request)))

    return idempotent(request, payload.model_dump(mode="json"), perform)


@router.get("/reviews/queue", response={200: list[ReviewOut], **ERRORS}, summary="Held reviews (manage)")
def review_queue(request: HttpRequest) -> list[dict[str, Any]]:
    require_scope(request, "manage")
    return [review_out(r, staff=True) for r in selectors.reviews_held(brand=brand_of(request))]


@router.get("/reviews/{review_id}", response={200: ReviewOut, **ERRORS}, summary="One review")
def get_review(request: HttpRequest, review_id: str) -> dict[str, Any]:
    staff = _staff(request)
    return review_out(
        selectors.review_get(brand=brand_of(request), review_id=review_id, public=not staff), staff=staff
    )


@router.post(
    "/reviews/{review_id}/helpful", response={201: HelpfulOut, **ERRORS}, summary="A member found it helpful"
)
def vote_helpful(request: HttpRequest, review_id: str, payload: ReviewMemberIn) -> Status[Any]:
    def perform() -> tuple[int, Any]:
        brand = brand_of(request)
        review = selectors.review_get(brand=brand, review_id=review_id)
        services.review_vote_helpful(
            review=review, member=member_get(brand=brand, member_id=payload.member_id)
        )
        return 201, {"review_id": str(review.pk), "helpful_count": review.helpful_count}

    return idempotent(request, {"review": review_id, **payload.model_dump(mode="json")}, perform)


@router.post(
    "/reviews/{review_id}/reply", response={200: ReviewOut, **ERRORS}, summary="The brand's reply (manage)"
)
def reply_review(request: HttpRequest, review_id: str, payload: ReviewReplyIn) -> Status[Any]:
    require_scope(request, "manage")

    def perform() -> tuple[int, Any]:
        review = selectors.review_get(brand=brand_of(request), review_id=review_id)
        review = services.review_reply(review=review, actor=actor_of(request), body=payload.body)
        return 200, _json(review_out(review, staff=True))

    return idempotent(request, {"review": review_id, **payload.model_dump(mode="json")}, perform)


@router.post(
    "/reviews/{review_id}/moderation",
    response={200: ReviewOut, **ERRORS},
    summary="Approve or reject (manage)",
)
def moderate_review(request: HttpRequest, review_id: str, payload: ReviewModerationIn) -> Status[Any]:
    require_scope(request, "manage")

    def perform() -> tuple[int, Any]:
        review = selectors.review_get(brand=brand_of(request), review_id=review_id, public=False)
        review = services.review_moderate(
            review=review, actor=actor_of(request), action=payload.action, reason=payload.reason
        )
        return 200, _json(review_out(review, staff=True))

    return idempotent(request, {"review": review_id, **payload.model_dump(mode="json")}, perform)


@router.get(
    "/products/{sku}/reviews",
    response={200: ReviewPageOut, **ERRORS},
    summary="A product's published reviews",
)
def product_reviews(
    request: HttpRequest,
    sku: str,
    sort: Literal["helpful", "newest", "lowest"] = "helpful",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,  # type: ignore[type-arg]
    rating: Annotated[int | None, Query(ge=1, le=5)] = None,  # type: ignore[type-arg]
) -> dict[str, Any]:
    found = selectors.product_reviews(brand=brand_of(request), sku=sku, sort=sort, page=page, rating=rating)
    staff = _staff(request)
    return {
        "items": [review_out(r, staff=staff) for r in found.reviews],
        "page": found.page,
        "has_next": found.has_next,
    }


@router.get("/products/{sku}/rating", response={200: RatingOut, **ERRORS}, summary="A product's rating")
def product_rating(request: HttpRequest, sku: str) -> dict[str, Any]:
    return selectors.product_rating(brand=brand_of(request), sku=sku)


def gallery_out(item: GalleryItem, *, featured: bool) -> dict[str, Any]:
    """`featured` is whether the public may see it as featured (the flag with a grant in force)."""
    return {
        "id": item.pk,
        "kind": item.kind,
        "sku": item.sku,
        "title": item.title,
        "story": item.story,
        "image_url": default_storage.url(item.image) if item.image else None,
        "author": (item.member.first_name if item.member else ""),
        "like_count": item.like_count,
        "featured": featured,
        "created_at": item.created_at,
    }


@router.get("/gallery", response={200: list[GalleryOut], **ERRORS}, summary="Published photos and stories")
def gallery_list(request: HttpRequest, sku: str | None = None) -> list[dict[str, Any]]:
    brand = brand_of(request)
    featured = {item.pk for item in selectors.gallery_featured(brand=brand, limit=1000)}
    return [
        gallery_out(item, featured=item.pk in featured)
        for item in selectors.gallery_public(brand=brand, sku=sku)
    ]


@router.post("/gallery/{item_id}/likes", response={201: LikeOut, **ERRORS}, summary="A member likes an item")
def like_item(request: HttpRequest, item_id: str, payload: ReviewMemberIn) -> Status[Any]:
    def perform() -> tuple[int, Any]:
        brand = brand_of(request)
        item = selectors.gallery_item_get(brand=brand, item_id=item_id)
        services.gallery_like(item=item, member=member_get(brand=brand, member_id=payload.member_id))
        item.refresh_from_db(fields=["like_count"])
        return 201, {"item_id": str(item.pk), "like_count": item.like_count}

    return idempotent(request, {"item": item_id, **payload.model_dump(mode="json")}, perform)
