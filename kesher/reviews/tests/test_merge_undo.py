"""Merging two records of one reviewer keeps the newer review of a sku, and an undo puts every row back."""

from __future__ import annotations

from typing import Any

import pytest

from kesher.core.audit import SYSTEM
from kesher.core.tests.fingerprint import changed_models, rows_fingerprint
from kesher.customers.services import members_merge, merge_undo
from kesher.reviews import selectors
from kesher.reviews.models import ProductRating, Review, ReviewVote
from kesher.reviews.services import review_submit, review_vote_helpful

pytestmark = pytest.mark.django_db

# Tables a merge and its undo write by design: the merge record, its audit lines, the pair's state.
_BOOKKEEPING = {"customers.membermerge", "core.auditentry", "customers.duplicatepair"}


def _submit(member: Any, sku: str, rating: int, body: str) -> Review:
    return review_submit(member=member, sku=sku, rating=rating, title="My coat", body=body)


def test_merge_keeps_the_newer_review_of_each_sku_and_undo_puts_every_row_back(brand, make_member):
    kept, duplicate, friend = make_member("Kept"), make_member("Dup"), make_member("Friend")
    kept_older = _submit(kept, "TRENCH-1", 2, "First impressions were mixed, to be honest")
    dup_newer = _submit(duplicate, "TRENCH-1", 5, "Now I really love it, truly warm")
    dup_older = _submit(duplicate, "SCARF-2", 1, "It scratched on the first day")
    kept_newer = _submit(kept, "SCARF-2", 4, "After a wash it is a soft scarf")
    only_dup = _submit(duplicate, "HAT-3", 3, "A hat that is fine for the price")
    theirs = _submit(friend, "GLOVES-4", 5, "Gloves that last a whole winter")
    for voter in (kept, duplicate):
        review_vote_helpful(review=theirs, member=voter)  # voted from both records: counts once
    review_vote_helpful(review=kept_newer, member=duplicate)  # the kept member's own review

    before = rows_fingerprint()
    merge = members_merge(brand=brand, source_id=duplicate.pk, target_id=kept.pk, actor=SYSTEM)

    assert set(Review.objects.filter(member=kept).values_list("pk", flat=True)) == {
        dup_newer.pk,
        kept_newer.pk,
        only_dup.pk,
    }
    assert set(Review.objects.filter(member=duplicate).values_list("pk", "status")) == {
        (kept_older.pk, "rejected"),
        (dup_older.pk, "rejected"),
    }
    trench = selectors.product_rating(brand=brand, sku="TRENCH-1")
    assert (trench["count"], trench["distribution"]["2"], trench["distribution"]["5"]) == (1, 0, 1)
    scarf = selectors.product_rating(brand=brand, sku="SCARF-2")
    assert (scarf["count"], scarf["distribution"]["1"], scarf["distribution"]["4"]) == (1, 0, 1)
    assert ProductRating.objects.get(brand=brand, sku="HAT-3").count == 1
    assert Review.objects.get(pk=theirs.pk).helpful_count == 1
    assert Review.objects.get(pk=kept_newer.pk).helpful_count == 0
    assert ReviewVote.objects.filter(member=kept).count() == 1

    merge_undo(brand=brand, merge_id=merge.pk, actor=SYSTEM)
    assert set(changed_models(before, rows_fingerprint())) <= _BOOKKEEPING
