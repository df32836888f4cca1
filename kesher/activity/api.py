"""Activities over the API: one at a time (Idempotency-Key header) or up to 1,000 in bulk."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Router, Status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from kesher.activity.models import Activity
from kesher.activity.services import Draft, activities_record_many, activity_record
from kesher.api.auth import brand_of
from kesher.api.common import ERRORS, loose_coercion
from kesher.brands.models import Brand
from kesher.core.errors import KesherError, NotFound, ValidationFailed
from kesher.core.idempotency import MAX_KEY_LENGTH, error_body, request_fingerprint
from kesher.members.models import Member
from kesher.members.selectors import member_get, member_get_by_external_id, members_by_reference

router = Router()
BULK_LIMIT = 1000

# Plain pydantic models, not ninja.Schema: Schema's wrapper for reading ORM objects costs more than the
# rest of the validation, and these shapes only ever hold dicts (a bulk call validates 2,000 of them).


class ActivityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member_id: UUID | None = None
    external_id: Annotated[str, StringConstraints(max_length=100)] | None = Field(
        None, description="The member's external id, instead of member_id"
    )
    type: Annotated[str, StringConstraints(max_length=40)]
    occurred_at: datetime | None = Field(None, description="With a time zone offset; now when absent")
    attributes: dict[str, Any] = Field(default_factory=dict)
    source: Annotated[str, StringConstraints(min_length=1, max_length=50)] = "api"
    reference: Annotated[str, StringConstraints(max_length=100)] | None = Field(
        None,
        description="Your own id for this activity (an order number); a second one from the same source "
        "is a replay",
    )

    @field_validator("occurred_at", mode="before")
    @classmethod
    def occurred_at_written_out(cls, value: Any) -> Any:
        problem = loose_coercion(value, datetime)
        if problem:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def one_member_reference(self) -> ActivityIn:
        if (self.member_id is None) == (self.external_id is None):
            raise ValueError("give exactly one of member_id or external_id")
        return self


class BulkItemIn(ActivityIn):
    idempotency_key: Annotated[str, StringConstraints(min_length=1, max_length=MAX_KEY_LENGTH)] | None = None


class ActivityOut(BaseModel):
    id: UUID
    member_id: UUID
    type: str
    source: str
    reference: str | None
    occurred_at: datetime
    recorded_at: datetime
    attributes: dict[str, Any]
    points_awarded: int
    balance: int | None


class BulkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    activities: list[dict[str, Any]] = Field(
        max_length=BULK_LIMIT, description=f"Up to {BULK_LIMIT} activities"
    )


class BulkResult(BaseModel):
    index: int
    status: int
    activity: ActivityOut | None = None
    error: dict[str, Any] | None = None


class BulkOut(BaseModel):
    created: int
    replayed: int
    failed: int
    results: list[BulkResult]


def _canonical(value: Any) -> Any:
    """Keys in sorted order at every depth: PostgreSQL's jsonb keeps its own order, so an activity read
    back (a replay) and the one just recorded answer with the same bytes."""
    if isinstance(value, dict):
        return {key: _canonical(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    return value


def activity_out(activity: Activity) -> dict[str, Any]:
    return {
        "id": str(activity.id),
        "member_id": str(activity.member_id),
        "type": activity.type,
        "source": activity.source,
        "reference": activity.external_id,
        "occurred_at": activity.occurred_at.astimezone(UTC).isoformat(),
        "recorded_at": activity.recorded_at.astimezone(UTC).isoformat(),
        "attributes": _canonical(activity.attributes),
        "points_awarded": activity.points_awarded,
        "balance": activity.balance_after,
    }


def _member(brand: Brand, item: ActivityIn) -> Member:
    if item.member_id is not None:
        return member_get(brand=brand, member_id=item.member_id)
    return member_get_by_external_id(brand=brand, external_id=item.external_id or "")


def _record(
    brand: Brand, item: ActivityIn, key: str | None, request_hash: str | None = None
) -> tuple[Activity, bool]:
    return activity_record(
        brand=brand,
        member=_member(brand, item),
        type=item.type,
        attributes=item.attributes,
        occurred_at=item.occurred_at,
        source=item.source,
        idempotency_key=key,
        external_id=item.reference,
        request_hash=request_hash,
    )


@router.post("", response={201: ActivityOut, **ERRORS}, summary="Record one activity")
def create_activity(request: HttpRequest, payload: ActivityIn) -> Status[Any]:
    """The `Idempotency-Key` is the activity's own key (unique per brand and source), kept on its row
    with a fingerprint of the request: a replay answers the first activity as it was recorded; the same
    key with another request is refused (422). A refusal is not kept: a retry is checked again."""
    brand = brand_of(request)
    key = request.headers.get("Idempotency-Key")
    fingerprint = None
    if key is not None:
        if not 0 < len(key) <= MAX_KEY_LENGTH:
            raise ValidationFailed(
                f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters", field="Idempotency-Key"
            )
        fingerprint = request_fingerprint("POST", request.path, payload.model_dump(mode="json"))
    activity, _created = _record(brand, payload, key, fingerprint)
    return Status(201, activity_out(activity))


@router.post("/bulk", response={200: BulkOut, **ERRORS}, summary="Record up to 1,000 activities")
def create_activities_bulk(request: HttpRequest, payload: BulkIn) -> dict[str, Any]:
    """Each item succeeds or fails alone; its own `idempotency_key` (or `reference`) makes a retry safe."""
    brand = brand_of(request)
    parsed: list[BulkItemIn | KesherError] = []
    for raw in payload.activities:
        try:
            parsed.append(_parse_item(raw))
        except KesherError as invalid:
            parsed.append(invalid)
    members = _members_for(brand, [item for item in parsed if isinstance(item, BulkItemIn)])
    drafts: list[Draft] = []
    slots: list[int | KesherError] = []
    for item in parsed:
        member = None if isinstance(item, KesherError) else members.get(_member_key(item))
        if isinstance(item, KesherError):
            slots.append(item)
        elif member is None:
            slots.append(
                NotFound(
                    "No such member",
                    field="member_id" if item.member_id else "external_id",
                    code="member_not_found",
                )
            )
        else:
            slots.append(len(drafts))
            drafts.append(
                Draft(
                    member=member,
                    type=item.type,
                    attributes=item.attributes,
                    occurred_at=item.occurred_at,
                    source=item.source,
                    idempotency_key=item.idempotency_key,
                    external_id=item.reference,
                )
            )
    outcomes = activities_record_many(brand=brand, drafts=drafts)
    results: list[dict[str, Any]] = []
    created = replayed = failed = 0
    for index, slot in enumerate(slots):
        outcome = outcomes[slot] if isinstance(slot, int) else None
        problem = slot if isinstance(slot, KesherError) else outcome.error if outcome else None
        if problem is not None or outcome is None or outcome.activity is None:
            failed += 1
            problem = problem or KesherError("The activity was not recorded")
            results.append({"index": index, "status": problem.status, "error": error_body(problem)["error"]})
            continue
        created += outcome.created
        replayed += not outcome.created
        results.append({"index": index, "status": 201, "activity": activity_out(outcome.activity)})
    return {"created": created, "replayed": replayed, "failed": failed, "results": results}


def _member_key(item: ActivityIn) -> tuple[str, str]:
    return ("id", str(item.member_id)) if item.member_id is not None else ("ext", item.external_id or "")


def _members_for(brand: Brand, items: list[BulkItemIn]) -> dict[tuple[str, str], Member]:
    """Every member the items name, in two queries."""
    ids = {item.member_id for item in items if item.member_id is not None}
    external = {item.external_id for item in items if item.member_id is None and item.external_id}
    by_id, by_external = members_by_reference(brand=brand, ids=ids, external_ids=external)
    found: dict[tuple[str, str], Member] = {("id", str(pk)): member for pk, member in by_id.items()}
    found.update((("ext", external_id), member) for external_id, member in by_external.items())
    return found


def _parse_item(raw: dict[str, Any]) -> BulkItemIn:
    from pydantic import ValidationError

    try:
        return BulkItemIn.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        message = (
            f"Unknown field {field!r}"
            if first["type"] == "extra_forbidden"
            else f"{field}: {first['msg']}"
            if field
            else first["msg"]
        )
        raise ValidationFailed(message, field=field) from None
