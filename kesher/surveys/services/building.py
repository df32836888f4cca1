"""Staff build surveys: create them, add and reorder questions, publish and close; the brand's settings."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from kesher.activity.registry import registry
from kesher.brands.models import Brand
from kesher.core.audit import SYSTEM, Actor, audit_record
from kesher.core.errors import Conflict, ValidationFailed
from kesher.surveys.models import Question, QuestionKind, Survey, SurveySettings, SurveyStatus

CHANNELS = ("email", "sms", "portal")
MAX_QUESTIONS = 40
MAX_CHOICES = 20


def survey_settings_get(*, brand: Brand) -> SurveySettings:
    found, _ = SurveySettings.objects.get_or_create(brand=brand)
    return found


@transaction.atomic
def survey_settings_update(
    *, brand: Brand, contact_interval_days: int, actor: Actor = SYSTEM
) -> SurveySettings:
    if not 0 <= contact_interval_days <= 365:
        raise ValidationFailed("Between 0 and 365 days", field="contact_interval_days")
    found = survey_settings_get(brand=brand)
    before = found.contact_interval_days
    found.contact_interval_days = contact_interval_days
    found.save(update_fields=["contact_interval_days"])
    audit_record(
        brand=brand,
        actor=actor,
        action="survey.settings",
        target_type="brand",
        target_id=brand.pk,
        data={"contact_interval_days": [before, contact_interval_days]},
    )
    return found


def _check_survey_fields(fields: dict[str, Any]) -> None:
    if not (fields.get("title_he", "").strip() or fields.get("title_en", "").strip()):
        raise ValidationFailed("A title in Hebrew or in English is needed", field="title_he")
    trigger = fields.get("trigger_activity", "")
    if trigger and trigger not in registry.types:
        raise ValidationFailed(f"Unknown activity type {trigger!r}", field="trigger_activity")
    if fields.get("invite_channel", "email") not in CHANNELS:
        raise ValidationFailed("email, sms or portal", field="invite_channel")


@transaction.atomic
def survey_create(
    *,
    brand: Brand,
    title_he: str = "",
    title_en: str = "",
    intro_he: str = "",
    intro_en: str = "",
    anonymous: bool = False,
    trigger_activity: str = "",
    trigger_delay_hours: int = 0,
    invite_channel: str = "email",
    questions: list[dict[str, Any]] | None = None,
    actor: Actor = SYSTEM,
) -> Survey:
    fields = {
        "title_he": title_he.strip(),
        "title_en": title_en.strip(),
        "intro_he": intro_he.strip(),
        "intro_en": intro_en.strip(),
        "anonymous": anonymous,
        "trigger_activity": trigger_activity.strip(),
        "trigger_delay_hours": trigger_delay_hours,
        "invite_channel": invite_channel,
    }
    _check_survey_fields(fields)
    survey = Survey.objects.create(brand=brand, **fields)
    for number, question in enumerate(questions or []):
        _question_add(survey, question, field=f"questions.{number}")
    audit_record(
        brand=brand,
        actor=actor,
        action="survey.create",
        target_type="survey",
        target_id=survey.pk,
        data={"title": survey.title_en or survey.title_he, "questions": len(questions or [])},
    )
    return survey


def _locked(survey: Survey) -> Survey:
    return Survey.objects.select_for_update().get(pk=survey.pk, brand_id=survey.brand_id)


def _clean_choices(raw: list[dict[str, Any]], field: str) -> list[dict[str, str]]:
    if not 2 <= len(raw) <= MAX_CHOICES:
        raise ValidationFailed(f"Between 2 and {MAX_CHOICES} choices", field=field)
    cleaned: list[dict[str, str]] = []
    for index, choice in enumerate(raw):
        value = str(choice.get("value", "")).strip()
        he, en = str(choice.get("he", "")).strip(), str(choice.get("en", "")).strip()
        if not value or not (he or en):
            raise ValidationFailed("Each choice needs a value and a label", field=f"{field}.{index}")
        if value in {c["value"] for c in cleaned}:
            raise ValidationFailed(f"The value {value!r} is there twice", field=f"{field}.{index}")
        cleaned.append({"value": value[:60], "he": he[:200], "en": en[:200]})
    return cleaned


def _question_add(survey: Survey, spec: dict[str, Any], *, field: str) -> Question:
    kind = spec.get("kind", "")
    if kind not in QuestionKind.values:
        raise ValidationFailed("csat, nps, single, multiple, scale or text", field=f"{field}.kind")
    text_he, text_en = str(spec.get("text_he", "")).strip(), str(spec.get("text_en", "")).strip()
    if not (text_he or text_en):
        raise ValidationFailed("The question's text in Hebrew or in English", field=f"{field}.text_he")
    if survey.questions.count() >= MAX_QUESTIONS:
        raise ValidationFailed(f"At most {MAX_QUESTIONS} questions", field=field)
    choices: list[dict[str, str]] = []
    if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        choices = _clean_choices(list(spec.get("choices") or []), f"{field}.choices")
    scale_min, scale_max = int(spec.get("scale_min", 1)), int(spec.get("scale_max", 5))
    if kind == QuestionKind.SCALE and not (0 <= scale_min < scale_max <= 10):
        raise ValidationFailed("A scale runs from 0 or more to at most 10", field=f"{field}.scale_max")
    last = survey.questions.aggregate(last=Max("position"))["last"]
    return Question.objects.create(
        brand_id=survey.brand_id,
        survey=survey,
        position=0 if last is None else last + 1,
        kind=kind,
        text_he=text_he[:500],
        text_en=text_en[:500],
        required=bool(spec.get("required", True)),
        choices=choices,
        scale_min=scale_min,
        scale_max=scale_max,
    )


def _require_draft(survey: Survey) -> None:
    if survey.status != SurveyStatus.DRAFT:
        raise Conflict("Questions change only while the survey is a draft", code="survey_not_draft")


@transaction.atomic
def question_add(*, survey: Survey, spec: dict[str, Any], actor: Actor = SYSTEM) -> Question:
    survey = _locked(survey)
    _require_draft(survey)
    question = _question_add(survey, spec, field="question")
    audit_record(
        brand=survey.brand,
        actor=actor,
        action="survey.question_add",
        target_type="survey",
        target_id=survey.pk,
        data={"question_id": str(question.pk), "kind": question.kind},
    )
    return question


@transaction.atomic
def questions_reorder(*, survey: Survey, order: list[str], actor: Actor = SYSTEM) -> list[Question]:
    survey = _locked(survey)
    _require_draft(survey)
    questions = {str(q.pk): q for q in survey.questions.all()}
    if sorted(order) != sorted(questions):
        raise ValidationFailed("Name every question of the survey once", field="order")
    for position, question_id in enumerate(order):
        Question.objects.filter(pk=question_id).update(position=position)
    audit_record(
        brand=survey.brand,
        actor=actor,
        action="survey.questions_reorder",
        target_type="survey",
        target_id=survey.pk,
        data={"order": order},
    )
    return list(survey.questions.all())


@transaction.atomic
def survey_publish(*, survey: Survey, actor: Actor = SYSTEM) -> Survey:
    survey = _locked(survey)
    if survey.status != SurveyStatus.DRAFT:
        raise Conflict("Only a draft is published", code="survey_not_draft")
    if not survey.questions.exists():
        raise ValidationFailed("Add a question first", field="questions")
    survey.status, survey.published_at = SurveyStatus.PUBLISHED, timezone.now()
    survey.save(update_fields=["status", "published_at"])
    audit_record(
        brand=survey.brand,
        actor=actor,
        action="survey.publish",
        target_type="survey",
        target_id=survey.pk,
        data={},
    )
    return survey


@transaction.atomic
def survey_close(*, survey: Survey, actor: Actor = SYSTEM) -> Survey:
    survey = _locked(survey)
    if survey.status != SurveyStatus.PUBLISHED:
        raise Conflict("Only a published survey is closed", code="survey_not_published")
    survey.status, survey.closed_at = SurveyStatus.CLOSED, timezone.now()
    survey.save(update_fields=["status", "closed_at"])
    audit_record(
        brand=survey.brand,
        actor=actor,
        action="survey.close",
        target_type="survey",
        target_id=survey.pk,
        data={},
    )
    return survey
