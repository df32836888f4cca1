"""The surveys part's API operations (mounted at /api/v1 by kesher/api/api.py).

Staff build and read surveys with a `manage` key; a member's answers come with any key of the brand
(`POST /surveys/{id}/responses`). A key of another brand finds nothing of this brand (404).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import StringConstraints

from kesher.api.auth import actor_of, brand_of, require_scope
from kesher.api.common import ERRORS, ErrorDetail, idempotent
from kesher.api.common import StrictInput as Strict
from kesher.core.errors import NotFound
from kesher.members.models import Member
from kesher.surveys import invitations, selectors, services
from kesher.surveys.models import Question, Survey
from kesher.surveys.services import AnswersInvalid

router = Router()

Title = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Intro = Annotated[str, StringConstraints(max_length=2000)]
QuestionText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
Context = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


class ChoiceIn(Strict):
    value: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
    he: Title = ""
    en: Title = ""


class SurveyQuestionIn(Strict):
    kind: Literal["csat", "nps", "single", "multiple", "scale", "text"]
    text_he: QuestionText = ""
    text_en: QuestionText = ""
    required: bool = True
    choices: list[ChoiceIn] = Field(default_factory=list, max_length=20)
    scale_min: int = Field(1, ge=0, le=10)
    scale_max: int = Field(5, ge=0, le=10)


class SurveyIn(Strict):
    title_he: Title = ""
    title_en: Title = ""
    intro_he: Intro = ""
    intro_en: Intro = ""
    anonymous: bool = False
    trigger_activity: Annotated[str, StringConstraints(max_length=64)] = Field(
        "", description="Invite automatically after an activity of this type (purchase, service_contact)"
    )
    trigger_delay_hours: int = Field(0, ge=0, le=24 * 60)
    invite_channel: Literal["email", "sms", "portal"] = "email"
    questions: list[SurveyQuestionIn] = Field(default_factory=list, max_length=40)


class ChoiceOut(Schema):
    value: str
    he: str
    en: str


class QuestionOut(Schema):
    id: UUID
    position: int
    kind: str
    text_he: str
    text_en: str
    required: bool
    choices: list[ChoiceOut]
    scale_min: int
    scale_max: int


class SurveyOut(Schema):
    id: UUID
    title_he: str
    title_en: str
    intro_he: str
    intro_en: str
    status: str
    anonymous: bool
    trigger_activity: str
    trigger_delay_hours: int
    invite_channel: str
    created_at: datetime
    published_at: datetime | None
    closed_at: datetime | None
    questions: list[QuestionOut]


class OrderIn(Strict):
    order: list[UUID] = Field(description="Every question's id, in the new order", max_length=40)


class ResponseIn(Strict):
    member_id: UUID
    answers: dict[str, Any] = Field(
        description="Question id → answer: a whole number (csat 1–5, nps 0–10, scale), a choice's value "
        "(single), a list of values (multiple) or text"
    )
    store: Context = ""
    sku: Context = ""
    locale: Literal["he", "en"] | None = None


class ResponseOut(Schema):
    id: UUID
    survey_id: UUID
    anonymous: bool
    nps: int | None
    csat: int | None
    created_at: datetime


class AnswersErrorDetail(ErrorDetail):
    questions: dict[str, str] | None = Field(None, description="Question id → what is wrong with its answer")


class AnswersErrorOut(Schema):
    error: AnswersErrorDetail


class InvitationIn(Strict):
    member_id: UUID
    channel: Literal["email", "sms", "portal", ""] = Field(
        "", description="Send the invitation through this channel; empty: only make the link"
    )
    store: Context = ""
    sku: Context = ""


class InvitationOut(Schema):
    id: UUID
    survey_id: UUID
    member_id: UUID
    status: str
    channel: str
    url: str = Field(description="The member's own link (/s/<token>/), opening the survey without signing in")
    message_id: UUID | None
    created_at: datetime


class SurveySettingsIn(Strict):
    contact_interval_days: int = Field(ge=0, le=365)


class SurveySettingsOut(Schema):
    contact_interval_days: int


class AlertOut(Schema):
    id: UUID
    survey_id: UUID
    response_id: UUID
    member_id: UUID | None
    score: int
    comment: str
    status: str
    created_at: datetime


class ResolveIn(Strict):
    note: Annotated[str, StringConstraints(max_length=500)] = ""


def _survey_out(survey: Survey) -> dict[str, Any]:
    questions: list[Question] = list(survey.questions.all())
    return SurveyOut.model_validate(
        {
            **{name: getattr(survey, name) for name in SurveyOut.model_fields if name != "questions"},
            "questions": [QuestionOut.model_validate(q, from_attributes=True) for q in questions],
        }
    ).model_dump(mode="json")


def _survey(request: HttpRequest, survey_id: str) -> Survey:
    return selectors.survey_get(brand=brand_of(request), survey_id=survey_id)


def _member(request: HttpRequest, member_id: UUID) -> Member:
    found = Member.objects.filter(pk=member_id, brand=brand_of(request)).first()
    if found is None:
        raise NotFound("No such member", field="member_id")
    return found


# --- settings and alerts (before /surveys/{survey_id}) ----------------------------------------------


@router.get(
    "/survey-settings", response={200: SurveySettingsOut, **ERRORS}, summary="The brand's survey rules"
)
def get_settings(request: HttpRequest) -> Any:
    require_scope(request, "manage")
    return services.survey_settings_get(brand=brand_of(request))


@router.patch(
    "/survey-settings", response={200: SurveySettingsOut, **ERRORS}, summary="Change the contact rule"
)
def patch_settings(request: HttpRequest, payload: SurveySettingsIn) -> Status[Any]:
    require_scope(request, "manage")

    def perform() -> tuple[int, Any]:
        found = services.survey_settings_update(
            brand=brand_of(request),
            contact_interval_days=payload.contact_interval_days,
            actor=actor_of(request),
        )
        return 200, {"contact_interval_days": found.contact_interval_days}

    return idempotent(request, payload.model_dump(mode="json"), perform)


@router.get("/survey-alerts", response={200: list[AlertOut], **ERRORS}, summary="Detractors to follow up")
def list_alerts(request: HttpRequest) -> Any:
    require_scope(request, "manage")
    return selectors.alerts_open(brand=brand_of(request))


@router.post(
    "/survey-alerts/{alert_id}/resolve", response={200: AlertOut, **ERRORS}, summary="Mark followed up"
)
def resolve_alert(request: HttpRequest, alert_id: str, payload: ResolveIn) -> Status[Any]:
    require_scope(request, "manage")

    def perform() -> tuple[int, Any]:
        alert = selectors.alert_get(brand=brand_of(request), alert_id=alert_id)
        done = services.alert_resolve(alert=alert, note=payload.note, actor=actor_of(request))
        return 200, AlertOut.model_validate(done, from_attributes=True).model_dump(mode="json")

    return idempotent(request, {"alert": alert_id, **payload.model_dump(mode="json")}, perform)


# --- surveys -------------------------------------------------------------------------------------


@router.get("/surveys", response={200: list[SurveyOut], **ERRORS}, summary="The brand's surveys")
def list_surveys(request: HttpRequest) -> Any:
    require_scope(request, "manage")
    return [
        _survey_out(s) for s in selectors.survey_list(brand=brand_of(request)).prefetch_related("questions")
    ]


@router.post("/surveys", response={201: SurveyOut, **ERRORS}, summary="Create a survey (a draft)")
def create_survey(request: HttpRequest, payload: SurveyIn) -> Status[Any]:
    require_scope(request, "manage")

    def perform() -> tuple[int, Any]:
        data = payload.model_dump()
        survey = services.survey_create(brand=brand_of(request), actor=actor_of(request), **data)
        return 201, _survey_out(survey)

    return idempotent(request, payload.model_dump(mode="json"), perform)


@router.get("/surveys/{survey_id}", response={200: SurveyOut, **ERRORS}, summary="A survey and its questions")
def get_survey(request: HttpRequest, survey_id: str) -> Any:
    return _survey_out(_survey(request, survey_id))


@router.post(
    "/surveys/{survey_id}/questions", response={201: QuestionOut, **ERRORS}, summary="Add a question (draft)"
)
def add_question(request: HttpRequest, survey_id: str, payload: SurveyQuestionIn) -> Status[Any]:
    require_scope(request, "manage")

    def perform() -> tuple[int, Any]:
        question = services.question_add(
            survey=_survey(request, survey_id), spec=payload.model_dump(), actor=actor_of(request)
        )
        return 201, QuestionOut.model_validate(question, from_attributes=True).model_dump(mode="json")

    return idempotent(request, {"survey": survey_id, **payload.model_dump(mode="json")}, perform)


@router.post(
    "/surveys/{survey_id}/questions/order", response={200: SurveyOut, **ERRORS}, summary="Reorder (draft)"
)
def reorder_questions(request: HttpRequest, survey_id: str, payload: OrderIn) -> Status[Any]:
    require_scope(request, "manage")

    def perform() -> tuple[int, Any]:
        survey = _survey(request, survey_id)
        services.questions_reorder(
            survey=survey, order=[str(q) for q in payload.order], actor=actor_of(request)
        )
        return 200, _survey_out(survey)

    return idempotent(request, {"survey": survey_id, **payload.model_dump(mode="json")}, perform)


@router.post("/surveys/{survey_id}/publish", response={200: SurveyOut, **ERRORS}, summary="Open for answers")
def publish_survey(request: HttpRequest, survey_id: str) -> Status[Any]:
    require_scope(request, "manage")

    def perform() -> tuple[int, Any]:
        survey = services.survey_publish(survey=_survey(request, survey_id), actor=actor_of(request))
        return 200, _survey_out(survey)

    return idempotent(request, {"survey": survey_id, "do": "publish"}, perform)


@router.post("/surveys/{survey_id}/close", response={200: SurveyOut, **ERRORS}, summary="Stop taking answers")
def close_survey(request: HttpRequest, survey_id: str) -> Status[Any]:
    require_scope(request, "manage")

    def perform() -> tuple[int, Any]:
        survey = services.survey_close(survey=_survey(request, survey_id), actor=actor_of(request))
        return 200, _survey_out(survey)

    return idempotent(request, {"survey": survey_id, "do": "close"}, perform)


@router.post(
    "/surveys/{survey_id}/responses",
    response={201: ResponseOut, **ERRORS, 422: AnswersErrorOut},
    summary="A member answers (once per survey)",
)
def create_response(request: HttpRequest, survey_id: str, payload: ResponseIn) -> Status[Any]:
    def perform() -> tuple[int, Any]:
        survey = _survey(request, survey_id)
        member = _member(request, payload.member_id)
        try:
            response = services.response_submit(
                survey=survey,
                member=member,
                answers=payload.answers,
                locale=payload.locale,
                store=payload.store,
                sku=payload.sku,
            )
        except AnswersInvalid as exc:
            body = {
                "error": {
                    "code": exc.code,
                    "message": exc.message,
                    "field": exc.field,
                    "questions": exc.problems,
                }
            }
            return 422, body
        return 201, {
            "id": str(response.pk),
            "survey_id": str(survey.pk),
            "anonymous": survey.anonymous,
            "nps": response.nps,
            "csat": response.csat,
            "created_at": response.created_at.isoformat(),
        }

    return idempotent(request, {"survey": survey_id, **payload.model_dump(mode="json")}, perform)


@router.post(
    "/surveys/{survey_id}/invitations",
    response={201: InvitationOut, **ERRORS},
    summary="Invite a member (the contact-frequency rule applies); the answer carries their link",
)
def create_invitation(request: HttpRequest, survey_id: str, payload: InvitationIn) -> Status[Any]:
    require_scope(request, "manage")

    def perform() -> tuple[int, Any]:
        invited = invitations.survey_invite(
            survey=_survey(request, survey_id),
            member=_member(request, payload.member_id),
            channel=payload.channel,
            store=payload.store,
            sku=payload.sku,
            source="api",
            actor=actor_of(request),
        )
        row = invited.invitation
        return 201, {
            "id": str(row.pk),
            "survey_id": str(row.survey_id),
            "member_id": str(row.member_id),
            "status": row.status,
            "channel": row.channel,
            "url": invited.url,
            "message_id": str(row.message_id) if row.message_id else None,
            "created_at": row.created_at.isoformat(),
        }

    return idempotent(request, {"survey": survey_id, **payload.model_dump(mode="json")}, perform)


@router.get("/surveys/{survey_id}/results", response={200: dict[str, Any], **ERRORS}, summary="Results")
def get_results(request: HttpRequest, survey_id: str, store: str = "", sku: str = "") -> Any:
    """Per question: for NPS `{nps, promoters, passives, detractors, responses}` (promoters 9–10,
    detractors 0–6, NPS = %promoters − %detractors to one decimal); for CSAT `csat` (the share of 4–5 in
    percent), `satisfied`, `average`, `distribution`; for choices their counts; for text the verbatims."""
    require_scope(request, "manage")
    return selectors.survey_results(survey=_survey(request, survey_id), store=store[:200], sku=sku[:200])
