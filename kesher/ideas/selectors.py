"""Reads of the ideas part, each inside one brand: an id of another brand is not found."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from kesher.brands.models import Brand
from kesher.core.errors import NotFound, ValidationFailed
from kesher.ideas.models import (
    BetaApplication,
    BetaProgram,
    BetaTask,
    Challenge,
    Idea,
    IdeaComment,
    IdeaNotice,
    IdeaStatus,
    IdeaSupport,
)
from kesher.ideas.services import idea_expire_if_due, settings_of
from kesher.members.models import Member

PAGE_SIZE = 20
SORTS = {"popular": ["-supporters", "-created_at"], "newest": ["-created_at"], "deadline": ["stage_deadline"]}


def _uuid(value: Any, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound(f"No such {what}", code=f"{what}_not_found") from None


def idea_get(*, brand: Brand, idea_id: Any, staff: bool = False, member: Member | None = None) -> Idea:
    """One idea; a hidden one only for staff and its author. Past its deadline it expires now."""
    pk = _uuid(idea_id, "idea")
    idea = (
        Idea.objects.select_related("status", "author", "challenge", "brand")
        .filter(brand=brand, pk=pk)
        .first()
    )
    if idea is None or not (
        staff
        or idea.visibility == Idea.Visibility.PUBLISHED
        or (member is not None and idea.author_id == member.pk)
    ):
        raise NotFound("No such idea", code="idea_not_found")
    return idea_expire_if_due(idea=idea)


@dataclass(frozen=True)
class IdeaPage:
    ideas: list[Idea]
    page: int
    has_next: bool


def idea_list(
    *,
    brand: Brand,
    status: str | None = None,
    sort: str = "popular",
    challenge: Challenge | None = None,
    staff: bool = False,
    page: int = 1,
) -> IdeaPage:
    if sort not in SORTS:
        raise ValidationFailed("sort is popular, newest or deadline", field="sort")
    rows: QuerySet[Idea] = Idea.objects.filter(brand=brand).select_related("status", "author", "brand")
    if not staff:
        rows = rows.filter(visibility=Idea.Visibility.PUBLISHED)
    if status:
        rows = rows.filter(status__code=status)
    if challenge is not None:
        rows = rows.filter(challenge=challenge)
    if sort == "deadline":
        rows = rows.filter(phase=Idea.Phase.GATHERING)
    start = (page - 1) * PAGE_SIZE
    found = list(rows.order_by(*SORTS[sort], "id")[start : start + PAGE_SIZE + 1])
    now = timezone.now()
    shown = [idea_expire_if_due(idea=i, now=now) for i in found[:PAGE_SIZE]]
    return IdeaPage(ideas=shown, page=page, has_next=len(found) > PAGE_SIZE)


def idea_comments(*, idea: Idea) -> list[IdeaComment]:
    return list(IdeaComment.objects.filter(idea=idea).select_related("author").order_by("created_at"))


def supported_ids(*, member: Member | None, ideas: list[Idea]) -> set[uuid.UUID]:
    if member is None or not ideas:
        return set()
    return set(
        IdeaSupport.objects.filter(member=member, idea__in=[i.pk for i in ideas]).values_list(
            "idea_id", flat=True
        )
    )


def statuses(*, brand: Brand) -> list[IdeaStatus]:
    settings_of(brand)
    return list(IdeaStatus.objects.filter(brand=brand).order_by("position", "code"))


def status_get(*, brand: Brand, code: str) -> IdeaStatus:
    settings_of(brand)
    found = IdeaStatus.objects.filter(brand=brand, code=code).first()
    if found is None:
        raise NotFound(f"No status {code!r}", code="status_not_found", field="status")
    return found


def roadmap(*, brand: Brand) -> list[tuple[IdeaStatus, list[Idea]]]:
    """The statuses the brand shows on its public roadmap, each with its published ideas."""
    columns = [s for s in statuses(brand=brand) if s.on_roadmap]
    ideas = Idea.objects.filter(
        brand=brand, visibility=Idea.Visibility.PUBLISHED, status__in=columns
    ).order_by("-status_changed_at", "-supporters")
    by_status: dict[int, list[Idea]] = {s.pk: [] for s in columns}
    for idea in ideas:
        by_status[idea.status_id].append(idea)
    return [(s, by_status[s.pk]) for s in columns]


def notices(*, member: Member, limit: int = 50) -> list[IdeaNotice]:
    return list(IdeaNotice.objects.filter(member=member).select_related("idea", "status")[:limit])


def unread_notices(*, member: Member) -> int:
    return IdeaNotice.objects.filter(member=member, read_at__isnull=True).count()


def challenge_get(*, brand: Brand, challenge_id: Any) -> Challenge:
    found = (
        Challenge.objects.select_related("prize_reward")
        .filter(brand=brand, pk=_uuid(challenge_id, "challenge"))
        .first()
    )
    if found is None:
        raise NotFound("No such challenge", code="challenge_not_found")
    return found


def challenge_list(*, brand: Brand) -> list[Challenge]:
    return list(Challenge.objects.filter(brand=brand).select_related("prize_reward").order_by("-ends_at"))


def program_get(*, brand: Brand, program_id: Any) -> BetaProgram:
    found = (
        BetaProgram.objects.select_related("brand", "segment")
        .filter(brand=brand, pk=_uuid(program_id, "program"))
        .first()
    )
    if found is None:
        raise NotFound("No such beta program", code="program_not_found")
    return found


def program_list(*, brand: Brand) -> list[BetaProgram]:
    return list(BetaProgram.objects.filter(brand=brand).order_by("-created_at"))


def task_get(*, program: BetaProgram, task_id: Any) -> BetaTask:
    found = (
        BetaTask.objects.select_related("program__brand")
        .filter(program=program, pk=_uuid(task_id, "task"))
        .first()
    )
    if found is None:
        raise NotFound("No such task", code="task_not_found")
    return found


def application_of(*, program: BetaProgram, member: Member | None) -> BetaApplication | None:
    if member is None:
        return None
    return BetaApplication.objects.filter(program=program, member=member).first()


def applications(*, program: BetaProgram) -> list[BetaApplication]:
    return list(
        BetaApplication.objects.filter(program=program).select_related("member").order_by("applied_at")
    )


def application_get(*, program: BetaProgram, application_id: Any) -> BetaApplication:
    found = BetaApplication.objects.filter(program=program, pk=_uuid(application_id, "application")).first()
    if found is None:
        raise NotFound("No such application", code="application_not_found")
    return found
