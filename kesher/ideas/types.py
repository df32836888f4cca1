"""The ideas part's activity types (what a brand's loyalty rules can reward) and its domain event."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from kesher.activity.registry import activity_type
from kesher.core.events import event_type

Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]

IDEA_STAGE_CHANGED = event_type(
    "idea.stage_changed",
    "An idea reached a stage, expired, or the brand changed its status: {idea_id, stage, phase, status}",
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


@activity_type("idea_submitted", description="The member submitted an idea to the brand's ideas board")
class IdeaSubmitted(Strict):
    idea_id: Id


@activity_type("idea_supported", description="The member supported someone's idea")
class IdeaSupported(Strict):
    idea_id: Id


@activity_type("beta_joined", description="The member was accepted as a tester in a beta program")
class BetaJoined(Strict):
    program_id: Id


@activity_type("beta_task_completed", description="A tester completed a beta program's task")
class BetaTaskCompleted(Strict):
    program_id: Id
    task_id: Id
