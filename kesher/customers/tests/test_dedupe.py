"""Finding duplicates with Splink: accuracy on generated people, stored pairs, new members on arrival."""

from __future__ import annotations

import pytest

from kesher.customers.models import DedupeModel, DuplicatePair
from kesher.customers.services import dedupe, duplicates_find
from kesher.customers.synthetic import people, true_pairs
from kesher.members.services import member_create


def test_precision_and_recall_on_generated_people_with_known_duplicates_are_above_095():
    records = people(1000, 300, seed=7)
    frame = dedupe._frame(
        dedupe.record_row(
            p.external_id, p.first_name, p.last_name, dedupe._phone(p.phone), p.email, p.birthday
        )
        for p in records
    )
    settings = dedupe.model_train(frame, u_pairs=2e5)
    found = {(a, b) for a, b, _, _ in dedupe.pairs_predict(frame, settings=settings, min_probability=0.9)}
    truth = true_pairs(records)
    right = len(found & truth)
    precision, recall = right / len(found), right / len(truth)
    print(f"pairs found {len(found)}, true {len(truth)}: precision {precision:.3f}, recall {recall:.3f}")
    assert precision > 0.95
    assert recall > 0.95


@pytest.mark.django_db
def test_kesher_dedupe_stores_pairs_with_reasons_and_new_members_are_checked_on_arrival(
    brand, other_brand, django_capture_on_commit_callbacks
):
    member_create(brand=brand, external_id="1", first_name="Noa", last_name="Levi", phone="050-1234567",
                  email="noa@example.org")  # fmt: skip
    member_create(brand=brand, external_id="2", first_name="נועה", last_name="לוי", phone="+972 50 123 4567")
    member_create(brand=brand, external_id="3", first_name="Dan", last_name="Katz", phone="052-9999999")
    member_create(brand=other_brand, external_id="x", first_name="Noa", last_name="Levi", phone="0501234567")
    result = duplicates_find(brand=brand)
    assert (result.members, result.new_pairs, result.trained) == (3, 1, False)
    pair = DuplicatePair.objects.get(brand=brand)
    assert {pair.member_a.external_id, pair.member_b.external_id} == {"1", "2"}
    assert pair.probability > 0.9 and "same phone" in pair.reasons and "same name" in pair.reasons
    assert not DuplicatePair.objects.filter(brand=other_brand).exists()
    assert DedupeModel.objects.filter(brand=brand).exists()
    assert duplicates_find(brand=brand).new_pairs == 0  # found again: not stored twice

    with django_capture_on_commit_callbacks(execute=True):
        late = member_create(
            brand=brand, external_id="4", first_name="DAN", last_name="Kats", phone="0529999999"
        )
    arrived = (
        DuplicatePair.objects.get(brand=brand, member_b=late)
        if DuplicatePair.objects.filter(brand=brand, member_b=late).exists()
        else DuplicatePair.objects.get(brand=brand, member_a=late)
    )
    assert arrived.probability > 0.9
    assert {arrived.member_a.external_id, arrived.member_b.external_id} == {"3", "4"}
    # A brand that never looked for duplicates has no check on arrival.
    with django_capture_on_commit_callbacks(execute=True):
        member_create(
            brand=other_brand, external_id="y", first_name="Noa", last_name="Levi", phone="0501234567"
        )
    assert not DuplicatePair.objects.filter(brand=other_brand).exists()
