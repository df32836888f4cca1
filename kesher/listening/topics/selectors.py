"""Reads of a brand's topics, and the compiled keyword set the analyser matches mentions against.

topic_set_for keeps each brand's compiled set in the process for TOPIC_SET_SECONDS, and a write in this
process drops it at once (topic_set_forget); another process sees a change within that time."""

from __future__ import annotations

import time
from typing import Any

from kesher.brands.models import Brand
from kesher.core.errors import NotFound
from kesher.listening.analysis.keywords import KeywordSet, keyword_set_compile
from kesher.listening.topics.models import Topic

TOPIC_SET_SECONDS = 30.0

_sets: dict[Any, tuple[float, KeywordSet]] = {}


def topic_list(*, brand: Brand) -> list[Topic]:
    return list(Topic.objects.filter(brand=brand).order_by("name"))


def topic_get(*, brand: Brand, topic_id: Any) -> Topic:
    topic = Topic.objects.filter(brand=brand, pk=topic_id).first()
    if topic is None:
        raise NotFound("No such topic", code="topic_not_found")
    return topic


def topic_set_for(*, brand: Brand) -> KeywordSet:
    now = time.monotonic()
    cached = _sets.get(brand.pk)
    if cached is not None and now - cached[0] < TOPIC_SET_SECONDS:
        return cached[1]
    rows = (
        Topic.objects.filter(brand=brand).order_by("name").values_list("name", "keywords_he", "keywords_en")
    )
    compiled = keyword_set_compile((name, [*he, *en]) for name, he, en in rows)
    _sets[brand.pk] = (now, compiled)
    return compiled


def topic_set_forget(*, brand: Brand | None = None) -> None:
    if brand is None:
        _sets.clear()
    else:
        _sets.pop(brand.pk, None)
