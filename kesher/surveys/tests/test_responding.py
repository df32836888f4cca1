"""Answering: every answer checked against its question, one response per member, anonymity, the
detractor alert, the activity, the event and the points for answering."""

from __future__ import annotations

from typing import Any

import pytest

from kesher.activity.models import Activity
from kesher.core.errors import Conflict
from kesher.core.tests.fingerprint import changed_models, rows_fingerprint
from kesher.loyalty.models import EarningRule, PointsAccount
from kesher.members.tests.factories import MemberFactory
from kesher.surveys.models import SurveyAlert, SurveyAnswer, SurveyRespondent, SurveyResponse
from kesher.surveys.services import AnswersInvalid, response_submit
from kesher.surveys.tests.factories import key, make_survey

pytestmark = pytest.mark.django_db


def test_a_full_response_is_stored_answer_by_answer(brand):
    survey = make_survey(brand)
    member = MemberFactory(brand=brand)
    response = response_submit(
        survey=survey,
        member=member,
        answers={
            key(survey, "nps"): 9,
            key(survey, "csat"): 4,
            key(survey, "single"): "cake",
            key(survey, "multiple"): ["price", "staff"],
            key(survey, "scale"): 7,
            key(survey, "text"): "ולשירות היה מצוין",
        },
        store="Dizengoff",
        sku="LATTE-1",
    )
    assert (response.member_id, response.nps, response.csat, response.store, response.sku) == (
        member.pk,
        9,
        4,
        "Dizengoff",
        "LATTE-1",
    )
    rows = {
        a.question.kind: a for a in SurveyAnswer.objects.filter(response=response).select_related("question")
    }
    assert rows["multiple"].choices == ["staff", "price"]  # in the question's order
    assert rows["single"].choices == ["cake"]
    assert rows["scale"].number == 7
    assert " שירות " in rows["text"].terms and " ולשירות " in rows["text"].terms
    assert not SurveyAlert.objects.exists()  # a promoter opens no alert


@pytest.mark.parametrize(
    ("kind", "value", "problem"),
    [
        ("nps", 11, "A whole number from 0 to 10"),
        ("nps", -1, "A whole number from 0 to 10"),
        ("nps", True, "A whole number from 0 to 10"),
        ("nps", "9", "A whole number from 0 to 10"),
        ("csat", 0, "A whole number from 1 to 5"),
        ("scale", 8, "A whole number from 1 to 7"),
        ("single", "tea", "One of: coffee, cake"),
        ("multiple", ["staff", "staff"], "Each choice once"),
        ("multiple", "staff", "A list of some of: staff, place, price"),
        ("text", 5, "Text"),
        ("text", "x" * 5001, "At most 5000 characters"),
    ],
)
def test_an_answer_that_does_not_fit_is_refused_naming_its_question(brand, kind, value, problem):
    survey = make_survey(brand)
    member = MemberFactory(brand=brand)
    answers: dict[str, Any] = {key(survey, "nps"): 8}
    answers[key(survey, kind)] = value
    before = rows_fingerprint()
    with pytest.raises(AnswersInvalid) as refused:
        response_submit(survey=survey, member=member, answers=answers)
    assert refused.value.problems == {key(survey, kind): problem}
    assert changed_models(before, rows_fingerprint()) == []


def test_a_required_question_left_out_and_an_unknown_question_are_both_named(brand):
    survey = make_survey(brand)
    member = MemberFactory(brand=brand)
    with pytest.raises(AnswersInvalid) as refused:
        response_submit(survey=survey, member=member, answers={"not-a-question": 3})
    assert refused.value.problems == {
        "not-a-question": "Not a question of this survey",
        key(survey, "nps"): "An answer is required",
    }


def test_a_second_response_is_a_conflict_and_changes_nothing(brand):
    survey = make_survey(brand)
    member = MemberFactory(brand=brand)
    response_submit(survey=survey, member=member, answers={key(survey, "nps"): 10})
    before = rows_fingerprint()
    with pytest.raises(Conflict) as refused:
        response_submit(survey=survey, member=member, answers={key(survey, "nps"): 2})
    assert refused.value.code == "already_answered"
    assert changed_models(before, rows_fingerprint()) == []


def test_a_draft_or_closed_survey_takes_no_answers(brand):
    from kesher.surveys.services import survey_close

    draft = make_survey(brand, publish=False)
    member = MemberFactory(brand=brand)
    with pytest.raises(Conflict) as refused:
        response_submit(survey=draft, member=member, answers={key(draft, "nps"): 10})
    assert refused.value.code == "survey_not_open"
    closed = survey_close(survey=make_survey(brand))
    with pytest.raises(Conflict):
        response_submit(survey=closed, member=member, answers={key(closed, "nps"): 10})


def test_an_anonymous_response_keeps_no_member_but_the_member_still_answers_once(brand):
    survey = make_survey(brand, anonymous=True)
    member = MemberFactory(brand=brand)
    response = response_submit(
        survey=survey, member=member, answers={key(survey, "nps"): 3, key(survey, "text"): "slow"}
    )
    assert response.member_id is None
    assert (response.created_at.hour, response.created_at.minute) == (0, 0)  # the day only
    assert SurveyRespondent.objects.filter(survey=survey, member=member).count() == 1
    alert = SurveyAlert.objects.get()
    assert (alert.member_id, alert.score, alert.comment) == (None, 3, "slow")
    # The activity says the member answered, not what: scores stay out of the member's stream.
    activity = Activity.objects.get(member=member, type="survey_answered")
    assert activity.attributes == {"survey_id": str(survey.pk)}  # no nps, no csat
    with pytest.raises(Conflict):
        response_submit(survey=survey, member=member, answers={key(survey, "nps"): 9})
    assert SurveyResponse.objects.count() == 1


def test_a_detractor_opens_an_alert_and_the_activity_and_event_carry_the_scores(
    brand, django_capture_on_commit_callbacks
):
    from kesher.core import events

    heard: list[events.Event] = []
    events.on_event(heard.append)
    try:
        survey = make_survey(brand)
        member = MemberFactory(brand=brand)
        with django_capture_on_commit_callbacks(execute=True):
            response = response_submit(
                survey=survey,
                member=member,
                answers={
                    key(survey, "nps"): 6,
                    key(survey, "csat"): 2,
                    key(survey, "text"): "The coffee was cold",
                },
            )
    finally:
        events._listeners.remove(heard.append)
    alert = SurveyAlert.objects.get()
    assert (alert.response_id, alert.member_id, alert.score, alert.status) == (
        response.pk,
        member.pk,
        6,
        "open",
    )
    activity = Activity.objects.get(member=member, type="survey_answered")
    assert activity.attributes == {"survey_id": str(survey.pk), "nps": 6, "csat": 2}
    answered = [e for e in heard if e.type == "survey.answered"]
    assert [dict(e.data) for e in answered] == [
        {
            "survey_id": str(survey.pk),
            "response_id": str(response.pk),
            "member_id": str(member.pk),
            "nps": 6,
            "csat": 2,
        }
    ]


def test_a_passive_seven_opens_no_alert(brand):
    survey = make_survey(brand)
    response_submit(survey=survey, member=MemberFactory(brand=brand), answers={key(survey, "nps"): 7})
    assert not SurveyAlert.objects.exists()


def test_points_for_answering_are_the_same_whatever_the_score(brand):
    EarningRule.objects.create(
        brand=brand, name="Answering a survey", activity_type="survey_answered", effect="fixed", points=20
    )
    survey = make_survey(brand)
    detractor, promoter = MemberFactory(brand=brand), MemberFactory(brand=brand)
    response_submit(survey=survey, member=detractor, answers={key(survey, "nps"): 0, key(survey, "csat"): 1})
    response_submit(survey=survey, member=promoter, answers={key(survey, "nps"): 10, key(survey, "csat"): 5})
    balances = {m: PointsAccount.objects.get(member=m).balance for m in (detractor, promoter)}
    assert balances == {detractor: 20, promoter: 20}


def test_a_member_of_another_brand_cannot_answer(brand, other_brand):
    from kesher.core.errors import NotFound

    survey = make_survey(brand)
    stranger = MemberFactory(brand=other_brand)
    with pytest.raises(NotFound):
        response_submit(survey=survey, member=stranger, answers={key(survey, "nps"): 9})
