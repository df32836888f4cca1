"""Writes of a brand's topics, each audited: create, change, delete, and the defaults a new brand gets
(delivery, price, staff, quality, returns; registered with kesher.brands.hooks.on_brand_created)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.db import IntegrityError, transaction

from kesher.brands.models import Brand
from kesher.core.audit import Actor, audit_record
from kesher.core.errors import Conflict, ValidationFailed
from kesher.listening.analysis.keywords import DEFAULT_TOPICS
from kesher.listening.analysis.text import normalise
from kesher.listening.topics.models import Topic
from kesher.listening.topics.selectors import topic_set_forget

MAX_KEYWORDS = 100
MAX_KEYWORD_LENGTH = 60
MAX_TOPICS = 50
NAME = re.compile(r"^[\w-]{1,40}$")
SPLIT = re.compile(r"[,\n;،]+")


def keywords_parse(text: str | Iterable[str]) -> list[str]:
    """ "משלוח, שליח\\nחבילה" → ["משלוח", "שליח", "חבילה"]: trimmed, lower-cased, each once, in order."""
    items = SPLIT.split(text) if isinstance(text, str) else list(text)
    out: list[str] = []
    for item in items:
        keyword = " ".join(normalise(item).lower().split())
        if not keyword or keyword in out:
            continue
        if len(keyword) > MAX_KEYWORD_LENGTH:
            raise ValidationFailed(
                f"A keyword is at most {MAX_KEYWORD_LENGTH} characters",
                field="keywords",
                code="keyword_too_long",
            )
        out.append(keyword)
    if len(out) > MAX_KEYWORDS:
        raise ValidationFailed(
            f"A topic has at most {MAX_KEYWORDS} keywords", field="keywords", code="too_many_keywords"
        )
    return out


def _name_check(name: str) -> str:
    name = name.strip().lower()
    if not NAME.match(name):
        raise ValidationFailed(
            "A topic's name is one word of letters, digits, - or _ (at most 40)",
            field="name",
            code="invalid_name",
        )
    return name


def topic_create(
    *,
    brand: Brand,
    name: str,
    keywords_he: str | Iterable[str],
    keywords_en: str | Iterable[str],
    actor: Actor,
) -> Topic:
    name = _name_check(name)
    he, en = keywords_parse(keywords_he), keywords_parse(keywords_en)
    if not he and not en:
        raise ValidationFailed("Give the topic at least one keyword", field="keywords", code="no_keywords")
    if Topic.objects.filter(brand=brand).count() >= MAX_TOPICS:
        raise ValidationFailed(
            f"A brand has at most {MAX_TOPICS} topics", field="name", code="too_many_topics"
        )
    try:
        with transaction.atomic():
            topic = Topic.objects.create(brand=brand, name=name, keywords_he=he, keywords_en=en)
            audit_record(
                brand=brand,
                actor=actor,
                action="listening.topic_created",
                target_type="listening.topic",
                target_id=topic.pk,
                data={"name": name, "keywords_he": he, "keywords_en": en},
            )
    except IntegrityError:
        raise Conflict(
            "The brand already has a topic by this name", field="name", code="topic_exists"
        ) from None
    transaction.on_commit(lambda: topic_set_forget(brand=brand))
    topic_set_forget(brand=brand)
    return topic


def topic_update(
    *, topic: Topic, keywords_he: str | Iterable[str], keywords_en: str | Iterable[str], actor: Actor
) -> Topic:
    he, en = keywords_parse(keywords_he), keywords_parse(keywords_en)
    if not he and not en:
        raise ValidationFailed("Give the topic at least one keyword", field="keywords", code="no_keywords")
    with transaction.atomic():
        locked = Topic.objects.select_for_update().get(pk=topic.pk)
        before = {"keywords_he": locked.keywords_he, "keywords_en": locked.keywords_en}
        locked.keywords_he, locked.keywords_en = he, en
        locked.save(update_fields=["keywords_he", "keywords_en", "updated_at"])
        audit_record(
            brand=locked.brand,
            actor=actor,
            action="listening.topic_changed",
            target_type="listening.topic",
            target_id=locked.pk,
            data={"name": locked.name, "before": before, "after": {"keywords_he": he, "keywords_en": en}},
        )
    transaction.on_commit(lambda: topic_set_forget(brand=locked.brand))
    topic_set_forget(brand=locked.brand)
    return locked


def topic_delete(*, topic: Topic, actor: Actor) -> None:
    brand = topic.brand
    with transaction.atomic():
        audit_record(
            brand=brand,
            actor=actor,
            action="listening.topic_deleted",
            target_type="listening.topic",
            target_id=topic.pk,
            data={"name": topic.name, "keywords_he": topic.keywords_he, "keywords_en": topic.keywords_en},
        )
        topic.delete()
    transaction.on_commit(lambda: topic_set_forget(brand=brand))
    topic_set_forget(brand=brand)


def topics_install_defaults(*, brand: Brand) -> list[Topic]:
    """The five default topics of a new brand; run again, it adds only the ones missing."""
    existing = set(Topic.objects.filter(brand=brand).values_list("name", flat=True))
    made = [
        Topic(brand=brand, name=name, keywords_he=list(he), keywords_en=list(en))
        for name, (he, en) in DEFAULT_TOPICS.items()
        if name not in existing
    ]
    Topic.objects.bulk_create(made)
    topic_set_forget(brand=brand)
    return made
