"""The customers part's API operations (mounted at /api/v1 by kesher/api/api.py): duplicates and merging."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from kesher.api.auth import actor_of, brand_of, require_scope
from kesher.api.common import ERRORS, idempotent
from kesher.api.common import StrictInput as Strict
from kesher.customers import selectors, services
from kesher.customers.models import MemberMerge

router = Router()


class DuplicateOut(Schema):
    id: UUID
    member_ids: list[UUID]
    probability: float
    reasons: list[str]
    status: str
    found_at: datetime


class DuplicatesQuery(Schema):
    min_probability: float = Field(0.9, ge=0, le=1)
    status: str = Field("open", description="open, merged or dismissed")
    limit: int = Field(100, ge=1, le=1000)


class MemberMergeIn(Strict):
    source_id: UUID = Field(description="The duplicate: everything it has moves to the target")
    target_id: UUID


class MemberMergeOut(Schema):
    id: UUID
    source_id: UUID
    target_id: UUID
    merged_at: datetime
    undone_at: datetime | None
    rows_moved: int


def merge_out(merge: MemberMerge) -> dict[str, Any]:
    moved = sum(len(step.get("ids", [])) for part in merge.moves for step in part["steps"])
    return {
        "id": merge.pk,
        "source_id": merge.source_id,
        "target_id": merge.target_id,
        "merged_at": merge.merged_at,
        "undone_at": merge.undone_at,
        "rows_moved": moved,
    }


@router.get(
    "/duplicates", response={200: list[DuplicateOut], **ERRORS}, summary="Probable duplicate pairs (manage)"
)
def list_duplicates(request: HttpRequest, query: Query[DuplicatesQuery]) -> list[dict[str, Any]]:
    require_scope(request, "manage")
    pairs = selectors.duplicate_pairs(
        brand=brand_of(request), min_probability=query.min_probability, status=query.status, limit=query.limit
    )
    return [
        {
            "id": pair.pk,
            "member_ids": [pair.member_a_id, pair.member_b_id],
            "probability": pair.probability,
            "reasons": pair.reasons,
            "status": pair.status,
            "found_at": pair.found_at,
        }
        for pair in pairs
    ]


@router.post(
    "/members/merge",
    response={200: MemberMergeOut, **ERRORS},
    summary="Merge a duplicate into a member (manage)",
)
def merge_members(request: HttpRequest, payload: MemberMergeIn) -> Status[Any]:
    require_scope(request, "manage")

    def perform() -> tuple[int, Any]:
        merge = services.members_merge(
            brand=brand_of(request),
            source_id=payload.source_id,
            target_id=payload.target_id,
            actor=actor_of(request),
        )
        return 200, MemberMergeOut(**merge_out(merge)).model_dump(mode="json")

    return idempotent(request, payload.model_dump(mode="json"), perform)


@router.post(
    "/merges/{merge_id}/undo", response={200: MemberMergeOut, **ERRORS}, summary="Undo a merge (manage)"
)
def undo_merge(request: HttpRequest, merge_id: UUID) -> Status[Any]:
    require_scope(request, "manage")

    def perform() -> tuple[int, Any]:
        merge = services.merge_undo(brand=brand_of(request), merge_id=merge_id, actor=actor_of(request))
        return 200, MemberMergeOut(**merge_out(merge)).model_dump(mode="json")

    return idempotent(request, {"merge": str(merge_id)}, perform)


@router.post(
    "/duplicates/{pair_id}/dismiss",
    response={200: DuplicateOut, **ERRORS},
    summary="Not a duplicate (manage)",
)
def dismiss_duplicate(request: HttpRequest, pair_id: UUID) -> Status[Any]:
    require_scope(request, "manage")

    def perform() -> tuple[int, Any]:
        pair = services.pair_dismiss(brand=brand_of(request), pair_id=pair_id, actor=actor_of(request))
        body = DuplicateOut(
            id=pair.pk,
            member_ids=[pair.member_a_id, pair.member_b_id],
            probability=pair.probability,
            reasons=pair.reasons,
            status=pair.status,
            found_at=pair.found_at,
        )
        return 200, body.model_dump(mode="json")

    return idempotent(request, {"pair": str(pair_id)}, perform)
