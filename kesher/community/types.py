"""The community's activity types: what the loyalty rules of a brand can reward."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from kesher.activity.registry import activity_type

Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


@activity_type("question_asked", description="The member asked a question in the community")
class QuestionAsked(Strict):
    question_id: Id
    space: Annotated[str, StringConstraints(max_length=80)] | None = None


@activity_type("answer_posted", description="The member answered a question in the community")
class AnswerPosted(Strict):
    answer_id: Id
    question_id: Id


@activity_type("answer_accepted", description="The member's answer was marked as the accepted one")
class AnswerAccepted(Strict):
    answer_id: Id
    question_id: Id
