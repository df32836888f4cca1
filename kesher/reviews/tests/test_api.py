"""The reviews API as integrations use it: write, read, rate, vote, reply, moderate."""

from __future__ import annotations

import pytest

from kesher.core.models import AuditEntry
from kesher.core.tests.fingerprint import changed_models, rows_fingerprint
from kesher.reviews.models import ProductRating, Review, ReviewSettings

pytestmark = pytest.mark.django_db


def _review(api, member, sku="TRENCH-1", rating=5, **kw):
    body = {"member_id": str(member.pk), "sku": sku, "rating": rating, "title": "Great coat", "body": "Warm."}
    return api.post("/reviews", {**body, **kw})


def test_a_review_is_published_and_marked_verified_only_after_a_purchase_of_that_sku(api, make_member, buy):
    buyer, other = make_member("Noa"), make_member("Dan")
    buy(buyer, "TRENCH-1", "SCARF-2")
    buy(other, "SCARF-2")

    mine = _review(api, buyer)
    theirs = _review(api, other)

    assert mine.status == 201, mine.body
    assert (mine.body["status"], mine.body["verified_purchase"]) == ("published", True)
    assert mine.body["labels"] == ["verified_buyer"]
    assert (theirs.body["status"], theirs.body["verified_purchase"]) == ("published", False)
    assert theirs.body["labels"] == ["verified_member"]


def test_a_second_review_of_the_same_sku_is_a_conflict_and_changes_nothing(api, make_member):
    member = make_member()
    assert _review(api, member).status == 201
    before = rows_fingerprint()

    again = _review(api, member, rating=1)

    assert again.status == 409
    assert again.body["error"]["code"] == "already_reviewed"
    assert changed_models(before, rows_fingerprint()) == []


def test_rating_counts_published_reviews_only(api, make_member, brand, buy):
    ReviewSettings.objects.create(brand=brand, require_purchase=True)
    buyers = [make_member(f"M{n}") for n in range(3)]
    for member, stars in zip(buyers, (5, 4, 4), strict=True):
        buy(member, "TRENCH-1")
        assert _review(api, member, rating=stars).body["status"] == "published"
    held = _review(api, make_member("Stranger"), rating=1)
    assert (held.body["status"], held.body["signals"]) == ("held", ["no_purchase"])

    answer = api.get("/products/TRENCH-1/rating")

    assert answer.status == 200
    assert answer.body == {
        "count": 3,
        "average": 4.33,
        "distribution": {"1": 0, "2": 0, "3": 0, "4": 2, "5": 1},
    }
    listed = api.get("/products/TRENCH-1/reviews?sort=lowest").body["items"]
    assert [r["rating"] for r in listed] == [4, 4, 5]


def test_the_rollup_follows_moderation(api, make_member, brand, django_user_model):
    noa, dan = make_member("Noa"), make_member("Dan")
    first = _review(api, noa, rating=2).body
    _review(api, dan, rating=4)
    assert api.get("/products/TRENCH-1/rating").body["count"] == 2

    rejected = api.post(f"/reviews/{first['id']}/moderation", {"action": "reject", "reason": "spam"})

    assert rejected.status == 200, rejected.body
    assert rejected.body["status"] == "rejected"
    assert api.get("/products/TRENCH-1/rating").body == {
        "count": 1,
        "average": 4.0,
        "distribution": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0},
    }
    assert api.get(f"/reviews/{first['id']}").status == 200  # staff (all scope) still read it
    assert AuditEntry.objects.filter(action="review.reject", target_id=first["id"]).count() == 1


def test_negative_is_not_a_reject_reason(api, make_member):
    review = _review(api, make_member(), rating=1).body
    before = rows_fingerprint()

    answer = api.post(f"/reviews/{review['id']}/moderation", {"action": "reject", "reason": "negative"})

    assert answer.status == 422
    assert changed_models(before, rows_fingerprint()) == []


def test_sorting_and_filtering(api, make_member):
    noa, dan, lea = make_member("Noa"), make_member("Dan"), make_member("Lea")
    a = _review(api, noa, rating=5).body
    b = _review(api, dan, rating=1).body
    c = _review(api, lea, rating=3).body
    assert api.post(f"/reviews/{c['id']}/helpful", {"member_id": str(noa.pk)}).status == 201

    def ids(query):
        return [r["id"] for r in api.get(f"/products/TRENCH-1/reviews?{query}").body["items"]]

    assert ids("sort=newest") == [c["id"], b["id"], a["id"]]
    assert ids("sort=lowest") == [b["id"], c["id"], a["id"]]
    assert ids("sort=helpful")[0] == c["id"]
    assert ids("rating=5") == [a["id"]]


def test_one_helpful_vote_per_member_and_not_on_ones_own(api, make_member):
    noa, dan = make_member("Noa"), make_member("Dan")
    review = _review(api, noa).body

    first = api.post(f"/reviews/{review['id']}/helpful", {"member_id": str(dan.pk)})
    again = api.post(f"/reviews/{review['id']}/helpful", {"member_id": str(dan.pk)})
    own = api.post(f"/reviews/{review['id']}/helpful", {"member_id": str(noa.pk)})

    assert (first.status, first.body["helpful_count"]) == (201, 1)
    assert (again.status, again.body["error"]["code"]) == (409, "already_voted")
    assert (own.status, own.body["error"]["code"]) == (409, "own_review")
    assert Review.objects.get(pk=review["id"]).helpful_count == 1


def test_the_brands_reply_is_public_and_audited(api, make_api, brand, make_member):
    review = _review(api, make_member()).body
    pos = make_api(brand, "pos")

    refused = pos.post(f"/reviews/{review['id']}/reply", {"body": "Thank you!"})
    answer = api.post(f"/reviews/{review['id']}/reply", {"body": "Thank you!"})

    assert refused.status == 403
    assert answer.status == 200
    assert pos.get(f"/reviews/{review['id']}").body["reply"]["body"] == "Thank you!"
    assert AuditEntry.objects.filter(action="review.reply", target_id=review["id"]).count() == 1


def test_a_service_review_names_the_store_and_has_no_product_rating(api, make_member, brand):
    answer = api.post(
        "/reviews",
        {
            "member_id": str(make_member().pk),
            "store": "Dizengoff",
            "rating": 4,
            "title": "Friendly staff",
            "body": "Quick and kind.",
        },
    )
    assert answer.status == 201, answer.body
    assert (answer.body["kind"], answer.body["store"], answer.body["sku"]) == ("service", "Dizengoff", "")
    assert not ProductRating.objects.filter(brand=brand).exists()


def test_anonymous_reviews_hide_the_author(api, make_member):
    answer = _review(api, make_member("Noa", last_name="Levi"), anonymous=True)
    assert (answer.body["author"], answer.body["member_id"]) == ("", None)
    assert answer.body["labels"] == ["verified_member", "anonymous"]
