"""One answer per member per survey, and one invitation per contact interval, under concurrent requests
on PostgreSQL: the unique respondent row and the member's locked row decide, not a check in Python."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection

from kesher.brands.services import api_key_create, brand_create
from kesher.conftest import ApiClient
from kesher.members.tests.factories import MemberFactory
from kesher.surveys.invitations import survey_invite
from kesher.surveys.models import SurveyInvitation, SurveyRespondent, SurveyResponse
from kesher.surveys.tests.factories import key, make_survey

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
THREADS = 8


def _parallel(count: int, work: Any) -> list[Any]:
    start = threading.Barrier(count)

    def run(number: int) -> Any:
        try:
            start.wait()
            return work(number)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


@pytest.mark.parametrize("anonymous", [False, True])
def test_eight_concurrent_answers_of_one_member_make_one_response(anonymous):
    brand = brand_create(slug="cafe", name="קפה טוב", default_locale="he")
    raw = api_key_create(brand=brand, name="t", scope="all").raw_key
    survey = make_survey(brand, anonymous=anonymous)
    member = MemberFactory(brand=brand)

    def answer(number: int) -> int:
        body = {"member_id": str(member.pk), "answers": {key(survey, "nps"): number % 11}}
        return ApiClient(raw).post(f"/surveys/{survey.pk}/responses", body).status

    statuses = _parallel(THREADS, answer)
    assert sorted(statuses) == [201] + [409] * (THREADS - 1)
    assert SurveyRespondent.objects.filter(survey=survey, member=member).count() == 1
    assert SurveyResponse.objects.filter(survey=survey).count() == 1


def test_concurrent_invitations_to_different_surveys_respect_the_contact_rule():
    brand = brand_create(slug="cafe", name="קפה טוב", default_locale="he")
    surveys = [make_survey(brand) for _ in range(THREADS)]
    member = MemberFactory(brand=brand)

    def invite(number: int) -> str:
        try:
            survey_invite(survey=surveys[number], member=member)
            return "sent"
        except Exception as exc:  # the refusal of the rule
            return getattr(exc, "code", repr(exc))

    outcomes = _parallel(THREADS, invite)
    assert sorted(outcomes) == sorted(["sent"] + ["contact_frequency"] * (THREADS - 1))
    assert SurveyInvitation.objects.filter(member=member, status="sent").count() == 1
