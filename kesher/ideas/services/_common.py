"""What the ideas services share: the brand's settings read or installed, member checks, notices."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from kesher.brands.models import Brand
from kesher.core.errors import Conflict, ValidationFailed
from kesher.core.events import event_emit
from kesher.ideas.models import DEFAULT_STAGES, Idea, IdeaNotice, IdeaSettings, IdeaStatus, IdeaSupport
from kesher.ideas.types import IDEA_STAGE_CHANGED
from kesher.members.models import Member, MemberStatus

ACTIVITY_SOURCE = "ideas"

# (code, kind, on the roadmap): the statuses a brand starts with, in order.
DEFAULT_STATUSES = [
    ("open", IdeaStatus.Kind.OPEN, False),
    ("under_review", IdeaStatus.Kind.REVIEW, True),
    ("planned", IdeaStatus.Kind.PLANNED, True),
    ("in_development", IdeaStatus.Kind.DEVELOPMENT, True),
    ("shipped", IdeaStatus.Kind.SHIPPED, True),
    ("declined", IdeaStatus.Kind.DECLINED, False),
]


def ideas_install_defaults(*, brand: Brand) -> IdeaSettings:
    """The brand's ladder (LEGO Ideas' numbers) and its statuses; safe to run again."""
    with transaction.atomic():
        found, _ = IdeaSettings.objects.get_or_create(brand=brand, defaults={"stages": DEFAULT_STAGES})
        for position, (code, kind, roadmap) in enumerate(DEFAULT_STATUSES):
            IdeaStatus.objects.get_or_create(
                brand=brand,
                code=code,
                defaults={"kind": kind, "position": position * 10, "on_roadmap": roadmap},
            )
    return found


def settings_of(brand: Brand) -> IdeaSettings:
    found = IdeaSettings.objects.filter(brand=brand).first()
    return found if found is not None else ideas_install_defaults(brand=brand)


def status_of_kind(brand: Brand, kind: str) -> IdeaStatus:
    settings_of(brand)
    found = IdeaStatus.objects.filter(brand=brand, kind=kind).order_by("position").first()
    assert found is not None, "a brand's statuses include every kind"
    return found


def check_member(member: Member) -> None:
    if member.status not in (MemberStatus.ACTIVE, MemberStatus.PROSPECT):
        raise Conflict("The member is not active", code="member_inactive")


def clean_text(value: str, field: str, *, max_length: int, min_length: int = 1) -> str:
    text = value.strip()
    if len(text) < min_length:
        raise ValidationFailed(f"{field} is required", field=field)
    if len(text) > max_length:
        raise ValidationFailed(f"{field} is longer than {max_length} characters", field=field)
    return text


def notify_followers(
    *, idea: Idea, kind: str, stage: int | None = None, status: IdeaStatus | None = None, reason: str = ""
) -> int:
    """A notice for each supporter and the author, and the `idea.stage_changed` event (after commit)."""
    members: set[Any] = set(IdeaSupport.objects.filter(idea=idea).values_list("member_id", flat=True))
    if idea.author_id is not None:
        members.add(idea.author_id)
    notices: Iterable[IdeaNotice] = (
        IdeaNotice(
            brand_id=idea.brand_id,
            member_id=member_id,
            idea=idea,
            kind=kind,
            stage=stage,
            status=status,
            reason=reason,
        )
        for member_id in sorted(members, key=str)
    )
    IdeaNotice.objects.bulk_create(list(notices), batch_size=1000)
    event_emit(
        brand_id=idea.brand_id,
        type=IDEA_STAGE_CHANGED,
        data={
            "idea_id": str(idea.pk),
            "stage": idea.stage,
            "phase": idea.phase,
            "status": idea.status.code,
            "supporters": idea.supporters,
        },
    )
    return len(members)
