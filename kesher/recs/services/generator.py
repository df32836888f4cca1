"""Purchase histories with planted structure, recorded into a brand as real activities.

No public data set can be downloaded here, so the evaluation runs on members whose tastes are known:
each belongs to one segment (its stated interest) and buys mostly that segment's products, a few of
the staples every segment buys, and looks at some products before buying. A model that recovers the
segments beats popularity, which only knows the staples and each segment's favourites.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from kesher.activity.services import Draft, activities_record_many
from kesher.brands.models import Brand
from kesher.members.models import Member
from kesher.members.services import member_create

SEGMENTS = ("running", "coffee", "kids", "beauty", "garden", "books", "pets", "travel")
PER_SEGMENT = 30
STAPLES = 12
IN_SEGMENT = 0.9  # share of a member's picks from their own segment
SOURCE = "recs-generator"
BULK = 1000


@dataclass(frozen=True)
class Generated:
    members: int
    activities: int
    segments: tuple[str, ...]


def catalog() -> dict[str, list[str]]:
    """The generator's skus by segment, plus the staples."""
    found = {segment: [f"{segment[:3].upper()}-{n:03d}" for n in range(PER_SEGMENT)] for segment in SEGMENTS}
    found["staples"] = [f"GEN-{n:03d}" for n in range(STAPLES)]
    return found


def _zipf(count: int, exponent: float = 0.8) -> list[float]:
    return [1.0 / (rank + 1) ** exponent for rank in range(count)]


@dataclass(frozen=True)
class Planted:
    """One generated activity: the member's number, its type, attributes and moment."""

    member: int
    type: str
    attributes: dict[str, Any]
    at: datetime
    key: str


def segment_of(number: int) -> str:
    return SEGMENTS[number % len(SEGMENTS)]


def histories(*, members: int, seed: int = 1, days: int = 180, now: datetime) -> Iterator[Planted]:
    """The planted activities, without a database: the evaluation's tests and the benchmark use them too."""
    rng = random.Random(seed)
    products = catalog()
    staple_weights = _zipf(STAPLES, 1.0)
    segment_weights = _zipf(PER_SEGMENT, 1.0)
    for number in range(members):
        segment = segment_of(number)
        # The segment's known preferences (its catalog in order of liking), a member's own taste a
        # little apart from them: two neighbours in the order may change places.
        own = list(products[segment])
        for place in range(0, PER_SEGMENT - 1, 2):
            if rng.random() < 0.5:
                own[place], own[place + 1] = own[place + 1], own[place]
        for visit in range(rng.randint(4, 12)):
            at = now - timedelta(days=days) + timedelta(seconds=rng.uniform(0, days * 86400))
            picks = {
                rng.choices(own, weights=segment_weights)[0]
                if rng.random() < IN_SEGMENT
                else rng.choices(products["staples"], weights=staple_weights)[0]
                for _ in range(rng.randint(1, 3))
            }
            items = [
                {"sku": sku, "name": f"Product {sku}", "quantity": 1, "unit_price": "20.00"}
                for sku in sorted(picks)
            ]
            key = f"{number:06d}-{visit}"
            yield Planted(
                number,
                "purchase",
                {"amount": str(Decimal(20) * len(items)), "currency": "ILS", "items": items},
                at,
                f"p-{key}",
            )
            if rng.random() < 0.5:
                sku = rng.choice(own)
                yield Planted(
                    number,
                    "product_viewed",
                    {"sku": sku, "name": f"Product {sku}"},
                    at - timedelta(minutes=5),
                    f"v-{key}",
                )


def recs_generate(
    *, brand: Brand, members: int, seed: int = 1, days: int = 180, now: datetime | None = None
) -> Generated:
    """Create `members` members (idempotent by external id) and their purchases and product views over
    the last `days` days. Running it again with the same seed adds nothing."""
    now = now or timezone.now()
    made: dict[int, Member] = {}
    drafts: list[Draft] = []
    recorded = 0
    for planted in histories(members=members, seed=seed, days=days, now=now):
        member = made.get(planted.member)
        if member is None:
            external_id = f"gen-{seed}-{planted.member:06d}"
            member = made[planted.member] = Member.objects.filter(
                brand=brand, external_id=external_id
            ).first() or member_create(
                brand=brand,
                external_id=external_id,
                first_name=f"Member {planted.member}",
                interests=[segment_of(planted.member)],
                source=SOURCE,
                joined_at=now - timedelta(days=days + 1),
                emit_signup=False,
            )
        drafts.append(
            Draft(
                member=member,
                type=planted.type,
                attributes=planted.attributes,
                occurred_at=planted.at,
                source=SOURCE,
                external_id=f"{seed}-{planted.key}",
            )
        )
        if len(drafts) >= BULK:
            recorded += _record(brand, drafts)
            drafts = []
    if drafts:
        recorded += _record(brand, drafts)
    return Generated(members=members, activities=recorded, segments=SEGMENTS)


def _record(brand: Brand, drafts: list[Draft]) -> int:
    outcomes = activities_record_many(brand=brand, drafts=drafts)
    return sum(1 for outcome in outcomes if outcome.created)
