"""Reads of the reviews part: a product's published reviews and rating, the moderation queues, the
gallery as the public sees it. Every read takes the brand; what the public sees is published only."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from kesher.brands.models import Brand
from kesher.core.errors import NotFound
from kesher.reviews.models import GalleryItem, ProductRating, Review, ReviewKind, ReviewStatus, RightsGrant

PAGE_SIZE = 10
SORTS = {
    "helpful": ("-helpful_count", "-created_at"),
    "newest": ("-created_at",),
    "lowest": ("rating", "-created_at"),
}


@dataclass(frozen=True)
class ReviewPage:
    reviews: list[Review]
    page: int
    has_next: bool


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def review_get(*, brand: Brand, review_id: object, public: bool = True) -> Review:
    """One review of the brand; the public sees published ones only (anything else is not found)."""
    pk = _uuid(review_id)
    found = (
        Review.objects.filter(brand=brand, pk=pk).select_related("brand", "member").first() if pk else None
    )
    if found is None or (public and found.status != ReviewStatus.PUBLISHED):
        raise NotFound(f"No review with id {review_id}", code="review_not_found")
    return found


def product_reviews(
    *,
    brand: Brand,
    sku: str,
    sort: str = "helpful",
    page: int = 1,
    rating: int | None = None,
    size: int = PAGE_SIZE,
) -> ReviewPage:
    """A page of the product's published reviews. One query: a row more than the page says if one follows."""
    rows: QuerySet[Review] = Review.objects.filter(
        brand=brand, sku=sku, kind=ReviewKind.PRODUCT, status=ReviewStatus.PUBLISHED
    )
    if rating is not None:
        rows = rows.filter(rating=rating)
    start = (page - 1) * size
    found = list(rows.order_by(*SORTS.get(sort, SORTS["helpful"]))[start : start + size + 1])
    return ReviewPage(reviews=found[:size], page=page, has_next=len(found) > size)


def product_rating(*, brand: Brand, sku: str) -> dict[str, Any]:
    """{count, average, distribution} over the published reviews, from the product's rollup row."""
    row = ProductRating.objects.filter(brand=brand, sku=sku).first()
    counts = [getattr(row, f"stars_{n}", 0) if row else 0 for n in range(1, 6)]
    count = row.count if row else 0
    average = (
        (Decimal(row.total) / Decimal(count)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        if row and count
        else None
    )
    return {
        "count": count,
        "average": float(average) if average is not None else None,
        "distribution": {str(n): counts[n - 1] for n in range(1, 6)},
    }


def reviews_held(*, brand: Brand) -> list[Review]:
    """The moderation queue: held reviews, oldest first, with their signals."""
    return list(
        Review.objects.filter(brand=brand, status=ReviewStatus.HELD)
        .select_related("member")
        .order_by("created_at")[:200]
    )


def reviews_recent(*, brand: Brand, limit: int = 50) -> list[Review]:
    """The latest published reviews, for the staff to reply to."""
    return list(
        Review.objects.filter(brand=brand, status=ReviewStatus.PUBLISHED).order_by("-created_at")[:limit]
    )


def review_of_member(*, brand: Brand, member_id: uuid.UUID | str, sku: str) -> Review | None:
    return Review.objects.filter(brand=brand, member_id=member_id, kind=ReviewKind.PRODUCT, sku=sku).first()


def _rights_in_force() -> Exists:
    return Exists(RightsGrant.objects.filter(item=OuterRef("pk"), revoked_at__isnull=True))


def gallery_public(*, brand: Brand, sku: str | None = None, limit: int = 60) -> list[GalleryItem]:
    rows = GalleryItem.objects.filter(brand=brand, status=ReviewStatus.PUBLISHED).select_related("member")
    if sku:
        rows = rows.filter(sku=sku)
    return list(rows.order_by("-created_at")[:limit])


def gallery_featured(*, brand: Brand, limit: int = 12) -> list[GalleryItem]:
    """Featured items the public may see: published, featured, and with the member's rights in force.
    A featured flag without a grant behind it never shows."""
    return list(
        GalleryItem.objects.filter(brand=brand, status=ReviewStatus.PUBLISHED, featured=True)
        .filter(_rights_in_force())
        .select_related("member")
        .order_by("-featured_at")[:limit]
    )


def gallery_held(*, brand: Brand) -> list[GalleryItem]:
    return list(
        GalleryItem.objects.filter(brand=brand, status=ReviewStatus.HELD)
        .select_related("member")
        .order_by("created_at")[:200]
    )


def gallery_staff_list(*, brand: Brand, limit: int = 100) -> list[tuple[GalleryItem, RightsGrant | None]]:
    """Published items with the grant in force (if any), for featuring."""
    items = list(
        GalleryItem.objects.filter(brand=brand, status=ReviewStatus.PUBLISHED)
        .select_related("member")
        .order_by("-created_at")[:limit]
    )
    grants: dict[uuid.UUID, RightsGrant] = {}
    for grant in RightsGrant.objects.filter(item__in=items, revoked_at__isnull=True).order_by("granted_at"):
        grants[grant.item_id] = grant
    return [(item, grants.get(item.pk)) for item in items]


def gallery_item_get(*, brand: Brand, item_id: object, public: bool = True) -> GalleryItem:
    pk = _uuid(item_id)
    found = (
        GalleryItem.objects.filter(brand=brand, pk=pk).select_related("brand", "member").first()
        if pk
        else None
    )
    if found is None or (public and found.status != ReviewStatus.PUBLISHED):
        raise NotFound(f"No gallery item with id {item_id}", code="gallery_item_not_found")
    return found


def reviews_published_after(
    *, brand: Brand, since: datetime | None, after_id: uuid.UUID | None = None, limit: int = 500
) -> list[Review]:
    """Published reviews in the order they were published, from a cursor (see the community's
    posts_published_after). For the listening part."""
    reviews = Review.objects.filter(brand=brand, status=ReviewStatus.PUBLISHED, published_at__isnull=False)
    if since is not None:
        later = Q(published_at__gt=since)
        later |= Q(published_at=since, id__gt=after_id) if after_id is not None else Q(published_at=since)
        reviews = reviews.filter(later)
    return list(reviews.order_by("published_at", "id")[:limit])
