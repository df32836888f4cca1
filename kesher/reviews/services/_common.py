"""What the reviews services share: the brand's settings, the rollup of a product's published ratings,
how an author is shown, and the points activity a contribution records."""

from __future__ import annotations

from typing import Any

from django.db.models import F

from kesher.activity.models import Activity
from kesher.activity.services import activity_record
from kesher.brands.models import Brand
from kesher.members.models import Member
from kesher.reviews.models import ProductRating, Review, ReviewKind, ReviewSettings

DEFAULT_RIGHTS_WORDING = {
    "he": "אני מתיר/ה למותג להציג את התמונה או הסיפור שלי, עם שמי הפרטי, באתר וברשתות החברתיות שלו, "
    "ללא תשלום. אפשר לבטל את ההסכמה בכל עת.",
    "en": "I allow the brand to show my photo or story, with my first name, on its website and social "
    "media, free of charge. I may withdraw this permission at any time.",
}


def settings_of(brand: Brand) -> ReviewSettings:
    found = ReviewSettings.objects.filter(brand=brand).first()
    return found if found is not None else ReviewSettings(brand=brand)


def rights_wording(brand: Brand, locale: str) -> str:
    own = settings_of(brand).rights_wording.strip()
    return own or DEFAULT_RIGHTS_WORDING.get(locale, DEFAULT_RIGHTS_WORDING["he"])


def display_name(member: Member | None, anonymous: bool) -> str:
    """First name and the last name's initial; empty for an anonymous or erased author."""
    if member is None or anonymous:
        return ""
    initial = f" {member.last_name[:1]}." if member.last_name else ""
    return f"{member.first_name}{initial}".strip()


def rollup_change(review: Review, sign: int) -> None:
    """Add (+1) or take away (-1) a product review's rating from its product's rollup, in the caller's
    transaction. F() updates: concurrent reviews of one product never lose a count."""
    if review.kind != ReviewKind.PRODUCT:
        return
    ProductRating.objects.bulk_create(
        [ProductRating(brand_id=review.brand_id, sku=review.sku)], ignore_conflicts=True
    )
    changes: dict[str, Any] = {
        "count": F("count") + sign,
        "total": F("total") + sign * review.rating,
        f"stars_{review.rating}": F(f"stars_{review.rating}") + sign,
    }
    ProductRating.objects.filter(brand_id=review.brand_id, sku=review.sku).update(**changes)


def contribution_record(*, member: Member, type: str, key: str, attributes: dict[str, Any]) -> Activity:
    """Record the member's contribution as an activity (loyalty's rules award its points in the same
    transaction); once per key, so a retry records nothing twice."""
    activity, _created = activity_record(
        brand=member.brand,
        member=member,
        type=type,
        attributes=attributes,
        source="reviews",
        idempotency_key=key,
    )
    return activity
