"""A member answers a survey: the answers checked against the questions, one response per member (the
database's unique respondent row), the detractor alert, the activity and the `survey.answered` event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from kesher.activity.services import activity_record
from kesher.community.textsearch import forms_of, words
from kesher.core.errors import Conflict, NotFound, ValidationFailed
from kesher.core.events import event_emit
from kesher.members.models import Member, MemberStatus
from kesher.surveys.models import (
    AlertStatus,
    Question,
    QuestionKind,
    Survey,
    SurveyAlert,
    SurveyAnswer,
    SurveyInvitation,
    SurveyRespondent,
    SurveyResponse,
    SurveyStatus,
)
from kesher.surveys.types import SURVEY_ANSWERED

ACTIVITY_SOURCE = "surveys"
MAX_TEXT = 5000
DETRACTOR_MAX = 6


class AnswersInvalid(ValidationFailed):
    """Some answers do not fit their questions; `problems` says what, question by question."""

    code = "answers_invalid"

    def __init__(self, problems: dict[str, str]) -> None:
        first = next(iter(problems))
        listed = "; ".join(f"{key}: {why}" for key, why in problems.items())
        super().__init__(f"Some answers are not valid: {listed}", field=f"answers.{first}")
        self.problems = problems


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == []


def answer_check(question: Question, value: Any) -> tuple[SurveyAnswer | None, str | None]:
    """The answer row a value makes for a question (unsaved; None when left out), or why it does not fit."""
    if _blank(value):
        return None, ("An answer is required" if question.required else None)
    bounds = question.bounds()
    if bounds is not None:
        low, high = bounds
        if not _is_int(value) or not low <= value <= high:
            return None, f"A whole number from {low} to {high}"
        return SurveyAnswer(question=question, number=value), None
    values = [choice["value"] for choice in question.choices]
    if question.kind == QuestionKind.SINGLE:
        if not isinstance(value, str) or value not in values:
            return None, "One of: " + ", ".join(values)
        return SurveyAnswer(question=question, choices=[value]), None
    if question.kind == QuestionKind.MULTIPLE:
        if not isinstance(value, list) or not all(isinstance(v, str) and v in values for v in value):
            return None, "A list of some of: " + ", ".join(values)
        if len(set(value)) != len(value):
            return None, "Each choice once"
        return SurveyAnswer(question=question, choices=[v for v in values if v in value]), None
    if not isinstance(value, str):
        return None, "Text"
    text = value.strip()
    if len(text) > MAX_TEXT:
        return None, f"At most {MAX_TEXT} characters"
    if not text:
        return None, ("An answer is required" if question.required else None)
    return SurveyAnswer(question=question, text=text, terms=text_terms(text)), None


def text_terms(text: str) -> str:
    """The Hebrew-aware search forms of a verbatim (the community's: niqqud, final letters, prefixes)."""
    terms: dict[str, None] = {}
    for word in words(text):
        terms[word] = None
        for form in forms_of(word):
            terms[form] = None
    return f" {' '.join(terms)} " if terms else ""


def answers_check(survey: Survey, answers: dict[str, Any]) -> list[SurveyAnswer]:
    """Every answer checked against its question; AnswersInvalid names each question that does not fit."""
    questions = {str(q.pk): q for q in survey.questions.all()}
    problems: dict[str, str] = {}
    rows: list[SurveyAnswer] = []
    for key in answers:
        if key not in questions:
            problems[key] = "Not a question of this survey"
    for key, question in questions.items():
        row, problem = answer_check(question, answers.get(key))
        if problem:
            problems[key] = problem
        elif row is not None:
            rows.append(row)
    if problems:
        raise AnswersInvalid(problems)
    if not rows:
        raise ValidationFailed("Answer at least one question", field="answers")
    return rows


def _first(rows: list[SurveyAnswer], kind: str) -> int | None:
    for row in rows:
        if row.question.kind == kind:
            return row.number
    return None


def response_submit(
    *,
    survey: Survey,
    member: Member,
    answers: dict[str, Any],
    locale: str | None = None,
    store: str = "",
    sku: str = "",
    invitation: SurveyInvitation | None = None,
    now: datetime | None = None,
) -> SurveyResponse:
    """Record the member's answers. 409 `already_answered` on a second response (the unique respondent row
    decides, so two concurrent requests cannot both pass), 409 `survey_not_open` unless published."""
    if member.brand_id != survey.brand_id:
        raise NotFound("No such member", field="member_id")
    if member.status == MemberStatus.ERASED:
        raise NotFound("No such member", field="member_id")
    if survey.status != SurveyStatus.PUBLISHED:
        raise Conflict("This survey is not open for answers", code="survey_not_open")
    rows = answers_check(survey, answers)
    if invitation is not None:
        store, sku = store or invitation.store, sku or invitation.sku
    now = now or timezone.now()
    nps, csat = _first(rows, QuestionKind.NPS), _first(rows, QuestionKind.CSAT)
    with transaction.atomic():
        try:
            with transaction.atomic():
                SurveyRespondent.objects.create(
                    brand_id=survey.brand_id, survey=survey, member=member, answered_on=now.date()
                )
        except IntegrityError:
            raise Conflict("This member has already answered this survey", code="already_answered") from None
        anonymous = survey.anonymous
        response = SurveyResponse.objects.create(
            brand_id=survey.brand_id,
            survey=survey,
            member=None if anonymous else member,
            store=store[:200],
            sku=sku[:200],
            locale=(locale or member.locale or "he")[:2],
            nps=nps,
            csat=csat,
            # An anonymous response keeps only its day, so it cannot be matched to the activity by time.
            created_at=now.replace(hour=0, minute=0, second=0, microsecond=0) if anonymous else now,
        )
        for row in rows:
            row.response = response
        SurveyAnswer.objects.bulk_create(rows)
        if nps is not None and nps <= DETRACTOR_MAX:
            comment = next((row.text for row in rows if row.text), "")
            SurveyAlert.objects.create(
                brand_id=survey.brand_id,
                survey=survey,
                response=response,
                member=None if anonymous else member,
                score=nps,
                comment=comment[:2000],
                status=AlertStatus.OPEN,
                created_at=now,
            )
        if invitation is not None and not anonymous:
            SurveyInvitation.objects.filter(pk=invitation.pk).update(answered_at=now)
        # Answering is known (the respondent row); an anonymous response's scores are not the member's.
        activity_record(
            brand=survey.brand,
            member=member,
            type="survey_answered",
            attributes={
                "survey_id": str(survey.pk),
                "nps": None if anonymous else nps,
                "csat": None if anonymous else csat,
            },
            source=ACTIVITY_SOURCE,
            idempotency_key=f"survey_answered:{survey.pk}:{member.pk}",
            occurred_at=now,
        )
        event_emit(
            brand_id=survey.brand_id,
            type=SURVEY_ANSWERED,
            data={
                "survey_id": str(survey.pk),
                "response_id": str(response.pk),
                "member_id": None if anonymous else str(member.pk),
                "nps": nps,
                "csat": csat,
            },
        )
    return response
