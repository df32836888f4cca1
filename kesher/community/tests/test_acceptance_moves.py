"""When the accepted answer changes, the reputation the first acceptance gave is taken back."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kesher.community.models import CommunityProfile, CommunitySettings, ReputationEvent, Space
from kesher.community.services import Author, answer_accept, answer_post, question_ask
from kesher.loyalty.models import LedgerEntry, PointsAccount
from kesher.loyalty.services import ledger_verify
from kesher.members.models import Member

pytestmark = pytest.mark.django_db


def reputation(member: Member) -> int:
    return CommunityProfile.objects.get(member=member).reputation


def points(member: Member) -> tuple[int, int]:
    """(balance, lifetime_earned)."""
    account = PointsAccount.objects.get(member=member)
    return account.balance, account.lifetime_earned


def test_moving_the_acceptance_takes_back_what_the_first_one_gave(
    general: Space, make_member: Callable[..., Member]
) -> None:
    CommunitySettings.objects.filter(brand=general.brand).update(min_seconds_between_posts=0)
    asker, first, second = make_member("שואל"), make_member("ראשון"), make_member("שני")
    question = question_ask(space=general, author=Author(member=asker), title="איך מצטרפים?", body="?")
    answer_one = answer_post(question=question, author=Author(member=first), body="באפליקציה")
    answer_two = answer_post(question=question, author=Author(member=second), body="בקופה")

    answer_accept(answer=answer_one, member=asker)
    assert (reputation(first), reputation(asker)) == (1 + 15, 1 + 2)
    answer_accept(answer=answer_two, member=asker)
    assert (reputation(first), reputation(second), reputation(asker)) == (1, 1 + 15, 1 + 2)
    reversal = ReputationEvent.objects.get(member=first, reverses__isnull=False)
    assert (reversal.event, reversal.points) == ("answer_accepted", -15)
    # The acceptance's points follow it too, and leave the lifetime figure with the balance.
    assert (points(first), points(second), points(asker)) == ((1, 1), (1 + 10, 1 + 10), (1, 1))
    taken = LedgerEntry.objects.get(account__member=first, kind="reverse")
    assert (taken.points, taken.balance_after, taken.activity.type) == (-10, 1, "answer_accepted")  # type: ignore[union-attr]

    # Back to the first answer: its author earns the acceptance again, once; the lifetime figure is 11.
    answer_accept(answer=answer_one, member=asker)
    assert (points(first), points(second)) == ((1 + 10, 1 + 10), (1, 1))
    assert ledger_verify(brand=general.brand) == []
