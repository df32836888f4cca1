"""A member's ideas data through the members hooks: export, erasure, merging (supports counted once)."""

from __future__ import annotations

import pytest

from kesher.core.audit import SYSTEM
from kesher.ideas.models import BetaApplication, Idea, IdeaComment, IdeaSupport
from kesher.ideas.services import beta_apply, beta_program_create, idea_comment, idea_support
from kesher.members.hooks import member_erase_run, member_export_run, members_merge_run

pytestmark = pytest.mark.django_db


def test_export_lists_ideas_supports_comments_and_applications(brand, make_member, make_idea):
    noa = make_member("Noa")
    own = make_idea(author=noa, title="My own idea")
    other = make_idea(title="Someone else's")
    idea_support(idea=other, member=noa)
    idea_comment(idea=other, member=noa, body="Nice")
    program = beta_program_create(brand=brand, title="Planner", places=3, agreement="Secret", actor=SYSTEM)
    beta_apply(program=program, member=noa, agreement_accepted=True)
    data = member_export_run(member=noa)["ideas"]
    assert [i["id"] for i in data["ideas"]] == [str(own.pk)]  # type: ignore[index]
    assert [s["idea_id"] for s in data["supported"]] == [str(other.pk)]  # type: ignore[index]
    assert [c["body"] for c in data["comments"]] == ["Nice"]  # type: ignore[index]
    assert data["beta_applications"][0]["agreement_text"] == "Secret"  # type: ignore[index]


def test_erasure_keeps_the_counts_and_drops_the_person(make_member, make_idea):
    noa = make_member("Noa")
    own = make_idea(author=noa)
    other = make_idea(title="Someone else's")
    idea_support(idea=other, member=noa)
    idea_comment(idea=other, member=noa, body="Nice")
    member_erase_run(member=noa)
    assert Idea.objects.get(pk=own.pk).author_id is None
    assert IdeaSupport.objects.filter(member=noa).count() == 0
    assert Idea.objects.get(pk=other.pk).supporters == 1  # the total stays
    assert IdeaComment.objects.filter(idea=other).count() == 0
    assert Idea.objects.get(pk=other.pk).comment_count == 0


def test_merging_counts_a_member_who_supported_from_both_records_once(brand, make_member, make_idea):
    kept, duplicate, friend = make_member("Noa"), make_member("Noa B"), make_member("Dan")
    both = make_idea(title="Both supported")
    only_dup = make_idea(title="Only the duplicate")
    for member in (kept, duplicate, friend):
        idea_support(idea=both, member=member)
    idea_support(idea=only_dup, member=duplicate)
    program = beta_program_create(brand=brand, title="Planner", places=3, agreement="OK", actor=SYSTEM)
    beta_apply(program=program, member=duplicate, agreement_accepted=True)
    members_merge_run(source=duplicate, target=kept)
    assert Idea.objects.get(pk=both.pk).supporters == 2
    # The duplicate's second support stays with the duplicate (so an undo has nothing to recreate), uncounted.
    assert set(IdeaSupport.objects.filter(idea=both).values_list("member_id", flat=True)) == {
        kept.pk,
        friend.pk,
        duplicate.pk,
    }
    assert Idea.objects.get(pk=only_dup.pk).supporters == 1
    assert IdeaSupport.objects.get(idea=only_dup).member_id == kept.pk
    assert BetaApplication.objects.get(program=program).member_id == kept.pk
    assert list(IdeaSupport.objects.filter(member=duplicate).values_list("idea_id", flat=True)) == [both.pk]
