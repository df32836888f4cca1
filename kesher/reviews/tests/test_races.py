"""Concurrent requests on PostgreSQL: one review per member per sku, one helpful vote per member."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from kesher.brands.services import api_key_create, brand_create
from kesher.conftest import ApiClient
from kesher.members.tests.factories import MemberFactory
from kesher.reviews.models import ProductRating, Review, ReviewVote

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _all_at_once(count: int, send):  # type: ignore[no-untyped-def]
    start = threading.Barrier(count)

    def one(n: int) -> int:
        try:
            start.wait()
            return int(send(n))
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return sorted(pool.map(one, range(count)))


def test_eight_copies_of_one_review_at_once_make_one_review():
    brand = brand_create(slug="cafe", name="קפה טוב", default_locale="he")
    member = MemberFactory(brand=brand)
    key = api_key_create(brand=brand, scope="pos").raw_key
    body = {"member_id": str(member.pk), "sku": "TRENCH-1", "rating": 4, "title": "Warm", "body": "Good."}

    statuses = _all_at_once(
        8, lambda n: ApiClient(key).post("/reviews", {**body, "title": f"Warm {n}"}).status
    )

    assert statuses == [201] + [409] * 7
    assert Review.objects.filter(member=member).count() == 1
    assert ProductRating.objects.get(brand=brand, sku="TRENCH-1").count == 1


def test_eight_helpful_votes_at_once_by_one_member_count_once():
    brand = brand_create(slug="cafe", name="קפה טוב", default_locale="he")
    author, voter = MemberFactory(brand=brand), MemberFactory(brand=brand)
    key = api_key_create(brand=brand, scope="pos").raw_key
    review = (
        ApiClient(key)
        .post("/reviews", {"member_id": str(author.pk), "sku": "T", "rating": 5, "title": "t", "body": "b"})
        .body
    )

    statuses = _all_at_once(
        8,
        lambda n: (
            ApiClient(key).post(f"/reviews/{review['id']}/helpful", {"member_id": str(voter.pk)}).status
        ),
    )

    assert statuses == [201] + [409] * 7
    assert ReviewVote.objects.filter(review_id=review["id"]).count() == 1
    assert Review.objects.get(pk=review["id"]).helpful_count == 1
