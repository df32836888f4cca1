"""The reviews part's activity types and domain events (registered from ReviewsConfig.ready())."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kesher.activity.registry import activity_type
from kesher.core.events import event_type

Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Sku = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


@activity_type("review_published", description="The member's review was published")
class ReviewPublished(Strict):
    review_id: Id
    sku: Annotated[str, StringConstraints(max_length=200)]
    rating: Annotated[int, Field(ge=1, le=5)]
    verified_purchase: bool


@activity_type("review_helpful", description="Another member found the member's review helpful")
class ReviewHelpful(Strict):
    review_id: Id


@activity_type("photo_posted", description="The member posted a photo or story to the gallery")
class PhotoPosted(Strict):
    item_id: Id
    sku: Sku | None = None


REVIEW_PUBLISHED = event_type(
    "review.published", "A review was published: {review_id, member_id, sku, rating, verified_purchase}"
)
