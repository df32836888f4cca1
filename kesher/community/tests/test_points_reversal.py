"""Points follow what earned them: an acceptance that moves, a post removed as spam, a post restored."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kesher.community.models import CommunityProfile, CommunitySettings, PointsReversal, Space
from kesher.community.services import (
    Author,
    answer_accept,
    answer_post,
    answer_unaccept,
    post_hide,
    post_restore,
    question_ask,
)
from kesher.core.audit import SYSTEM
from kesher.core.models import AuditEntry
from kesher.loyalty.models import LedgerEntry, PointsAccount
from kesher.loyalty.services import ledger_verify, points_adjust
from kesher.members.models import Member

pytestmark = pytest.mark.django_db


def balance(member: Member) -> int:
    return PointsAccount.objects.get(member=member).balance


def reputation(member: Member) -> int:
    return CommunityProfile.objects.get(member=member).reputation


def ledger(member: Member) -> list[tuple[str, int]]:
    return list(
        LedgerEntry.objects.filter(account__member=member)
        .order_by("created_at", "id")
        .values_list("kind", "points")
    )


@pytest.fixture
def thread(general: Space, make_member: Callable[..., Member]) -> tuple[Member, ...]:
    CommunitySettings.objects.filter(brand=general.brand).update(min_seconds_between_posts=0)
    return make_member("שואל"), make_member("ראשון"), make_member("שני")


def test_moving_the_acceptance_moves_the_points_and_the_reputation(
    general: Space, thread: tuple[Member, ...]
) -> None:
    asker, first, second = thread
    question = question_ask(space=general, author=Author(member=asker), title="איך מצטרפים?", body="?")
    answer_a = answer_post(question=question, author=Author(member=first), body="באפליקציה")
    answer_b = answer_post(question=question, author=Author(member=second), body="בקופה")
    assert (balance(asker), balance(first), balance(second)) == (1, 1, 1)

    answer_accept(answer=answer_a, member=asker)
    assert (balance(first), balance(second)) == (1 + 10, 1)
    assert (reputation(first), reputation(second), reputation(asker)) == (1 + 15, 1, 1 + 2)

    answer_accept(answer=answer_b, member=asker)
    assert (balance(first), balance(second)) == (1, 1 + 10)
    assert (reputation(first), reputation(second), reputation(asker)) == (1, 1 + 15, 1 + 2)
    assert ledger(first) == [("earn", 1), ("earn", 10), ("adjust", -10)]
    reversal = PointsReversal.objects.get(member=first)
    assert (reversal.reason, reversal.points, reversal.grant_key) == (
        "acceptance_moved",
        10,
        f"answer_accepted:{answer_a.pk}",
    )
    assert reversal.ledger_entry is not None and reversal.ledger_entry.points == -10

    # Back to A: A earns again (a new round), B gives back; never twice, never lost.
    answer_accept(answer=answer_a, member=asker)
    assert (balance(first), balance(second)) == (1 + 10, 1)
    answer_unaccept(question=question, member=asker)
    assert (balance(first), balance(second), balance(asker)) == (1, 1, 1)
    assert (reputation(first), reputation(second), reputation(asker)) == (1, 1, 1)
    assert ledger(first) == [("earn", 1), ("earn", 10), ("adjust", -10), ("earn", 10), ("adjust", -10)]
    assert ledger_verify(brand=general.brand) == []
    account = PointsAccount.objects.get(member=first)
    assert (account.balance, account.lifetime_earned) == (1, 21)


def test_points_already_spent_are_taken_only_as_far_as_the_balance_goes(
    general: Space, thread: tuple[Member, ...]
) -> None:
    asker, first, second = thread
    question = question_ask(space=general, author=Author(member=asker), title="איך מצטרפים?", body="?")
    answer_a = answer_post(question=question, author=Author(member=first), body="באפליקציה")
    answer_b = answer_post(question=question, author=Author(member=second), body="בקופה")
    answer_accept(answer=answer_a, member=asker)
    points_adjust(member=first, points=-7, reason="מימוש בקופה", actor=SYSTEM)  # spent 7 of the 11
    answer_accept(answer=answer_b, member=asker)
    assert balance(first) == 0
    assert PointsReversal.objects.get(member=first).points == 4
    assert ledger_verify(brand=general.brand) == []


def test_spam_removal_reverses_the_posts_points_and_a_restore_gives_them_back(
    general: Space, thread: tuple[Member, ...]
) -> None:
    asker, spammer, _second = thread
    question = question_ask(space=general, author=Author(member=asker), title="איך מצטרפים?", body="?")
    answer = answer_post(question=question, author=Author(member=spammer), body="קנו אצלנו")
    answer_accept(answer=answer, member=asker)
    assert (balance(spammer), reputation(spammer)) == (1 + 10, 1 + 15)

    post_hide(post=answer, actor=SYSTEM, reason="פרסומת", spam=True)
    assert (balance(spammer), reputation(spammer)) == (0, 1 + 15 - 100)
    assert sorted(PointsReversal.objects.filter(member=spammer).values_list("grant_key", "points")) == sorted(
        [(f"answer_posted:{answer.pk}", 1), (f"answer_accepted:{answer.pk}", 10)]
    )
    assert ledger(spammer) == [("earn", 1), ("earn", 10), ("adjust", -1), ("adjust", -10)]
    assert AuditEntry.objects.filter(action="points.adjust", target_id=str(spammer.pk)).count() == 2
    # Hiding again (not as spam) or as spam a second time takes nothing more.
    post_hide(post=answer, actor=SYSTEM, reason="שוב", spam=True)
    assert PointsReversal.objects.filter(member=spammer).count() == 2
    assert balance(spammer) == 0

    post_restore(post=answer, actor=SYSTEM, reason="טעות")
    assert (balance(spammer), reputation(spammer)) == (1 + 10, 1 + 15 - 100)  # the second penalty stays
    assert ledger_verify(brand=general.brand) == []


def test_a_question_removed_as_spam_loses_its_point(general: Space, thread: tuple[Member, ...]) -> None:
    asker = thread[0]
    question = question_ask(space=general, author=Author(member=asker), title="קנו עכשיו בזול", body="!")
    assert balance(asker) == 1
    post_hide(post=question, actor=SYSTEM, spam=True)
    assert (balance(asker), reputation(asker)) == (0, 1 - 100)
    post_hide(post=question, actor=SYSTEM, spam=False)
    assert balance(asker) == 0
    assert ledger_verify(brand=general.brand) == []
