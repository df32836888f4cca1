"""Merging drops the duplicate's derived rows, and an undo puts them back exactly as they were."""

from __future__ import annotations

import pytest

from kesher.core.audit import SYSTEM
from kesher.core.tests.fingerprint import changed_models, rows_fingerprint
from kesher.customers.services import members_merge, merge_undo
from kesher.insights.models import MemberMonth, MemberSummary

pytestmark = pytest.mark.django_db

_BOOKKEEPING = {"customers.membermerge", "core.auditentry", "customers.duplicatepair"}


def test_merge_drops_the_duplicates_insights_and_undo_puts_every_row_back(club, brand):
    alice, bob = club["alice"], club["bob"]  # both bought: a summary and months each
    assert MemberMonth.objects.filter(member_id=bob.pk).exists()
    kept_rows = (
        MemberSummary.objects.filter(member_id=alice.pk).count(),
        MemberMonth.objects.filter(member_id=alice.pk).count(),
    )

    before = rows_fingerprint()
    merge = members_merge(brand=brand, source_id=bob.pk, target_id=alice.pk, actor=SYSTEM)

    assert not MemberSummary.objects.filter(member_id=bob.pk).exists()
    assert not MemberMonth.objects.filter(member_id=bob.pk).exists()
    assert (
        MemberSummary.objects.filter(member_id=alice.pk).count(),
        MemberMonth.objects.filter(member_id=alice.pk).count(),
    ) == kept_rows

    merge_undo(brand=brand, merge_id=merge.pk, actor=SYSTEM)
    assert set(changed_models(before, rows_fingerprint())) <= _BOOKKEEPING
    assert MemberSummary.objects.filter(member_id=bob.pk).exists()
