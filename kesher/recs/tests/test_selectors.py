"""Serving reads the stored rows: the member's own list, the popular list of their segment when they have
none, and the brand's rules (out of stock, repeats, a campaign's boost) applied at once."""

from __future__ import annotations

import pytest
from django.utils import timezone

from kesher.core.errors import ValidationFailed
from kesher.members.tests.factories import MemberFactory
from kesher.recs.models import Kind, MemberList, PopularList, RecsSettings
from kesher.recs.selectors import Recommendation, recommendations_for

pytestmark = pytest.mark.django_db


def _item(sku: str, score: float, reason: str = "similar_members") -> dict[str, object]:
    return {"id": sku, "score": score, "reason": reason, "title": f"Product {sku}"}


def test_a_member_reads_their_stored_list_best_first_without_what_they_bought(brand):
    member = MemberFactory(brand=brand)
    MemberList.objects.create(
        brand=brand,
        member=member,
        kind=Kind.PRODUCTS,
        items=[_item("A", 0.9), _item("B", 0.8), _item("C", 0.7)],
        seen=["B"],
        computed_at=timezone.now(),
    )
    found = recommendations_for(member=member, kind="products", limit=2)
    assert found == [
        Recommendation(id="A", score=0.9, reason="similar_members", title="Product A"),
        Recommendation(id="C", score=0.7, reason="similar_members", title="Product C"),
    ]
    assert found[0].reason_text == "Members with tastes like yours chose it"


def test_out_of_stock_never_and_repeats_only_when_the_brand_asks(brand):
    member = MemberFactory(brand=brand)
    MemberList.objects.create(
        brand=brand,
        member=member,
        kind=Kind.PRODUCTS,
        items=[_item("A", 0.9), _item("B", 0.8)],
        seen=["B"],
        computed_at=timezone.now(),
    )
    RecsSettings.objects.create(brand=brand, unavailable_skus=["A"], repeat_purchases=True)
    assert [rec.id for rec in recommendations_for(member=member, kind="products")] == ["B"]


def test_a_new_member_gets_the_popular_list_of_their_interest_then_of_the_club(brand):
    member = MemberFactory(brand=brand, interests=["running"])
    now = timezone.now()
    PopularList.objects.create(
        brand=brand,
        kind=Kind.PRODUCTS,
        segment="interest:running",
        items=[_item("RUN", 1.0, "popular_segment")],
        computed_at=now,
    )
    PopularList.objects.create(
        brand=brand,
        kind=Kind.PRODUCTS,
        segment="all",
        items=[_item("TOP", 1.0, "popular"), _item("RUN", 0.5)],
        computed_at=now,
    )
    found = recommendations_for(member=member, kind="products")
    assert [(rec.id, rec.reason) for rec in found] == [("RUN", "popular_segment"), ("TOP", "popular")]


def test_an_unknown_kind_is_refused_with_its_code(brand):
    member = MemberFactory(brand=brand)
    with pytest.raises(ValidationFailed) as refused:
        recommendations_for(member=member, kind="cars")
    assert refused.value.code == "recommendation_kind_unknown"
