"""A member's survey data: exported, erased (the statistics stay, anonymous), merged (one answer kept)."""

from __future__ import annotations

from typing import Any

import pytest

from kesher.members.hooks import member_erase_run, member_export_run, members_merge_run
from kesher.members.tests.factories import MemberFactory
from kesher.surveys.invitations import survey_invite
from kesher.surveys.models import (
    SurveyAlert,
    SurveyAnswer,
    SurveyInvitation,
    SurveyRespondent,
    SurveyResponse,
)
from kesher.surveys.selectors import survey_results
from kesher.surveys.services import response_submit
from kesher.surveys.tests.factories import key, make_survey

pytestmark = pytest.mark.django_db


def test_the_export_holds_the_members_answers_but_not_their_anonymous_ones(brand):
    named, anonymous = make_survey(brand), make_survey(brand, anonymous=True)
    member = MemberFactory(brand=brand, locale="en")
    survey_invite(survey=named, member=member)
    response_submit(survey=named, member=member, answers={key(named, "nps"): 8, key(named, "text"): "Nice"})
    response_submit(survey=anonymous, member=member, answers={key(anonymous, "nps"): 2})
    exported: Any = member_export_run(member=member)["surveys"]
    assert {row["survey_id"] for row in exported["answered"]} == {str(named.pk), str(anonymous.pk)}
    assert [r["survey_id"] for r in exported["responses"]] == [str(named.pk)]
    answers = {a["question"]: (a["number"], a["text"]) for a in exported["responses"][0]["answers"]}
    assert answers == {"How likely are you to recommend us?": (8, ""), "Tell us more": (None, "Nice")}
    assert [row["status"] for row in exported["invitations"]] == ["sent"]


def test_erasure_keeps_the_scores_without_the_member_and_drops_their_words(brand):
    survey = make_survey(brand)
    member = MemberFactory(brand=brand)
    survey_invite(survey=survey, member=member)
    response_submit(
        survey=survey, member=member, answers={key(survey, "nps"): 2, key(survey, "text"): "Call me: 050"}
    )
    member_erase_run(member=member)
    response = SurveyResponse.objects.get()
    assert (response.member_id, response.nps) == (None, 2)
    assert list(SurveyAnswer.objects.exclude(text="").values_list("text", flat=True)) == []
    alert = SurveyAlert.objects.get()
    assert (alert.member_id, alert.comment, alert.score) == (None, "", 2)
    assert not SurveyInvitation.objects.exists()
    assert not SurveyRespondent.objects.exists()
    nps = next(q for q in survey_results(survey=survey)["questions"] if q["kind"] == "nps")
    assert (nps["responses"], nps["detractors"], nps["nps"]) == (1, 1, -100.0)


def test_merging_keeps_one_answer_where_both_answered_and_moves_the_rest(brand):
    both, only_source = make_survey(brand), make_survey(brand)
    kept, duplicate = MemberFactory(brand=brand), MemberFactory(brand=brand)
    response_submit(survey=both, member=kept, answers={key(both, "nps"): 9})
    response_submit(survey=both, member=duplicate, answers={key(both, "nps"): 1})
    response_submit(survey=only_source, member=duplicate, answers={key(only_source, "nps"): 5})
    members_merge_run(source=duplicate, target=kept)
    assert list(SurveyResponse.objects.filter(survey=both).values_list("member_id", "nps")) == [(kept.pk, 9)]
    assert list(SurveyResponse.objects.filter(survey=only_source).values_list("member_id", "nps")) == [
        (kept.pk, 5)
    ]
    assert SurveyAlert.objects.filter(member=kept).count() == 1  # the 5's alert moved; the 1's went
    assert sorted(SurveyRespondent.objects.values_list("survey_id", "member_id")) == sorted(
        [(both.pk, kept.pk), (only_source.pk, kept.pk)]
    )
