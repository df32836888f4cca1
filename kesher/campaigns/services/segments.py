"""Segments: named audiences defined by rules over members."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from kesher.brands.models import Brand
from kesher.campaigns.models import (
    Segment,
)
from kesher.campaigns.rules import rules_parse
from kesher.core.audit import SYSTEM, Actor, audit_record
from kesher.core.errors import Conflict, ValidationFailed


@transaction.atomic
def segment_create(*, brand: Brand, name: str, rules: dict[str, Any], actor: Actor = SYSTEM) -> Segment:
    name = " ".join(name.split())
    if not name:
        raise ValidationFailed("name is required", field="name")
    parsed = rules_parse(rules)
    if Segment.objects.filter(brand=brand, name=name).exists():
        raise Conflict(f"A segment named {name!r} already exists", field="name", code="duplicate_segment")
    segment = Segment.objects.create(brand=brand, name=name, rules=parsed.model_dump(mode="json"))
    audit_record(
        brand=brand,
        actor=actor,
        action="segment.create",
        target_type="segment",
        target_id=segment.pk,
        data={"name": name, "rules": segment.rules},
    )
    return segment
