"""The activity stream read as interactions: who touched which product, article or thread, how strongly.

Weights are confidences for implicit-feedback ALS: buying says more than looking.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kesher.activity.models import Activity
from kesher.brands.models import Brand
from kesher.recs.models import Kind

PURCHASE_WEIGHT = 4.0
VIEW_WEIGHT = 1.0
READ_WEIGHT = 1.0
ANSWER_WEIGHT = 3.0

# Which activity types feed which kind of list.
TYPES = {
    Kind.PRODUCTS: ("purchase", "product_viewed"),
    Kind.ARTICLES: ("article_read",),
    Kind.THREADS: ("thread_viewed", "answer_posted", "question_asked"),
}
ALL_TYPES = tuple(name for names in TYPES.values() for name in names)
CHUNK = 5000


@dataclass
class Interactions:
    """Rows of (member, item, weight, when) for one kind, with the items a member already has."""

    members: list[uuid.UUID] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    bought: list[bool] = field(default_factory=list)  # counts as "already has" (bought, read, asked)
    titles: dict[str, str] = field(default_factory=dict)

    def add(self, member: uuid.UUID, item: str, weight: float, at: datetime, *, owned: bool) -> None:
        self.members.append(member)
        self.items.append(item)
        self.weights.append(weight)
        self.times.append(at.timestamp())
        self.bought.append(owned)

    def __len__(self) -> int:
        return len(self.items)


def _rows(
    brand: Brand, types: tuple[str, ...], member_ids: list[uuid.UUID] | None
) -> Iterator[tuple[Any, ...]]:
    query = Activity.objects.filter(brand=brand, type__in=types)
    if member_ids is not None:
        query = query.filter(member_id__in=member_ids)
    return query.values_list("member_id", "type", "attributes", "occurred_at").iterator(chunk_size=CHUNK)


def interactions_read(*, brand: Brand, member_ids: list[uuid.UUID] | None = None) -> dict[str, Interactions]:
    """Every interaction of the brand (or of some members), by kind, in one pass over the stream."""
    found = {kind: Interactions() for kind in TYPES}
    products, articles, threads = found[Kind.PRODUCTS], found[Kind.ARTICLES], found[Kind.THREADS]
    for member_id, type_name, attributes, at in _rows(brand, ALL_TYPES, member_ids):
        if type_name == "purchase":
            for item in attributes.get("items") or []:
                sku = item.get("sku")
                if sku:
                    quantity = int(item.get("quantity") or 1)
                    products.add(member_id, sku, PURCHASE_WEIGHT * min(quantity, 5), at, owned=True)
                    if item.get("name"):
                        products.titles[sku] = item["name"]
        elif type_name == "product_viewed":
            sku = attributes.get("sku")
            if sku:
                products.add(member_id, sku, VIEW_WEIGHT, at, owned=False)
                if attributes.get("name"):
                    products.titles.setdefault(sku, attributes["name"])
        elif type_name == "article_read":
            article = attributes.get("article_id")
            if article:
                articles.add(member_id, str(article), READ_WEIGHT, at, owned=True)
        elif type_name in ("thread_viewed", "answer_posted", "question_asked"):
            question = attributes.get("question_id")
            if question:
                weight = VIEW_WEIGHT if type_name == "thread_viewed" else ANSWER_WEIGHT
                threads.add(member_id, str(question), weight, at, owned=True)
    return found
