"""The promises of the reviews services: authenticity signals hold a review, points never depend on the
rating and are disclosed, the activities and the event are recorded, and a member's data is exported,
erased and merged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone

from kesher.activity.models import Activity
from kesher.brands.models import StaffRole
from kesher.brands.services import staff_grant
from kesher.core.audit import SYSTEM
from kesher.members.hooks import member_erase_run, member_export_run, members_merge_run
from kesher.members.models import Member
from kesher.reviews import selectors
from kesher.reviews.models import ProductRating, Review, ReviewRequest, ReviewSettings, ReviewVote
from kesher.reviews.services import (
    review_moderate,
    review_requests_send,
    review_submit,
    review_vote_helpful,
)
from kesher.reviews.services import reviews as review_module

pytestmark = pytest.mark.django_db


def _submit(member, sku="TRENCH-1", rating=5, body="A warm and well made coat for the winter.", **kw):
    return review_submit(member=member, sku=sku, rating=rating, title="My coat", body=body, **kw)


def test_the_same_text_from_another_member_is_held_with_the_signal(make_member):
    first = _submit(make_member("Noa"))
    copy = _submit(make_member("Dan"), body="A WARM and well-made coat, for the winter!")

    assert (first.status, first.signals) == ("published", [])
    assert (copy.status, copy.signals) == ("held", ["same_text"])
    assert [r.pk for r in selectors.reviews_held(brand=copy.brand)] == [copy.pk]


def test_a_burst_of_new_accounts_without_purchases_is_held(make_member, buy):
    buyer = make_member("Buyer")
    buy(buyer, "TRENCH-1")
    _submit(buyer, body="Bought it, love it.")
    found = [_submit(make_member(f"New{n}"), body=f"Number {n} says it is lovely") for n in range(5)]

    assert [r.status for r in found] == ["published"] * 4 + ["held"]
    assert found[-1].signals == ["new_account_burst"]


def test_old_accounts_are_no_burst(make_member):
    members = [make_member(f"Old{n}") for n in range(6)]
    Member.objects.filter(pk__in=[m.pk for m in members]).update(
        created_at=timezone.now() - timedelta(days=90)
    )
    found = [
        _submit(Member.objects.get(pk=m.pk), body=f"Old hand {n} likes it") for n, m in enumerate(members)
    ]
    assert {r.status for r in found} == {"published"}


def test_a_staff_members_review_is_held(make_member, brand):
    user = get_user_model().objects.create_user("staff@example.org", "staff@example.org", "pw-long-enough-1")
    staff_grant(brand=brand, user=user, role=StaffRole.MARKETER)
    member = make_member("Staff")
    Member.objects.filter(pk=member.pk).update(user=user)
    review = _submit(Member.objects.get(pk=member.pk))
    assert (review.status, review.signals) == ("held", ["brand_staff"])


def test_no_purchase_where_the_brand_requires_one_is_held_not_rejected(make_member, brand, buy):
    ReviewSettings.objects.create(brand=brand, require_purchase=True)
    buyer, stranger = make_member("Buyer"), make_member("Stranger")
    buy(buyer, "TRENCH-1")
    assert _submit(buyer).status == "published"
    held = _submit(stranger, body="I never bought it but I have views")
    assert (held.status, held.signals) == ("held", ["no_purchase"])

    approved = review_moderate(review=held, actor=SYSTEM, action="approve")

    assert approved.status == "published"
    assert selectors.product_rating(brand=brand, sku="TRENCH-1")["count"] == 2


def test_points_never_depend_on_the_rating_and_are_disclosed(api, make_member, brand):
    rule = api.post(
        "/earning-rules",
        {"name": "Reviews", "activity_type": "review_published", "effect": "fixed", "points": 10},
    )
    assert rule.status == 201, rule.body
    low = _submit(make_member("Low"), rating=1, body="Fell apart after a week, sadly")
    high = _submit(make_member("High"), rating=5, body="Still perfect after a whole year")

    assert (low.points_awarded, high.points_awarded) == (10, 10)
    assert low.incentivised and high.incentivised
    shown = api.get(f"/reviews/{low.pk}").body
    assert shown["disclosure"] == "Written in return for points"
    assert "incentivised" in shown["labels"]


def test_publishing_records_the_activity_and_announces_the_event(make_member, buy, monkeypatch):
    announced = []
    monkeypatch.setattr(review_module, "event_emit", lambda **kw: announced.append(kw))
    member = make_member()
    buy(member, "TRENCH-1")

    review = _submit(member, rating=3)

    activity = Activity.objects.get(member=member, type="review_published")
    assert activity.attributes == {
        "review_id": str(review.pk),
        "sku": "TRENCH-1",
        "rating": 3,
        "verified_purchase": True,
    }
    assert [(e["type"], e["data"]["review_id"], e["data"]["rating"]) for e in announced] == [
        ("review.published", str(review.pk), 3)
    ]


def test_a_held_review_records_nothing_until_published(make_member, brand):
    ReviewSettings.objects.create(brand=brand, require_purchase=True)
    member = make_member()
    review = _submit(member)
    assert review.status == "held"
    assert not Activity.objects.filter(member=member, type="review_published").exists()
    assert selectors.product_rating(brand=brand, sku="TRENCH-1")["count"] == 0


def test_a_helpful_vote_records_review_helpful_for_the_author(make_member):
    author, voter = make_member("Author"), make_member("Voter")
    review = _submit(author)
    review_vote_helpful(review=review, member=voter)
    activity = Activity.objects.get(member=author, type="review_helpful")
    assert activity.attributes == {"review_id": str(review.pk)}
    assert not Activity.objects.filter(member=voter, type="review_helpful").exists()


def test_export_erase_keeps_the_rating_statistics(make_member, brand):
    author, voter = make_member("Noa", last_name="Levi"), make_member("Dan")
    review = _submit(author, rating=2)
    other = _submit(voter, rating=4, body="Another honest opinion here")
    review_vote_helpful(review=other, member=author)

    exported = member_export_run(member=author)["reviews"]
    assert [r["id"] for r in exported["reviews"]] == [str(review.pk)]  # type: ignore[index]
    assert exported["helpful_votes"] == [str(other.pk)]  # type: ignore[index]

    member_erase_run(member=author)

    review.refresh_from_db()
    assert (review.member_id, review.author_name, review.title, review.body) == (None, "", "", "")
    assert review.rating == 2 and review.status == "published"
    assert selectors.product_rating(brand=brand, sku="TRENCH-1")["count"] == 2
    assert not ReviewVote.objects.filter(member=author).exists()
    assert Review.objects.get(pk=other.pk).helpful_count == 0


def test_merging_keeps_the_newer_review_of_a_sku_and_moves_the_rest(make_member, brand):
    kept, duplicate = make_member("Kept"), make_member("Dup")
    older = _submit(kept, rating=2, body="First impressions were mixed")
    newer = _submit(duplicate, rating=5, body="Now I really love it, truly")
    only_dup = _submit(duplicate, sku="SCARF-2", rating=4, body="A soft scarf indeed")

    members_merge_run(source=duplicate, target=kept)

    assert set(Review.objects.filter(member=kept).values_list("pk", flat=True)) == {newer.pk, only_dup.pk}
    # The older review stays with the duplicate, rejected (so an undo has nothing to recreate).
    assert Review.objects.filter(pk=older.pk).values_list("member_id", "status").get() == (
        duplicate.pk,
        "rejected",
    )
    rating = selectors.product_rating(brand=brand, sku="TRENCH-1")
    assert (rating["count"], rating["distribution"]["2"], rating["distribution"]["5"]) == (1, 0, 1)
    assert ProductRating.objects.get(brand=brand, sku="SCARF-2").count == 1


def test_review_requests_go_once_per_product_to_every_buyer_after_n_days(make_member, brand, buy, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    ReviewSettings.objects.create(brand=brand, request_after_days=7)
    happy, unhappy = (
        make_member("Happy", consents={"email": True}),
        make_member("Unhappy", consents={"email": True}),
    )
    ten_days_ago = timezone.now() - timedelta(days=10)
    buy(happy, "TRENCH-1", occurred_at=ten_days_ago)
    buy(unhappy, "TRENCH-1", "SCARF-2", occurred_at=ten_days_ago)
    buy(unhappy, "TRENCH-1", occurred_at=ten_days_ago + timedelta(hours=1))  # bought twice: asked once
    buy(happy, "HAT-3")  # today: not yet due

    first = review_requests_send(brand=brand)
    again = review_requests_send(brand=brand)

    assert (first.sent, again.sent) == (3, 0)
    asked = sorted(
        ReviewRequest.objects.filter(brand=brand).values_list("member__first_name", "sku", "status")
    )
    assert asked == [
        ("Happy", "TRENCH-1", "sent"),
        ("Unhappy", "SCARF-2", "sent"),
        ("Unhappy", "TRENCH-1", "sent"),
    ]
    assert len(mail.outbox) == 3
    assert sorted(m.to[0] for m in mail.outbox) == sorted([happy.email, unhappy.email, unhappy.email])
    assert "/reviews/cafe/p/" in mail.outbox[0].body
