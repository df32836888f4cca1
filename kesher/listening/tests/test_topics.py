"""A brand's topics: the five defaults on creation, the editor (add, change keywords, delete, each
audited), refusals that change nothing, other roles and brands refused, and mentions tagged with them."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from kesher.brands.models import StaffRole
from kesher.brands.services import staff_grant
from kesher.core.audit import SYSTEM
from kesher.core.errors import Conflict, ValidationFailed
from kesher.core.models import AuditEntry
from kesher.listening.analysis import analyse, analyse_many
from kesher.listening.analysis.keywords import DEFAULT_TOPICS
from kesher.listening.topics.models import Topic
from kesher.listening.topics.services import (
    keywords_parse,
    topic_create,
    topic_update,
    topics_install_defaults,
)
from kesher.web.tests.conftest import make_user

pytestmark = pytest.mark.django_db


def _client(brand, role=StaffRole.OWNER, email="owner@example.org") -> Client:
    user = make_user(email)
    staff_grant(brand=brand, user=user, role=role)
    client = Client()
    client.force_login(user)
    return client


def _rows(brand) -> list[tuple[str, list[str], list[str]]]:
    return list(
        Topic.objects.filter(brand=brand).order_by("name").values_list("name", "keywords_he", "keywords_en")
    )


def test_a_new_brand_listens_for_the_five_defaults(brand):
    assert [name for name, _he, _en in _rows(brand)] == sorted(DEFAULT_TOPICS)
    assert topics_install_defaults(brand=brand) == []  # run again: nothing twice
    found = analyse("המשלוח איחר והמחיר יקר", brand=brand)
    assert found.topics == ("delivery", "price")


def test_the_brands_own_keywords_tag_its_mentions(brand, other_brand):
    topic_create(
        brand=brand, name="coffee", keywords_he="קפה, אספרסו", keywords_en="coffee\nlatte", actor=SYSTEM
    )
    assert analyse_many(["האספרסו היה מושלם", "Best latte in town"], brand=brand)[0].topics == ("coffee",)
    assert analyse("Best latte in town", brand=brand).topics == ("coffee",)
    assert analyse("Best latte in town", brand=other_brand).topics == ()  # another brand's topics


def test_keywords_are_trimmed_lowered_and_kept_once():
    assert keywords_parse(" Delivery, delivery\n\nשליח ;Courier ") == ["delivery", "שליח", "courier"]
    with pytest.raises(ValidationFailed):
        keywords_parse(["x" * 61])


def test_refusals_change_nothing(brand):
    before = _rows(brand)
    with pytest.raises(Conflict):
        topic_create(brand=brand, name="delivery", keywords_he="משלוח", keywords_en="", actor=SYSTEM)
    with pytest.raises(ValidationFailed):
        topic_create(brand=brand, name="two words", keywords_he="משלוח", keywords_en="", actor=SYSTEM)
    with pytest.raises(ValidationFailed):
        topic_create(brand=brand, name="empty", keywords_he=" , ", keywords_en="", actor=SYSTEM)
    with pytest.raises(ValidationFailed):
        topic_update(
            topic=Topic.objects.get(brand=brand, name="price"), keywords_he="", keywords_en="", actor=SYSTEM
        )
    assert _rows(brand) == before
    assert not AuditEntry.objects.filter(brand=brand, action__startswith="listening.topic").exists()


def test_the_editor_adds_changes_and_deletes_with_an_audit(brand):
    owner = _client(brand)
    page = owner.get(reverse("listening:topics", args=[brand.slug]))
    assert page.status_code == 200 and 'data-test="topic-create"' in page.content.decode()
    answer = owner.post(
        reverse("listening:topic_create", args=[brand.slug]),
        {"name": "coffee", "keywords_he": "קפה, אספרסו", "keywords_en": "coffee"},
    )
    assert answer.status_code == 303
    coffee = Topic.objects.get(brand=brand, name="coffee")
    assert coffee.keywords_he == ["קפה", "אספרסו"] and coffee.keywords_en == ["coffee"]
    owner.post(
        reverse("listening:topic_update", args=[brand.slug, coffee.pk]),
        {"keywords_he": "קפה", "keywords_en": "coffee, latte"},
    )
    coffee.refresh_from_db()
    assert coffee.keywords_en == ["coffee", "latte"]
    assert analyse("a latte", brand=brand).topics == ("coffee",)  # the cache was dropped on the change
    owner.post(reverse("listening:topic_delete", args=[brand.slug, coffee.pk]))
    assert not Topic.objects.filter(pk=coffee.pk).exists()
    assert list(
        AuditEntry.objects.filter(brand=brand, target_type="listening.topic")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["listening.topic_created", "listening.topic_changed", "listening.topic_deleted"]


def test_a_bad_form_shows_why_and_changes_nothing(brand):
    owner = _client(brand)
    before = _rows(brand)
    answer = owner.post(
        reverse("listening:topic_create", args=[brand.slug]),
        {"name": "delivery", "keywords_he": "x"},
        follow=True,
    )
    assert "already has a topic" in answer.content.decode() or "כבר יש" in answer.content.decode()
    assert _rows(brand) == before


@pytest.mark.parametrize("role", [StaffRole.ANALYST, StaffRole.SERVICE_AGENT])
def test_who_only_sees_may_not_change(brand, role):
    viewer = _client(brand, role=role, email="viewer@example.org")
    page = viewer.get(reverse("listening:topics", args=[brand.slug]))
    assert page.status_code == 200 and 'data-test="topic-create"' not in page.content.decode()
    before = _rows(brand)
    price = Topic.objects.get(brand=brand, name="price")
    for url, data in (
        (reverse("listening:topic_create", args=[brand.slug]), {"name": "coffee", "keywords_he": "קפה"}),
        (reverse("listening:topic_update", args=[brand.slug, price.pk]), {"keywords_he": "x"}),
        (reverse("listening:topic_delete", args=[brand.slug, price.pk]), {}),
    ):
        assert viewer.post(url, data).status_code == 403
    assert _rows(brand) == before


def test_another_brands_topic_is_not_found(brand, other_brand):
    owner = _client(brand)
    theirs = Topic.objects.get(brand=other_brand, name="price")
    before = _rows(other_brand)
    assert owner.post(reverse("listening:topic_delete", args=[brand.slug, theirs.pk])).status_code == 404
    assert (
        owner.post(
            reverse("listening:topic_update", args=[brand.slug, theirs.pk]), {"keywords_he": "x"}
        ).status_code
        == 404
    )
    assert _rows(other_brand) == before
