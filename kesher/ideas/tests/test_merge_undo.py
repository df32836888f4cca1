"""Merging two records of one supporter counts them once, and an undo puts every row back."""

from __future__ import annotations

import pytest

from kesher.core.audit import SYSTEM
from kesher.core.tests.fingerprint import changed_models, rows_fingerprint
from kesher.customers.services import members_merge, merge_undo
from kesher.ideas.models import BetaApplication, Idea, IdeaComment, IdeaSupport
from kesher.ideas.services import beta_apply, beta_program_create, idea_comment, idea_support

pytestmark = pytest.mark.django_db

_BOOKKEEPING = {"customers.membermerge", "core.auditentry", "customers.duplicatepair"}


def test_merge_counts_a_supporter_once_and_undo_puts_every_row_back(brand, make_member, make_idea):
    kept, duplicate, friend = make_member("Noa"), make_member("Noa B"), make_member("Dan")
    both = make_idea(title="Both supported")
    only_dup = make_idea(title="Only the duplicate")
    kept_idea = make_idea(author=kept, title="The kept member's own")
    dup_idea = make_idea(author=duplicate, title="The duplicate's own")
    for member in (kept, duplicate, friend):
        idea_support(idea=both, member=member)
    idea_support(idea=only_dup, member=duplicate)
    idea_support(idea=kept_idea, member=duplicate)  # once one member, an author of their own idea
    idea_support(idea=dup_idea, member=kept)
    idea_comment(idea=both, member=duplicate, body="Yes please")
    program = beta_program_create(brand=brand, title="Planner", places=3, agreement="OK", actor=SYSTEM)
    for member in (kept, duplicate):
        beta_apply(program=program, member=member, agreement_accepted=True)

    before = rows_fingerprint()
    merge = members_merge(brand=brand, source_id=duplicate.pk, target_id=kept.pk, actor=SYSTEM)

    supporters = dict(Idea.objects.values_list("pk", "supporters"))
    assert (supporters[both.pk], supporters[only_dup.pk]) == (2, 1)
    assert (supporters[kept_idea.pk], supporters[dup_idea.pk]) == (0, 0)
    assert set(IdeaSupport.objects.filter(member=kept).values_list("idea_id", flat=True)) == {
        both.pk,
        only_dup.pk,
    }
    assert Idea.objects.get(pk=dup_idea.pk).author_id == kept.pk
    assert IdeaComment.objects.get(idea=both).author_id == kept.pk
    assert BetaApplication.objects.filter(program=program, member=kept).count() == 1

    merge_undo(brand=brand, merge_id=merge.pk, actor=SYSTEM)
    assert set(changed_models(before, rows_fingerprint())) <= _BOOKKEEPING
