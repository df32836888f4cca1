"""Surveys made through the services, as staff would make them."""

from __future__ import annotations

from typing import Any

from kesher.brands.models import Brand
from kesher.surveys.models import Question, Survey
from kesher.surveys.services import survey_create, survey_publish

NPS_SURVEY = [
    {"kind": "nps", "text_he": "עד כמה תמליצו עלינו?", "text_en": "How likely are you to recommend us?"},
    {
        "kind": "csat",
        "text_he": "עד כמה הייתם מרוצים?",
        "text_en": "How satisfied were you?",
        "required": False,
    },
    {
        "kind": "single",
        "text_he": "מה קניתם?",
        "text_en": "What did you buy?",
        "required": False,
        "choices": [
            {"value": "coffee", "he": "קפה", "en": "Coffee"},
            {"value": "cake", "he": "עוגה", "en": "Cake"},
        ],
    },
    {
        "kind": "multiple",
        "text_he": "מה אהבתם?",
        "text_en": "What did you like?",
        "required": False,
        "choices": [
            {"value": "staff", "he": "הצוות", "en": "The staff"},
            {"value": "place", "he": "המקום", "en": "The place"},
            {"value": "price", "he": "המחיר", "en": "The price"},
        ],
    },
    {
        "kind": "scale",
        "text_he": "כמה מהר?",
        "text_en": "How fast?",
        "required": False,
        "scale_min": 1,
        "scale_max": 7,
    },
    {"kind": "text", "text_he": "ספרו לנו עוד", "text_en": "Tell us more", "required": False},
]


def make_survey(brand: Brand, *, publish: bool = True, anonymous: bool = False, **fields: Any) -> Survey:
    questions = fields.pop("questions", NPS_SURVEY)
    survey = survey_create(
        brand=brand,
        title_he="סקר שביעות רצון",
        title_en="Satisfaction",
        anonymous=anonymous,
        questions=questions,
        **fields,
    )
    if publish:
        survey = survey_publish(survey=survey)
    return survey


def q(survey: Survey, kind: str) -> Question:
    return survey.questions.get(kind=kind)


def key(survey: Survey, kind: str) -> str:
    return str(q(survey, kind).pk)
