"""The surveys part's activity types and domain events (registered from SurveysConfig.ready())."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kesher.activity.registry import activity_type
from kesher.core.events import event_type

Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


@activity_type("survey_answered", description="The member answered a survey (scores left out when anonymous)")
class SurveyAnswered(Strict):
    survey_id: Id
    nps: Annotated[int, Field(ge=0, le=10)] | None = None
    csat: Annotated[int, Field(ge=1, le=5)] | None = None


@activity_type("service_contact", description="The member contacted the brand's service (a call, a chat)")
class ServiceContact(Strict):
    channel: Text | None = None
    store: Text | None = None
    case_id: Id | None = None


SURVEY_ANSWERED = event_type(
    "survey.answered",
    "A survey was answered: survey_id, response_id, nps, csat, and member_id (null when anonymous)",
)
