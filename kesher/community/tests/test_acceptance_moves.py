"""When the accepted answer changes, the reputation the first acceptance gave is taken back."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kesher.community.models import CommunityProfile, CommunitySettings, ReputationEvent, Space
from kesher.community.services import Author, answer_accept, answer_post, question_ask
from kesher.members.models import Member

pytestmark = pytest.mark.django_db


def reputation(member: Member) -> int:
    return CommunityProfile.objects.get(member=member).reputation


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
