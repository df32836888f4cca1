"""A merge with a part that recorded no steps is kept but cannot be undone: a 409 that changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from kesher.core.audit import SYSTEM
from kesher.core.errors import Conflict
from kesher.core.tests.fingerprint import changed_models, rows_fingerprint
from kesher.customers.models import MemberMerge
from kesher.customers.services import members_merge, merge_undo
from kesher.members import hooks
from kesher.members.models import Member
from kesher.members.services import member_create

pytestmark = pytest.mark.django_db


def _throwaway_merge(*, source: Member, target: Member) -> None:
    """A merger that changes a row and says nothing about it (an undo could not put it back)."""
    Member.objects.filter(pk=target.pk).update(last_name="Merged")


def test_an_undo_is_refused_when_a_part_could_not_record_its_steps(brand, monkeypatch):
    monkeypatch.setattr(hooks, "_mergers", [*hooks._mergers, _throwaway_merge])
    a = member_create(brand=brand, external_id="a", email="noa@example.org", first_name="Noa")
    b = member_create(brand=brand, external_id="b", phone="050-1234567", first_name="Noa")
    merge = members_merge(brand=brand, source_id=b.pk, target_id=a.pk, actor=SYSTEM)  # refused nothing
    flags = {part["part"]: part["undoable"] for part in merge.moves}
    assert flags[f"{__name__}._throwaway_merge"] is False
    assert all(flag for name, flag in flags.items() if name != f"{__name__}._throwaway_merge")

    before = rows_fingerprint()
    with pytest.raises(Conflict) as refused:
        merge_undo(brand=brand, merge_id=merge.pk, actor=SYSTEM)
    assert refused.value.code == "merge_not_undoable"
    assert changed_models(before, rows_fingerprint()) == []
    assert MemberMerge.objects.get(pk=merge.pk).undone_at is None


def test_the_api_answers_409_for_an_undo_that_cannot_be_done(brand, make_api, monkeypatch):
    monkeypatch.setattr(hooks, "_mergers", [*hooks._mergers, _throwaway_merge])
    a = member_create(brand=brand, external_id="a", email="noa@example.org")
    b = member_create(brand=brand, external_id="b", phone="050-1234567")
    merge = members_merge(brand=brand, source_id=b.pk, target_id=a.pk, actor=SYSTEM)
    api = make_api(brand, "manage")
    before = rows_fingerprint()
    answer: Any = api.post(f"/merges/{merge.pk}/undo")
    assert (answer.status, answer.body["error"]["code"]) == (409, "merge_not_undoable")
    assert changed_models(before, rows_fingerprint()) == []


def test_the_parts_registered_today_are_all_undoable(brand):
    a = member_create(brand=brand, external_id="a", email="noa@example.org")
    b = member_create(brand=brand, external_id="b", phone="050-1234567")
    merge = members_merge(brand=brand, source_id=b.pk, target_id=a.pk, actor=SYSTEM)
    assert merge.moves and all(part["undoable"] for part in merge.moves)
