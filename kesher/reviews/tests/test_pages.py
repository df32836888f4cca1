"""The pages: a product's reviews carry schema.org Product + AggregateRating; a store's do not exist as
product pages; the widget can be framed; a member writes a review; a moderator publishes a held one."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from kesher.brands.models import StaffRole
from kesher.brands.services import staff_grant
from kesher.members.models import Member
from kesher.reviews.models import Review, ReviewSettings
from kesher.reviews.services import review_submit

pytestmark = pytest.mark.django_db


def _json_ld(html: str) -> list[dict]:
    return [
        json.loads(m)
        for m in re.findall(r'<script type="application/ld\+json"[^>]*>(.*?)</script>', html, re.S)
    ]


def test_the_product_page_marks_up_the_aggregate_rating(make_member, brand, client):
    review_submit(member=make_member("Noa"), sku="TRENCH-1", rating=5, title="Great", body="Lovely coat.")
    review_submit(member=make_member("Dan"), sku="TRENCH-1", rating=2, title="Meh", body="Too long for me.")

    html = client.get(f"/reviews/{brand.slug}/p/TRENCH-1/").content.decode()

    [data] = _json_ld(html)
    assert data["@type"] == "Product"
    assert data["aggregateRating"] == {
        "@type": "AggregateRating",
        "ratingValue": 3.5,
        "reviewCount": 2,
        "bestRating": 5,
        "worstRating": 1,
    }
    assert 'dir="rtl"' in html


def test_service_reviews_get_no_aggregate_rating(make_member, brand, client):
    review_submit(member=make_member(), subject="Dizengoff", rating=5, title="Kind", body="Kind staff.")
    html = client.get(f"/reviews/{brand.slug}/p/Dizengoff/").content.decode()
    assert _json_ld(html) == []


def test_the_widget_may_be_framed_by_a_shop(make_member, brand, client):
    review_submit(member=make_member(), sku="TRENCH-1", rating=4, title="Warm coat", body="Warm.")
    response = client.get(f"/reviews/{brand.slug}/p/TRENCH-1/widget/")
    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    assert "frame-ancestors *" in response["Content-Security-Policy"]
    assert response.content.decode().count('data-test="widget-review"') == 1


def _user(email: str):  # type: ignore[no-untyped-def]
    return get_user_model().objects.create_user(email, email, "a-long-password-1")


def test_a_member_writes_a_review_and_a_moderator_publishes_a_held_one(make_member, brand):
    ReviewSettings.objects.create(brand=brand, require_purchase=True)
    member = make_member("Noa")
    user = _user("noa@example.org")
    Member.objects.filter(pk=member.pk).update(user=user)
    writer = Client()
    writer.force_login(user)

    sent = writer.post(
        f"/reviews/{brand.slug}/p/TRENCH-1/write/",
        {"rating": "2", "title": "Itchy collar", "body": "Not for me."},
    )

    assert sent.status_code == 302
    review = Review.objects.get(member=member)
    assert (review.rating, review.status, review.signals) == (2, "held", ["no_purchase"])
    moderator_user = _user("mod@example.org")
    staff_grant(brand=brand, user=moderator_user, role=StaffRole.MODERATOR)
    moderator = Client()
    moderator.force_login(moderator_user)
    queue = moderator.get(f"/console/{brand.slug}/reviews/").content.decode()
    assert "Itchy collar" in queue and 'data-test="signals"' in queue

    moderator.post(f"/console/{brand.slug}/reviews/{review.pk}/moderate/", {"action": "approve"})

    assert Review.objects.get(pk=review.pk).status == "published"
    assert "Itchy collar" in Client().get(f"/reviews/{brand.slug}/p/TRENCH-1/").content.decode()
    marketer = _user("m@example.org")
    staff_grant(brand=brand, user=marketer, role=StaffRole.MARKETER)
    other = Client()
    other.force_login(marketer)
    assert other.get(f"/console/{brand.slug}/reviews/").status_code == 404
