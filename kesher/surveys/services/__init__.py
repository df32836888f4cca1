"""Every write of the surveys part: `building` (surveys, questions, settings), `responding` (answers),
`alerts` (detractor follow-up), `member_data` (export, erasure, merging); invitations and their
activity trigger live in kesher.surveys.invitations."""

from kesher.surveys.services.alerts import alert_resolve
from kesher.surveys.services.building import (
    question_add,
    questions_reorder,
    survey_close,
    survey_create,
    survey_publish,
    survey_settings_get,
    survey_settings_update,
)
from kesher.surveys.services.responding import AnswersInvalid, answers_check, response_submit, text_terms

__all__ = [
    "AnswersInvalid",
    "alert_resolve",
    "answers_check",
    "question_add",
    "questions_reorder",
    "response_submit",
    "survey_close",
    "survey_create",
    "survey_publish",
    "survey_settings_get",
    "survey_settings_update",
    "text_terms",
]
