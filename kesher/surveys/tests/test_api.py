"""The surveys API: staff build a survey, members answer once (201, 422 per question, 409), results;
brand isolation and scopes, and refusals that change nothing."""

from __future__ import annotations

import pytest

from kesher.core.models import AuditEntry
from kesher.core.tests.fingerprint import changed_models, rows_fingerprint
from kesher.members.tests.factories import MemberFactory
from kesher.surveys.models import Survey, SurveyResponse
from kesher.surveys.tests.factories import key, make_survey

pytestmark = pytest.mark.django_db


def test_staff_build_reorder_publish_and_close_a_survey_through_the_api(api):
    made = api.post(
        "/surveys",
        {
            "title_he": "איך היה?",
            "title_en": "How was it?",
            "questions": [{"kind": "nps", "text_he": "תמליצו?", "text_en": "Recommend?"}],
        },
    )
    assert made.status == 201, made.body
    survey_id = made.body["id"]
    assert made.body["status"] == "draft"
    added = api.post(
        f"/surveys/{survey_id}/questions",
        {
            "kind": "single",
            "text_en": "Which?",
            "choices": [{"value": "a", "en": "A"}, {"value": "b", "he": "ב"}],
        },
    )
    assert added.status == 201, added.body
    first = made.body["questions"][0]["id"]
    reordered = api.post(f"/surveys/{survey_id}/questions/order", {"order": [added.body["id"], first]})
    assert [q["id"] for q in reordered.body["questions"]] == [added.body["id"], first]
    assert api.post(f"/surveys/{survey_id}/publish").body["status"] == "published"
    late = api.post(f"/surveys/{survey_id}/questions", {"kind": "text", "text_en": "More?"})
    assert (late.status, late.body["error"]["code"]) == (409, "survey_not_draft")
    assert api.post(f"/surveys/{survey_id}/close").body["status"] == "closed"
    actions = set(AuditEntry.objects.filter(target_id=survey_id).values_list("action", flat=True))
    assert actions == {
        "survey.create",
        "survey.question_add",
        "survey.questions_reorder",
        "survey.publish",
        "survey.close",
    }


def test_a_member_answers_once_with_201_then_409(api, brand):
    survey = make_survey(brand)
    member = MemberFactory(brand=brand)
    body = {"member_id": str(member.pk), "answers": {key(survey, "nps"): 9, key(survey, "csat"): 5}}
    first = api.post(f"/surveys/{survey.pk}/responses", body)
    assert first.status == 201, first.body
    assert (first.body["nps"], first.body["csat"], first.body["anonymous"]) == (9, 5, False)
    before = rows_fingerprint()
    second = api.post(f"/surveys/{survey.pk}/responses", {**body, "answers": {key(survey, "nps"): 1}})
    assert (second.status, second.body["error"]["code"]) == (409, "already_answered")
    assert changed_models(before, rows_fingerprint()) == []


def test_answers_that_do_not_fit_get_a_422_naming_each_question(api, brand):
    survey = make_survey(brand)
    member = MemberFactory(brand=brand)
    before = rows_fingerprint()
    answer = api.post(
        f"/surveys/{survey.pk}/responses",
        {"member_id": str(member.pk), "answers": {key(survey, "nps"): 12, key(survey, "single"): "tea"}},
    )
    assert answer.status == 422
    assert answer.body["error"]["code"] == "answers_invalid"
    assert answer.body["error"]["questions"] == {
        key(survey, "nps"): "A whole number from 0 to 10",
        key(survey, "single"): "One of: coffee, cake",
    }
    assert changed_models(before, rows_fingerprint()) == []


def test_results_of_nps_csat_choices_and_text_from_known_answers(api, brand):
    survey = make_survey(brand)
    scores = [10, 10, 9, 9, 9, 8, 7, 6, 3, 0]  # 5 promoters, 2 passives, 3 detractors
    csats = [5, 4, 3, 2, 4, None, None, None, None, None]
    for number, (score, csat) in enumerate(zip(scores, csats, strict=True)):
        answers = {key(survey, "nps"): score, key(survey, "single"): "cake" if number % 3 == 0 else "coffee"}
        if csat is not None:
            answers[key(survey, "csat")] = csat
        if number < 2:
            answers[key(survey, "text")] = f"הערה {number}"
        member = MemberFactory(brand=brand)
        assert (
            api.post(
                f"/surveys/{survey.pk}/responses", {"member_id": str(member.pk), "answers": answers}
            ).status
            == 201
        )
    results = api.get(f"/surveys/{survey.pk}/results")
    assert results.status == 200
    by_kind = {q["kind"]: q for q in results.body["questions"]}
    nps = by_kind["nps"]
    assert {k: nps[k] for k in ("nps", "promoters", "passives", "detractors", "responses")} == {
        "nps": 20.0,
        "promoters": 5,
        "passives": 2,
        "detractors": 3,
        "responses": 10,
    }
    assert (by_kind["csat"]["csat"], by_kind["csat"]["satisfied"], by_kind["csat"]["responses"]) == (
        60.0,
        3,
        5,
    )
    assert by_kind["csat"]["distribution"] == {"1": 0, "2": 1, "3": 1, "4": 2, "5": 1}
    assert [(c["value"], c["count"]) for c in by_kind["single"]["choices"]] == [("coffee", 6), ("cake", 4)]
    assert sorted(v["text"] for v in by_kind["text"]["verbatims"]) == ["הערה 0", "הערה 1"]
    assert results.body["responses"] == 10


def test_another_brands_key_finds_nothing_and_changes_nothing(brand, other_brand, make_api):
    survey = make_survey(brand)
    member = MemberFactory(brand=brand)
    stranger = make_api(other_brand, "all")
    before = rows_fingerprint()
    for call in (
        stranger.get(f"/surveys/{survey.pk}"),
        stranger.get(f"/surveys/{survey.pk}/results"),
        stranger.post(
            f"/surveys/{survey.pk}/responses",
            {"member_id": str(member.pk), "answers": {key(survey, "nps"): 9}},
        ),
        stranger.post(f"/surveys/{survey.pk}/close"),
        stranger.post(f"/surveys/{survey.pk}/invitations", {"member_id": str(member.pk)}),
    ):
        assert call.status == 404, call.body
    assert stranger.get("/surveys").body == []
    assert changed_models(before, rows_fingerprint()) == []
    assert not SurveyResponse.objects.exists()
    assert Survey.objects.get(pk=survey.pk).status == "published"


def test_a_pos_key_answers_but_does_not_build_nor_read_results(brand, make_api):
    survey = make_survey(brand)
    pos = make_api(brand, "pos")
    before = rows_fingerprint()
    refused = pos.post("/surveys", {"title_en": "Sneaky", "questions": []})
    assert (refused.status, refused.body["error"]["code"]) == (403, "insufficient_scope")
    assert pos.get(f"/surveys/{survey.pk}/results").status == 403
    assert changed_models(before, rows_fingerprint()) == []
    member = MemberFactory(brand=brand)
    answered = pos.post(
        f"/surveys/{survey.pk}/responses", {"member_id": str(member.pk), "answers": {key(survey, "nps"): 10}}
    )
    assert answered.status == 201


def test_the_contact_rule_is_a_brand_setting(api):
    assert api.get("/survey-settings").body == {"contact_interval_days": 30}
    assert api.patch("/survey-settings", {"contact_interval_days": 14}).body == {"contact_interval_days": 14}
    assert api.patch("/survey-settings", {"contact_interval_days": 400}).status == 422
    assert AuditEntry.objects.filter(action="survey.settings").count() == 1
