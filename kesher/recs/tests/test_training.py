"""Training on generated histories with planted segments: the model recovers them far better than
popularity, the lists are stored, and "also bought" stays within a segment."""

from __future__ import annotations

import pytest

from kesher.members.models import Member
from kesher.recs.models import Kind, MemberList, PopularList, RunStatus, SimilarItems
from kesher.recs.selectors import also_bought, recommendations_for
from kesher.recs.services.evaluation import evaluation_lines, recs_evaluate
from kesher.recs.services.generator import recs_generate
from kesher.recs.services.training import recs_train

pytestmark = pytest.mark.django_db


@pytest.fixture
def generated(brand):
    recs_generate(brand=brand, members=150, seed=3)
    return brand


def test_the_model_beats_popularity_at_least_twice_on_planted_segments(generated):
    evaluation = recs_evaluate(brand=generated)
    figures = evaluation.figures
    print("\n".join(evaluation_lines(evaluation)))
    assert figures["test_members"] > 50
    assert figures["ratio"] >= 2.0, figures


def test_training_stores_each_members_list_from_their_own_segment(generated):
    run = recs_train(brand=generated)
    assert run.status == RunStatus.DONE
    assert run.members == 150
    assert MemberList.objects.filter(brand=generated, kind=Kind.PRODUCTS).count() == 150
    assert PopularList.objects.filter(brand=generated, kind=Kind.PRODUCTS, segment="interest:coffee").exists()
    member = Member.objects.get(brand=generated, external_id="gen-3-000001")  # a coffee member
    found = recommendations_for(member=member, kind="products", limit=10)
    assert len(found) == 10
    own = sum(1 for rec in found if rec.id.startswith("COF-"))
    assert own >= 7, [rec.id for rec in found]
    bought = set(MemberList.objects.get(member=member, kind=Kind.PRODUCTS).seen)
    assert bought and not bought & {rec.id for rec in found}
    coffee = SimilarItems.objects.filter(brand=generated, sku="COF-000").first()
    assert coffee is not None
    assert all(
        rec.id.startswith(("COF-", "GEN-")) for rec in also_bought(brand=generated, sku="COF-000", limit=5)
    )
