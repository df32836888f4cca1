"""A brand's own ladder of stages and its statuses: renamed, added, put on the roadmap; audited."""

from __future__ import annotations

import re

from django.db import transaction

from kesher.brands.models import Brand
from kesher.core.audit import Actor, audit_record
from kesher.core.errors import Conflict, ValidationFailed
from kesher.ideas.models import IdeaSettings, IdeaStatus
from kesher.ideas.services._common import settings_of

MAX_STAGES = 8


def idea_stages_set(*, brand: Brand, stages: list[dict[str, int]], actor: Actor) -> IdeaSettings:
    """Each stage a number of supporters within a number of days, thresholds rising; audited. Ideas
    already climbing keep their current deadline; the new numbers count from their next stage."""
    if not 1 <= len(stages) <= MAX_STAGES:
        raise ValidationFailed(f"between 1 and {MAX_STAGES} stages", field="stages")
    clean: list[dict[str, int]] = []
    for index, stage in enumerate(stages):
        threshold, days = int(stage.get("threshold", 0)), int(stage.get("days", 0))
        if not 1 <= threshold <= 10_000_000:
            raise ValidationFailed(
                "a threshold is between 1 and 10,000,000", field=f"stages.{index}.threshold"
            )
        if not 1 <= days <= 3650:
            raise ValidationFailed("days are between 1 and 3,650", field=f"stages.{index}.days")
        if clean and threshold <= clean[-1]["threshold"]:
            raise ValidationFailed(
                "each threshold is above the one before", field=f"stages.{index}.threshold"
            )
        clean.append({"threshold": threshold, "days": days})
    with transaction.atomic():
        found = settings_of(brand)
        before = found.stages
        found.stages = clean
        found.save(update_fields=["stages", "updated_at"])
        audit_record(
            brand=brand,
            actor=actor,
            action="ideas.stages_set",
            target_type="brand",
            target_id=brand.pk,
            data={"from": before, "to": clean},
        )
    return found


def idea_status_save(
    *,
    brand: Brand,
    code: str,
    name: str,
    kind: str | None = None,
    on_roadmap: bool | None = None,
    position: int | None = None,
    actor: Actor,
) -> IdeaStatus:
    """Rename a status (or add one, of one of the six kinds); audited."""
    settings_of(brand)
    code = code.strip().lower()
    if not re.fullmatch(r"[a-z0-9_-]{1,40}", code):
        raise ValidationFailed("code is letters, digits, - and _", field="code")
    name = " ".join(name.split())
    if len(name) > 80:
        raise ValidationFailed("name is longer than 80 characters", field="name")
    with transaction.atomic():
        status = IdeaStatus.objects.select_for_update().filter(brand=brand, code=code).first()
        created = status is None
        if status is None:
            if kind not in IdeaStatus.Kind.values:
                raise ValidationFailed("a new status needs its kind", field="kind")
            last = IdeaStatus.objects.filter(brand=brand).order_by("-position").first()
            status = IdeaStatus(
                brand=brand, code=code, kind=kind, position=(last.position + 10) if last else 0
            )
        elif kind is not None and kind != status.kind:
            raise Conflict("A status keeps its kind; add a new one instead", code="kind_fixed", field="kind")
        status.name = name
        if on_roadmap is not None:
            status.on_roadmap = on_roadmap
        if position is not None:
            status.position = position
        status.save()
        audit_record(
            brand=brand,
            actor=actor,
            action="ideas.status_added" if created else "ideas.status_renamed",
            target_type="idea_status",
            target_id=status.pk,
            data={"code": code, "name": name, "kind": status.kind, "on_roadmap": status.on_roadmap},
        )
    return status
