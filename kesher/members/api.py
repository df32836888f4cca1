"""Members over the API: create, read, find, update, consent, erase. Thin: parse, call a service, shape."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import BaseModel, StringConstraints

from kesher.api.auth import actor_of, brand_of, require_scope
from kesher.api.common import ERRORS, PatchField, idempotent
from kesher.api.common import StrictInput as Strict
from kesher.members import selectors, services
from kesher.members.models import Member

router = Router()

ShortText = Annotated[str, StringConstraints(max_length=100)]


class MemberIn(Strict):
    external_id: ShortText | None = None
    email: Annotated[str, StringConstraints(max_length=254)] | None = None
    phone: Annotated[str, StringConstraints(max_length=40)] | None = Field(
        None, description="Any common form; 050-1234567 is read as an Israeli number and stored as E.164"
    )
    first_name: ShortText = ""
    last_name: ShortText = ""
    birthday: date | None = None
    locale: Literal["he", "en"] | None = Field(None, description="The brand's default when absent")
    interests: list[Annotated[str, StringConstraints(max_length=50)]] = Field(
        default_factory=list, max_length=50
    )
    status: str = Field("active", description="prospect (a lead who has not joined) or active")
    source: Annotated[str, StringConstraints(max_length=50)] = "api"
    consents: dict[str, bool] = Field(
        default_factory=dict, description='For example {"email": true, "sms": false}'
    )
    consent_wording: Annotated[str, StringConstraints(max_length=2000)] = Field(
        "", description="The consent text the member saw; kept as proof"
    )
    referral_code: Annotated[str, StringConstraints(max_length=20)] | None = None


class MemberPatch(Strict):
    external_id: ShortText | None = None
    email: Annotated[str, StringConstraints(max_length=254)] | None = None
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None
    first_name: ShortText | None = None
    last_name: ShortText | None = None
    birthday: date | None = None
    locale: Literal["he", "en"] = PatchField()
    interests: list[Annotated[str, StringConstraints(max_length=50)]] | None = Field(None, max_length=50)
    status: str | None = None


# Answers are plain pydantic models fed dicts (not ninja.Schema read from the model): Schema's wrapper for
# reading ORM objects cost more than the rest of a member read's answer.
class Consents(BaseModel):
    email: bool
    sms: bool
    push: bool


class MemberOut(BaseModel):
    id: UUID
    external_id: str | None
    email: str | None
    phone: str | None
    first_name: str
    last_name: str
    birthday: date | None
    locale: str
    interests: list[str]
    status: str
    joined_at: datetime
    source: str
    card_number: str
    referral_code: str
    consents: Consents
    created_at: datetime


class MemberPageOut(BaseModel):
    items: list[MemberOut]
    next_cursor: str | None


class ConsentIn(Strict):
    channel: str = Field(description="email, sms or push")
    granted: bool
    source: Annotated[str, StringConstraints(max_length=50)] = "api"
    wording: Annotated[str, StringConstraints(max_length=2000)] = ""
    origin: Annotated[str, StringConstraints(max_length=200)] = ""


class ConsentOut(Schema):
    channel: str
    granted: bool
    source: str
    wording: str
    origin: str
    occurred_at: datetime


def member_answer(member: Member) -> dict[str, Any]:
    """A member as the API answers it: MemberOut's fields read from the model (Python values)."""
    return {name: getattr(member, name) for name in _MEMBER_FIELDS}


_MEMBER_FIELDS = tuple(MemberOut.model_fields)


def _out(member: Member) -> dict[str, Any]:
    """The answer in JSON form, as an idempotent call keeps it for replays."""
    return MemberOut.model_validate(member_answer(member)).model_dump(mode="json")


@router.post("", response={201: MemberOut, **ERRORS}, summary="Create a member")
def create_member(request: HttpRequest, payload: MemberIn) -> Status[Any]:
    brand = brand_of(request)
    data = payload.model_dump()

    def perform() -> tuple[int, Any]:
        member = services.member_create(
            brand=brand,
            actor=actor_of(request),
            consent_origin=f"api key {request.auth.prefix}",  # type: ignore[attr-defined]
            **data,
        )
        return 201, _out(member)

    return idempotent(request, data, perform)


@router.get("", response={200: MemberPageOut, **ERRORS}, summary="List members (manage scope)")
def list_members(
    request: HttpRequest,
    status: str | None = None,
    q: str | None = None,
    interest: str | None = None,
    consent: str | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,  # type: ignore[type-arg]
) -> dict[str, Any]:
    require_scope(request, "manage")
    page = selectors.member_list(
        brand=brand_of(request),
        status=status,
        q=q,
        interest=interest,
        consent=consent,
        cursor=cursor,
        limit=limit,
    )
    return {"items": [member_answer(member) for member in page.members], "next_cursor": page.next_cursor}


@router.get(
    "/find", response={200: list[MemberOut], **ERRORS}, summary="Find by phone, card, email or external id"
)
def find_members(request: HttpRequest, q: str) -> list[dict[str, Any]]:
    return [member_answer(member) for member in selectors.member_find(brand=brand_of(request), query=q)]


@router.get(
    "/by-external-id/{external_id}",
    response={200: MemberOut, **ERRORS},
    summary="Read a member by external id",
)
def get_member_by_external_id(request: HttpRequest, external_id: str) -> dict[str, Any]:
    return member_answer(
        selectors.member_get_by_external_id(brand=brand_of(request), external_id=external_id)
    )


@router.get("/{member_id}", response={200: MemberOut, **ERRORS}, summary="Read a member")
def get_member(request: HttpRequest, member_id: str) -> dict[str, Any]:
    return member_answer(selectors.member_get(brand=brand_of(request), member_id=member_id))


@router.patch("/{member_id}", response={200: MemberOut, **ERRORS}, summary="Change a member's details")
def update_member(request: HttpRequest, member_id: str, payload: MemberPatch) -> Status[Any]:
    member = selectors.member_get(brand=brand_of(request), member_id=member_id)
    changes = payload.model_dump(exclude_unset=True)

    def perform() -> tuple[int, Any]:
        return 200, _out(services.member_update(member=member, changes=changes, actor=actor_of(request)))

    return idempotent(request, {"member": member_id, **changes}, perform)


@router.post(
    "/{member_id}/consents", response={201: ConsentOut, **ERRORS}, summary="Grant or withdraw consent"
)
def set_consent(request: HttpRequest, member_id: str, payload: ConsentIn) -> Status[Any]:
    member = selectors.member_get(brand=brand_of(request), member_id=member_id)
    data = payload.model_dump()

    def perform() -> tuple[int, Any]:
        event = services.consent_set(member=member, actor=actor_of(request), **data)
        return 201, ConsentOut.from_orm(event).model_dump(mode="json")

    return idempotent(request, {"member": member_id, **data}, perform)


@router.get(
    "/{member_id}/consents", response={200: list[ConsentOut], **ERRORS}, summary="Consent history (proof)"
)
def list_consents(request: HttpRequest, member_id: str) -> Any:
    member = selectors.member_get(brand=brand_of(request), member_id=member_id)
    return member.consent_events.all()


@router.post(
    "/{member_id}/erase", response={200: MemberOut, **ERRORS}, summary="Erase personal details (manage)"
)
def erase_member(request: HttpRequest, member_id: str) -> dict[str, Any]:
    require_scope(request, "manage")
    member = selectors.member_get(brand=brand_of(request), member_id=member_id)
    return member_answer(services.member_erase(member=member, actor=actor_of(request)))
