"""Merging two records of one respondent keeps the kept member's answer, and an undo puts every row back."""

from __future__ import annotations

import pytest

from kesher.core.audit import SYSTEM
from kesher.core.tests.fingerprint import changed_models, rows_fingerprint
from kesher.customers.services import members_merge, merge_undo
from kesher.members.tests.factories import MemberFactory
from kesher.surveys.models import SurveyAnswer, SurveyRespondent, SurveyResponse
from kesher.surveys.selectors import survey_results
from kesher.surveys.services import response_submit
from kesher.surveys.tests.factories import key, make_survey

pytestmark = pytest.mark.django_db

_BOOKKEEPING = {"customers.membermerge", "core.auditentry", "customers.duplicatepair"}


def test_merge_keeps_the_kept_members_answer_and_undo_puts_every_row_back(brand):
    both, only_source = make_survey(brand), make_survey(brand)
    kept, duplicate = MemberFactory(brand=brand), MemberFactory(brand=brand)
    response_submit(survey=both, member=kept, answers={key(both, "nps"): 9})
    response_submit(
        survey=both, member=duplicate, answers={key(both, "nps"): 1, key(both, "text"): "Too slow"}
    )
    response_submit(survey=only_source, member=duplicate, answers={key(only_source, "nps"): 5})
    answers = SurveyAnswer.objects.count()

    before = rows_fingerprint()
    merge = members_merge(brand=brand, source_id=duplicate.pk, target_id=kept.pk, actor=SYSTEM)

    assert list(SurveyResponse.objects.filter(survey=both).values_list("member_id", "nps")) == [(kept.pk, 9)]
    assert list(SurveyResponse.objects.filter(survey=only_source).values_list("member_id", flat=True)) == [
        kept.pk
    ]
    assert sorted(SurveyRespondent.objects.values_list("survey_id", "member_id")) == sorted(
        [(both.pk, kept.pk), (only_source.pk, kept.pk)]
    )
    assert SurveyAnswer.objects.count() < answers
    nps = next(q for q in survey_results(survey=both)["questions"] if q["kind"] == "nps")
    assert (nps["responses"], nps["nps"]) == (1, 100.0)

    merge_undo(brand=brand, merge_id=merge.pk, actor=SYSTEM)
    assert set(changed_models(before, rows_fingerprint())) <= _BOOKKEEPING
    nps = next(q for q in survey_results(survey=both)["questions"] if q["kind"] == "nps")
    assert nps["responses"] == 2
