"""The ideas part's API operations (mounted at /api/v1 by kesher/api/api.py): ideas with their supports
and comments, statuses, challenges and their winners, beta programs, applications and task feedback.

Reads take an optional `member_id` (what that member may see); a key with the `manage` scope reads as
staff (hidden ideas too). A key of another brand finds nothing of this brand (404)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import StringConstraints

from kesher.api.auth import actor_of, brand_of, key_of, require_scope
from kesher.api.common import ERRORS, idempotent
from kesher.api.common import StrictInput as Strict
from kesher.campaigns.selectors import segment_get
from kesher.ideas import selectors, services
from kesher.ideas.models import BetaProgram, Idea, IdeaComment
from kesher.loyalty.models import Reward
from kesher.members.selectors import member_get

router = Router()

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(max_length=20_000)]


class IdeaIn(Strict):
    member_id: UUID
    title: Title
    body: Text
    challenge: UUID | None = Field(None, description="The open challenge the idea answers")


class SupportIn(Strict):
    member_id: UUID


class CommentIn(Strict):
    member_id: UUID | None = Field(
        None, description="The member commenting; leave out to answer as the brand"
    )
    body: Annotated[str, StringConstraints(max_length=5000)]


class StatusIn(Strict):
    status: Annotated[str, StringConstraints(max_length=40)] = Field(description="A status code of the brand")
    reason: Annotated[str, StringConstraints(max_length=500)] = ""


class StageOut(Schema):
    number: int
    of: int
    threshold: int | None
    deadline: datetime | None
    phase: str = Field(description="gathering, review or expired")


class StatusOut(Schema):
    code: str
    name: str
    kind: str


class IdeaAuthorOut(Schema):
    member_id: UUID | None
    name: str


class IdeaOut(Schema):
    id: UUID
    title: str
    body: str
    body_html: str
    author: IdeaAuthorOut
    status: StatusOut
    status_reason: str
    visibility: str
    supporters: int
    comment_count: int
    stage: StageOut
    challenge_id: UUID | None
    created_at: datetime


class SupportOut(IdeaOut):
    added: bool = Field(description="False when the member had supported it already")


class IdeaPageOut(Schema):
    items: list[IdeaOut]
    page: int
    has_next: bool


class CommentOut(Schema):
    id: UUID
    idea_id: UUID
    author: IdeaAuthorOut
    by_brand: bool
    body: str
    body_html: str
    created_at: datetime


class ChallengeIn(Strict):
    title: Title
    question: Text
    starts_at: datetime
    ends_at: datetime
    prize_points: int = Field(0, ge=0, le=1_000_000)
    prize_reward_id: UUID | None = None
    winners_max: int = Field(1, ge=1, le=100)


class ChallengeOut(Schema):
    id: UUID
    title: str
    question: str
    starts_at: datetime
    ends_at: datetime
    prize_points: int
    prize_reward_id: UUID | None
    winners_max: int
    open: bool
    judged_at: datetime | None


class WinnersIn(Strict):
    idea_ids: list[UUID] = Field(min_length=1, max_length=100)


class WinnerOut(Schema):
    idea_id: UUID
    member_id: UUID | None
    points: int
    coupon_code: str | None


class TaskIn(Strict):
    title: Title
    description: Annotated[str, StringConstraints(max_length=5000)] = ""
    points: int = Field(0, ge=0, le=100_000)


class ProgramIn(Strict):
    title: Title
    description: Annotated[str, StringConstraints(max_length=5000)] = ""
    places: int = Field(ge=1, le=100_000)
    agreement: Text
    tiers: list[Annotated[str, StringConstraints(max_length=100)]] = Field(
        default_factory=list, max_length=20
    )
    segment_id: UUID | None = None
    selection: Literal["first_come", "by_tier", "manual"] = "first_come"
    private_brief: Text = ""
    tasks: list[TaskIn] = Field(default_factory=list, max_length=50)


class TaskOut(Schema):
    id: UUID
    title: str
    description: str
    points: int


class BetaProgramOut(Schema):
    id: UUID
    title: str
    description: str
    places: int
    tiers: list[str]
    segment_id: UUID | None
    selection: str
    open: bool
    tasks: list[TaskOut]


class ApplyIn(Strict):
    member_id: UUID
    agreement_accepted: bool
    motivation: Annotated[str, StringConstraints(max_length=2000)] = ""


class ApplicationOut(Schema):
    id: UUID
    program_id: UUID
    member_id: UUID
    status: str
    agreement_accepted_at: datetime


class FeedbackIn(Strict):
    member_id: UUID
    rating: int = Field(ge=1, le=5)
    text: Annotated[str, StringConstraints(max_length=5000)] = ""


class FeedbackOut(Schema):
    task_id: UUID
    member_id: UUID
    rating: int
    text: str
    points: int


# --- shaping -------------------------------------------------------------------------------------


def _name(member: Any) -> str:
    if member is None:
        return ""
    initial = f" {member.last_name[:1]}." if member.last_name else ""
    return f"{member.first_name}{initial}".strip()


def stage_out(idea: Idea) -> dict[str, Any]:
    stages = services.settings_of(idea.brand).stages
    gathering = idea.phase == Idea.Phase.GATHERING and idea.stage <= len(stages)
    return {
        "number": min(idea.stage, len(stages)) if stages else 0,
        "of": len(stages),
        "threshold": stages[idea.stage - 1]["threshold"] if gathering else None,
        "deadline": idea.stage_deadline if gathering else None,
        "phase": idea.phase,
    }


def idea_out(idea: Idea) -> dict[str, Any]:
    return {
        "id": idea.pk,
        "title": idea.title,
        "body": idea.body,
        "body_html": idea.body_html,
        "author": {"member_id": idea.author_id, "name": _name(idea.author)},
        "status": {"code": idea.status.code, "name": idea.status.label, "kind": idea.status.kind},
        "status_reason": idea.status_reason,
        "visibility": idea.visibility,
        "supporters": idea.supporters,
        "comment_count": idea.comment_count,
        "stage": stage_out(idea),
        "challenge_id": idea.challenge_id,
        "created_at": idea.created_at,
    }


def comment_out(comment: IdeaComment) -> dict[str, Any]:
    return {
        "id": comment.pk,
        "idea_id": comment.idea_id,
        "author": {"member_id": comment.author_id, "name": _name(comment.author)},
        "by_brand": comment.by_brand,
        "body": comment.body,
        "body_html": comment.body_html,
        "created_at": comment.created_at,
    }


def program_out(program: BetaProgram) -> dict[str, Any]:
    return {
        "id": program.pk,
        "title": program.title,
        "description": program.description,
        "places": program.places,
        "tiers": program.tiers,
        "segment_id": program.segment_id,
        "selection": program.selection,
        "open": program.open,
        "tasks": [
            {"id": t.pk, "title": t.title, "description": t.description, "points": t.points}
            for t in program.tasks.all()
        ],
    }


def _json(schema: type[Schema], data: dict[str, Any]) -> Any:
    return schema.model_validate(data).model_dump(mode="json")


def _staff(request: HttpRequest) -> bool:
    return key_of(request).allows("manage")


def _idea(request: HttpRequest, idea_id: str, member_id: UUID | None = None) -> Idea:
    brand = brand_of(request)
    member = member_get(brand=brand, member_id=member_id) if member_id is not None else None
    return selectors.idea_get(brand=brand, idea_id=idea_id, staff=_staff(request), member=member)


# --- ideas ---------------------------------------------------------------------------------------


@router.get("/ideas", response={200: IdeaPageOut, **ERRORS}, summary="Ideas, by support or newest")
def list_ideas(
    request: HttpRequest,
    status: str | None = None,
    sort: Literal["popular", "newest", "deadline"] = "popular",
    challenge: UUID | None = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,  # type: ignore[type-arg]
) -> dict[str, Any]:
    brand = brand_of(request)
    found = selectors.idea_list(
        brand=brand,
        status=status,
        sort=sort,
        challenge=selectors.challenge_get(brand=brand, challenge_id=challenge) if challenge else None,
        staff=_staff(request),
        page=page,
    )
    return {"items": [idea_out(i) for i in found.ideas], "page": found.page, "has_next": found.has_next}


@router.post("/ideas", response={201: IdeaOut, **ERRORS}, summary="A member submits an idea")
def create_idea(request: HttpRequest, payload: IdeaIn) -> Status[Any]:
    def perform() -> tuple[int, Any]:
        brand = brand_of(request)
        member = member_get(brand=brand, member_id=payload.member_id)
        challenge = (
            selectors.challenge_get(brand=brand, challenge_id=payload.challenge)
            if payload.challenge
            else None
        )
        idea = services.idea_submit(
            member=member, title=payload.title, body=payload.body, challenge=challenge
        )
        return 201, _json(IdeaOut, idea_out(idea))

    return idempotent(request, payload.model_dump(mode="json"), perform)


@router.get(
    "/ideas/{idea_id}", response={200: IdeaOut, **ERRORS}, summary="One idea, its supporters and stage"
)
def get_idea(request: HttpRequest, idea_id: str, member_id: UUID | None = None) -> dict[str, Any]:
    return idea_out(_idea(request, idea_id, member_id))


@router.post(
    "/ideas/{idea_id}/support", response={200: SupportOut, **ERRORS}, summary="Support an idea (once)"
)
def support_idea(request: HttpRequest, idea_id: str, payload: SupportIn) -> Status[Any]:
    def perform() -> tuple[int, Any]:
        member = member_get(brand=brand_of(request), member_id=payload.member_id)
        idea = selectors.idea_get(brand=brand_of(request), idea_id=idea_id)
        supported, added = services.idea_support(idea=idea, member=member)
        return 200, _json(SupportOut, {**idea_out(supported), "added": added})

    return idempotent(request, {"idea": idea_id, **payload.model_dump(mode="json")}, perform)


@router.get(
    "/ideas/{idea_id}/comments", response={200: list[CommentOut], **ERRORS}, summary="An idea's comments"
)
def list_comments(request: HttpRequest, idea_id: str) -> list[dict[str, Any]]:
    return [comment_out(c) for c in selectors.idea_comments(idea=_idea(request, idea_id))]


@router.post("/ideas/{idea_id}/comments", response={201: CommentOut, **ERRORS}, summary="Comment on an idea")
def create_comment(request: HttpRequest, idea_id: str, payload: CommentIn) -> Status[Any]:
    def perform() -> tuple[int, Any]:
        brand = brand_of(request)
        if payload.member_id is None:
            require_scope(request, "manage")
            comment = services.idea_comment(
                idea=_idea(request, idea_id), body=payload.body, actor=actor_of(request)
            )
        else:
            member = member_get(brand=brand, member_id=payload.member_id)
            idea = selectors.idea_get(brand=brand, idea_id=idea_id, member=member)
            comment = services.idea_comment(idea=idea, body=payload.body, member=member)
        return 201, _json(CommentOut, comment_out(comment))

    return idempotent(request, {"idea": idea_id, **payload.model_dump(mode="json")}, perform)


@router.post(
    "/ideas/{idea_id}/status", response={200: IdeaOut, **ERRORS}, summary="Set an idea's status (manage)"
)
def set_status(request: HttpRequest, idea_id: str, payload: StatusIn) -> Status[Any]:
    require_scope(request, "manage")

    def perform() -> tuple[int, Any]:
        brand = brand_of(request)
        idea = services.idea_status_set(
            idea=_idea(request, idea_id),
            status=selectors.status_get(brand=brand, code=payload.status),
            reason=payload.reason,
            actor=actor_of(request),
        )
        return 200, _json(IdeaOut, idea_out(idea))

    return idempotent(request, {"idea": idea_id, **payload.model_dump(mode="json")}, perform)


# --- challenges ----------------------------------------------------------------------------------


def challenge_out(challenge: Any) -> dict[str, Any]:
    from django.utils import timezone

    return {
        "id": challenge.pk,
        "title": challenge.title,
        "question": challenge.question,
        "starts_at": challenge.starts_at,
        "ends_at": challenge.ends_at,
        "prize_points": challenge.prize_points,
        "prize_reward_id": challenge.prize_reward_id,
        "winners_max": challenge.winners_max,
        "open": services.challenge_is_open(challenge, timezone.now()),
        "judged_at": challenge.judged_at,
    }


@router.get("/challenges", response={200: list[ChallengeOut], **ERRORS}, summary="The brand's challenges")
def list_challenges(request: HttpRequest) -> list[dict[str, Any]]:
    return [challenge_out(c) for c in selectors.challenge_list(brand=brand_of(request))]


@router.post("/challenges", response={201: ChallengeOut, **ERRORS}, summary="Ask a challenge (manage)")
def create_challenge(request: HttpRequest, payload: ChallengeIn) -> Status[Any]:
    require_scope(request, "manage")

    def perform() -> tuple[int, Any]:
        brand = brand_of(request)
        reward = None
        if payload.prize_reward_id is not None:
            reward = Reward.objects.filter(brand=brand, pk=payload.prize_reward_id).first()
            if reward is None:
                from kesher.core.errors import NotFound

                raise NotFound("No such reward", code="reward_not_found", field="prize_reward_id")
        challenge = services.challenge_create(
            brand=brand,
            title=payload.title,
            question=payload.question,
            starts_at=payload.starts_at,
            ends_at=payload.ends_at,
            prize_points=payload.prize_points,
            prize_reward=reward,
            winners_max=payload.winners_max,
            actor=actor_of(request),
        )
        return 201, _json(ChallengeOut, challenge_out(challenge))

    return idempotent(request, payload.model_dump(mode="json"), perform)


@router.post(
    "/challenges/{challenge_id}/winners",
    response={200: list[WinnerOut], **ERRORS},
    summary="The jury picks winners of a closed challenge (manage)",
)
def pick_winners(request: HttpRequest, challenge_id: str, payload: WinnersIn) -> Status[Any]:
    require_scope(request, "manage")

    def perform() -> tuple[int, Any]:
        brand = brand_of(request)
        challenge = selectors.challenge_get(brand=brand, challenge_id=challenge_id)
        ideas = [selectors.idea_get(brand=brand, idea_id=i, staff=True) for i in payload.idea_ids]
        winners = services.challenge_winners_pick(challenge=challenge, ideas=ideas, actor=actor_of(request))
        return 200, [
            {
                "idea_id": str(w.idea_id),
                "member_id": str(w.member_id) if w.member_id else None,
                "points": w.points,
                "coupon_code": w.coupon.code if w.coupon else None,
            }
            for w in winners
        ]

    return idempotent(request, {"challenge": challenge_id, **payload.model_dump(mode="json")}, perform)


# --- beta programs -------------------------------------------------------------------------------


@router.post(
    "/beta-programs", response={201: BetaProgramOut, **ERRORS}, summary="Open a beta program (manage)"
)
def create_program(request: HttpRequest, payload: ProgramIn) -> Status[Any]:
    require_scope(request, "manage")

    def perform() -> tuple[int, Any]:
        brand = brand_of(request)
        values = payload.model_dump()
        segment = segment_get(brand=brand, segment_id=payload.segment_id) if payload.segment_id else None
        values.pop("segment_id")
        program = services.beta_program_create(
            brand=brand, segment=segment, actor=actor_of(request), **values
        )
        return 201, _json(BetaProgramOut, program_out(program))

    return idempotent(request, payload.model_dump(mode="json"), perform)


@router.post(
    "/beta-programs/{program_id}/applications",
    response={201: ApplicationOut, **ERRORS},
    summary="A member applies, accepting the agreement",
)
def apply(request: HttpRequest, program_id: str, payload: ApplyIn) -> Status[Any]:
    def perform() -> tuple[int, Any]:
        brand = brand_of(request)
        application = services.beta_apply(
            program=selectors.program_get(brand=brand, program_id=program_id),
            member=member_get(brand=brand, member_id=payload.member_id),
            agreement_accepted=payload.agreement_accepted,
            motivation=payload.motivation,
        )
        return 201, _json(ApplicationOut, {**ApplicationOut.from_orm(application).model_dump()})

    return idempotent(request, {"program": program_id, **payload.model_dump(mode="json")}, perform)


@router.post(
    "/beta-programs/{program_id}/tasks/{task_id}/feedback",
    response={201: FeedbackOut, **ERRORS},
    summary="A tester completes a task with feedback (points once)",
)
def feedback(request: HttpRequest, program_id: str, task_id: str, payload: FeedbackIn) -> Status[Any]:
    def perform() -> tuple[int, Any]:
        brand = brand_of(request)
        program = selectors.program_get(brand=brand, program_id=program_id)
        sent = services.beta_feedback_submit(
            task=selectors.task_get(program=program, task_id=task_id),
            member=member_get(brand=brand, member_id=payload.member_id),
            rating=payload.rating,
            text=payload.text,
        )
        return 201, _json(FeedbackOut, FeedbackOut.from_orm(sent).model_dump())

    return idempotent(
        request, {"program": program_id, "task": task_id, **payload.model_dump(mode="json")}, perform
    )
