"""Points follow what earned them: an acceptance that moves, a post removed as spam, a post restored."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth import get_user_model

from kesher.community.models import CommunityProfile, CommunitySettings, PointsReversal, Space
from kesher.community.services import (
    Author,
    answer_accept,
    answer_post,
    post_hide,
    post_restore,
    question_ask,
)
from kesher.community.services.answers import answer_unaccept
from kesher.core.audit import SYSTEM, Actor
from kesher.core.models import AuditEntry
from kesher.loyalty.models import LedgerEntry, PointsAccount, PointsLot
from kesher.loyalty.services import ledger_verify, points_adjust, redemption_create, reward_create
from kesher.members.models import Member

pytestmark = pytest.mark.django_db


def balance(member: Member) -> int:
    return PointsAccount.objects.get(member=member).balance


def figures(member: Member) -> tuple[int, int, int]:
    account = PointsAccount.objects.get(member=member)
    return account.balance, account.lifetime_earned, account.lifetime_redeemed


def lots(member: Member, activity_type: str) -> list[tuple[int, int, str]]:
    """(points, remaining, state) of the member's lots from activities of this type, oldest first."""
    return list(
        PointsLot.objects.filter(account__member=member, activity__type=activity_type)
        .order_by("id")
        .values_list("points", "remaining", "state")
    )


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
    assert ledger(first) == [("earn", 1), ("earn", 10), ("reverse", -10)]
    assert figures(first) == (1, 1, 0)
    assert lots(first, "answer_accepted") == [(10, 0, "reversed")]
    reversal = PointsReversal.objects.get(member=first)
    assert (reversal.reason, reversal.points, reversal.grant_key) == (
        "acceptance_moved",
        10,
        f"answer_accepted:{answer_a.pk}",
    )
    assert reversal.ledger_entry is not None and reversal.ledger_entry.points == -10
    assert reversal.ledger_entry.activity_id == reversal.activity_id
    assert reversal.ledger_entry.description == "An accepted answer is no longer the accepted one"

    # Back to A: A earns again (a new round), B gives back; never twice, never lost.
    answer_accept(answer=answer_a, member=asker)
    assert (balance(first), balance(second)) == (1 + 10, 1)
    answer_unaccept(question=question, member=asker)
    assert (balance(first), balance(second), balance(asker)) == (1, 1, 1)
    assert (reputation(first), reputation(second), reputation(asker)) == (1, 1, 1)
    assert ledger(first) == [("earn", 1), ("earn", 10), ("reverse", -10), ("earn", 10), ("reverse", -10)]
    assert ledger_verify(brand=general.brand) == []
    # Earned, taken back, earned, taken back: what stands is the answer's 1 point.
    assert figures(first) == (1, 1, 0)
    assert figures(second) == (1, 1 + 10 - 10, 0)
    assert lots(first, "answer_accepted") == [(10, 0, "reversed"), (10, 0, "reversed")]


def test_points_already_spent_are_taken_only_as_far_as_the_balance_goes(
    general: Space, thread: tuple[Member, ...]
) -> None:
    asker, first, second = thread
    question = question_ask(space=general, author=Author(member=asker), title="איך מצטרפים?", body="?")
    answer_a = answer_post(question=question, author=Author(member=first), body="באפליקציה")
    answer_b = answer_post(question=question, author=Author(member=second), body="בקופה")
    answer_accept(answer=answer_a, member=asker)
    points_adjust(member=first, points=-7, reason="מימוש בקופה", actor=SYSTEM)  # spent 7 of the 11
    # The adjustment took the answer's 1 point (earned first), then 6 of the acceptance's 10.
    assert (lots(first, "answer_posted"), lots(first, "answer_accepted")) == (
        [(1, 0, "available")],
        [(10, 4, "available")],
    )
    answer_accept(answer=answer_b, member=asker)
    assert figures(first) == (0, 11 - 4, 0)
    assert lots(first, "answer_accepted") == [(10, 0, "reversed")]
    assert PointsReversal.objects.get(member=first).points == 4
    assert ledger(first) == [("earn", 1), ("earn", 10), ("adjust", -7), ("reverse", -4)]
    assert ledger_verify(brand=general.brand) == []

    # Accepted again: the member kept 6 of the first acceptance's points, so this round gives only the 4
    # that were taken back (it earns 10 and gives 6 back at once), and one acceptance never pays twice.
    answer_accept(answer=answer_a, member=asker)
    assert figures(first) == (4, 11, 0)
    assert figures(second) == (1, 1, 0)
    assert ledger(first)[4:] == [("earn", 10), ("reverse", -6)]
    assert lots(first, "answer_accepted") == [(10, 0, "reversed"), (10, 4, "available")]
    # Moving it away again takes those 4, and back again gives them: every round nets what it took.
    answer_accept(answer=answer_b, member=asker)
    assert figures(first) == (0, 7, 0)
    answer_accept(answer=answer_a, member=asker)
    assert figures(first) == (4, 11, 0)
    assert [p for _, p in ledger(first)[6:]] == [-4, 10, -6]
    assert ledger_verify(brand=general.brand) == []


def test_spam_removal_reverses_the_posts_points_and_a_restore_gives_them_back(
    general: Space, thread: tuple[Member, ...]
) -> None:
    asker, spammer, _second = thread
    question = question_ask(space=general, author=Author(member=asker), title="איך מצטרפים?", body="?")
    answer = answer_post(question=question, author=Author(member=spammer), body="קנו אצלנו")
    answer_accept(answer=answer, member=asker)
    assert (balance(spammer), reputation(spammer)) == (1 + 10, 1 + 15)

    user = get_user_model().objects.create(username="mod")
    moderator = Actor(user=user)
    post_hide(post=answer, actor=moderator, reason="פרסומת", spam=True)
    assert (balance(spammer), reputation(spammer)) == (0, 1 + 15 - 100)
    assert figures(spammer) == (0, 0, 0)
    assert sorted(PointsReversal.objects.filter(member=spammer).values_list("grant_key", "points")) == sorted(
        [(f"answer_posted:{answer.pk}", 1), (f"answer_accepted:{answer.pk}", 10)]
    )
    assert ledger(spammer) == [("earn", 1), ("earn", 10), ("reverse", -1), ("reverse", -10)]
    assert (lots(spammer, "answer_posted"), lots(spammer, "answer_accepted")) == (
        [(1, 0, "reversed")],
        [(10, 0, "reversed")],
    )
    audits = AuditEntry.objects.filter(action="points.reverse", target_id=str(spammer.pk))
    assert sorted(a.data["points"] for a in audits) == [-10, -1]
    assert {a.actor_user_id for a in audits} == {user.pk}
    # Hiding again (not as spam) or as spam a second time takes nothing more.
    post_hide(post=answer, actor=SYSTEM, reason="שוב", spam=True)
    assert PointsReversal.objects.filter(member=spammer).count() == 2
    assert balance(spammer) == 0

    post_restore(post=answer, actor=SYSTEM, reason="טעות")
    assert (balance(spammer), reputation(spammer)) == (1 + 10, 1 + 15 - 100)  # the second penalty stays
    assert figures(spammer) == (11, 11, 0)
    assert ledger(spammer)[4:] == [("earn", 1), ("earn", 10)]
    assert ledger_verify(brand=general.brand) == []


def test_a_restore_gives_back_exactly_what_the_spam_removal_took(
    general: Space, thread: tuple[Member, ...]
) -> None:
    asker, spammer, _second = thread
    question = question_ask(space=general, author=Author(member=asker), title="איך מצטרפים?", body="?")
    answer = answer_post(question=question, author=Author(member=spammer), body="קנו אצלנו")
    answer_accept(answer=answer, member=asker)
    reward = reward_create(brand=general.brand, name="קפה", cost_points=7, kind="free_item")
    redemption_create(member=spammer, reward=reward)  # the answer's point and 6 of the acceptance's 10
    before = figures(spammer)
    assert before == (4, 11, 7)

    post_hide(post=answer, actor=SYSTEM, spam=True)
    # The answer's own lot was spent: its 1 comes from the acceptance's lot, which then gives its last 3.
    assert sorted(PointsReversal.objects.filter(member=spammer).values_list("grant_key", "points")) == sorted(
        [(f"answer_posted:{answer.pk}", 1), (f"answer_accepted:{answer.pk}", 3)]
    )
    assert figures(spammer) == (0, 11 - 4, 7)

    post_restore(post=answer, actor=SYSTEM)
    # Both grants are earned again (11), and the 7 the removal could not take are not given twice.
    assert figures(spammer) == before
    assert ledger(spammer) == [
        ("earn", 1),
        ("earn", 10),
        ("redeem", -7),
        ("reverse", -1),
        ("reverse", -3),
        ("earn", 1),
        ("earn", 10),
        ("reverse", -7),
    ]
    assert lots(spammer, "answer_accepted") == [(10, 0, "reversed"), (10, 3, "available")]
    assert ledger_verify(brand=general.brand) == []
    # Restoring again gives nothing more.
    post_restore(post=answer, actor=SYSTEM)
    assert figures(spammer) == before


def test_a_question_removed_as_spam_loses_its_point(general: Space, thread: tuple[Member, ...]) -> None:
    asker = thread[0]
    question = question_ask(space=general, author=Author(member=asker), title="קנו עכשיו בזול", body="!")
    assert balance(asker) == 1
    post_hide(post=question, actor=SYSTEM, spam=True)
    assert (balance(asker), reputation(asker)) == (0, 1 - 100)
    assert figures(asker) == (0, 0, 0)
    assert not AuditEntry.objects.filter(action="points.reverse").exists()  # the system acted
    post_hide(post=question, actor=SYSTEM, spam=False)
    assert balance(asker) == 0
    assert ledger_verify(brand=general.brand) == []
