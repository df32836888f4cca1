"""Points, rewards, redemptions and coupons over the API (the POS contract)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict, StringConstraints

from kesher.api.auth import actor_of, brand_of, require_scope
from kesher.api.common import ERRORS, idempotent
from kesher.loyalty import selectors, services
from kesher.loyalty.models import Coupon, EarningRule, LedgerEntry, Reward
from kesher.members.selectors import member_get

router = Router()


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class PointsOut(Schema):
    balance: int
    pending: int
    lifetime_earned: int
    lifetime_redeemed: int
    expiring_soon: int
    expiring_before: datetime


class LedgerEntryOut(Schema):
    id: UUID
    kind: str
    points: int
    balance_after: int
    description: str
    activity_id: UUID | None
    rule_id: UUID | None
    created_at: datetime


class LedgerPageOut(Schema):
    items: list[LedgerEntryOut]
    next_cursor: str | None


class RewardIn(Strict):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    cost_points: int = Field(gt=0)
    kind: str = Field(description=", ".join(Reward.Kind.values))
    value: Decimal = Field(Decimal(0), ge=0, max_digits=12, decimal_places=2)
    stock: int | None = Field(None, ge=0)
    per_member_limit: int | None = Field(None, ge=1)
    description: Annotated[str, StringConstraints(max_length=5000)] = ""
    coupon_valid_days: int = Field(90, ge=1, le=3650)


class RewardOut(Schema):
    id: UUID
    name: str
    description: str
    kind: str
    cost_points: int
    value: Decimal
    stock: int | None
    per_member_limit: int | None
    coupon_valid_days: int
    active: bool


class EarningRuleIn(Strict):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    activity_type: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    effect: str = Field(description="fixed or per_unit")
    points: int = Field(ge=0)
    per_amount: Decimal = Field(Decimal(1), gt=0, max_digits=10, decimal_places=2)
    min_amount: Decimal | None = Field(None, ge=0, max_digits=14, decimal_places=2)
    stores: list[str] = Field(default_factory=list, max_length=500)
    daily_limit: int | None = Field(None, ge=1)
    priority: int = 100
    valid_from: datetime | None = None
    valid_until: datetime | None = None


class EarningRuleOut(Schema):
    id: UUID
    name: str
    activity_type: str
    effect: str
    points: int
    per_amount: Decimal
    min_amount: Decimal | None
    stores: list[str]
    daily_limit: int | None
    priority: int
    active: bool
    valid_from: datetime | None
    valid_until: datetime | None


class RedemptionIn(Strict):
    member_id: UUID
    reward_id: UUID


class CouponOut(Schema):
    id: UUID
    code: str
    member_id: UUID
    reward_id: UUID
    reward_name: str
    cost_points: int
    status: str
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None
    balance: int | None = None


class CouponRedeemIn(Strict):
    store: Annotated[str, StringConstraints(max_length=200)] = ""


class AdjustIn(Strict):
    points: int
    reason: Annotated[str, StringConstraints(min_length=1, max_length=300)]


def _coupon_out(coupon: Coupon, balance: int | None = None) -> dict[str, Any]:
    return {
        "id": str(coupon.id),
        "code": coupon.code,
        "member_id": str(coupon.member_id),
        "reward_id": str(coupon.reward_id),
        "reward_name": coupon.reward.name,
        "cost_points": coupon.cost_points,
        "status": coupon.status,
        "issued_at": coupon.issued_at.isoformat(),
        "expires_at": coupon.expires_at.isoformat(),
        "used_at": coupon.used_at.isoformat() if coupon.used_at else None,
        "balance": balance,
    }


@router.get("/members/{member_id}/points", response={200: PointsOut, **ERRORS}, summary="A member's points")
def get_points(request: HttpRequest, member_id: str) -> selectors.PointsSummary:
    return selectors.points_summary(member=member_get(brand=brand_of(request), member_id=member_id))


@router.get(
    "/members/{member_id}/ledger", response={200: LedgerPageOut, **ERRORS}, summary="A member's ledger"
)
def get_ledger(
    request: HttpRequest,
    member_id: str,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,  # type: ignore[type-arg]
) -> dict[str, Any]:
    member = member_get(brand=brand_of(request), member_id=member_id)
    page = selectors.ledger_page(member=member, cursor=cursor, limit=limit)
    return {"items": page.entries, "next_cursor": page.next_cursor}


@router.get(
    "/members/{member_id}/coupons", response={200: list[CouponOut], **ERRORS}, summary="A member's wallet"
)
def get_wallet(request: HttpRequest, member_id: str) -> list[dict[str, Any]]:
    member = member_get(brand=brand_of(request), member_id=member_id)
    return [_coupon_out(coupon) for coupon in selectors.coupon_wallet(member=member)]


@router.post(
    "/members/{member_id}/points/adjust",
    response={201: LedgerEntryOut, **ERRORS},
    summary="Staff adjustment with a reason (manage)",
)
def adjust_points(request: HttpRequest, member_id: str, payload: AdjustIn) -> Status[Any]:
    require_scope(request, "manage")
    member = member_get(brand=brand_of(request), member_id=member_id)

    def perform() -> tuple[int, Any]:
        entry: LedgerEntry = services.points_adjust(
            member=member, points=payload.points, reason=payload.reason, actor=actor_of(request)
        )
        return 201, LedgerEntryOut.from_orm(entry).model_dump(mode="json")

    return idempotent(request, {"member": member_id, **payload.model_dump()}, perform)


@router.get("/rewards", response={200: list[RewardOut], **ERRORS}, summary="The rewards catalog")
def list_rewards(request: HttpRequest) -> list[Reward]:
    return selectors.rewards_available(brand=brand_of(request))


@router.post("/rewards", response={201: RewardOut, **ERRORS}, summary="Add a reward (manage)")
def create_reward(request: HttpRequest, payload: RewardIn) -> Status[Any]:
    require_scope(request, "manage")
    data = payload.model_dump()

    def perform() -> tuple[int, Any]:
        reward = services.reward_create(brand=brand_of(request), actor=actor_of(request), **data)
        return 201, RewardOut.from_orm(reward).model_dump(mode="json")

    return idempotent(request, payload.model_dump(mode="json"), perform)


@router.get(
    "/earning-rules", response={200: list[EarningRuleOut], **ERRORS}, summary="Earning rules (manage)"
)
def list_rules(request: HttpRequest) -> Any:
    require_scope(request, "manage")
    return EarningRule.objects.filter(brand=brand_of(request))


@router.post(
    "/earning-rules", response={201: EarningRuleOut, **ERRORS}, summary="Add an earning rule (manage)"
)
def create_rule(request: HttpRequest, payload: EarningRuleIn) -> Status[Any]:
    require_scope(request, "manage")
    data = payload.model_dump()

    def perform() -> tuple[int, Any]:
        rule = services.earning_rule_create(brand=brand_of(request), actor=actor_of(request), **data)
        return 201, EarningRuleOut.from_orm(rule).model_dump(mode="json")

    return idempotent(request, payload.model_dump(mode="json"), perform)


@router.post("/redemptions", response={201: CouponOut, **ERRORS}, summary="Spend points on a reward")
def create_redemption(request: HttpRequest, payload: RedemptionIn) -> Status[Any]:
    brand = brand_of(request)

    def perform() -> tuple[int, Any]:
        member = member_get(brand=brand, member_id=payload.member_id)
        reward = selectors.reward_get(brand=brand, reward_id=payload.reward_id)
        coupon = services.redemption_create(member=member, reward=reward)
        return 201, _coupon_out(coupon, balance=coupon.entry.balance_after if coupon.entry else None)

    return idempotent(request, payload.model_dump(mode="json"), perform)


@router.post(
    "/coupons/{code}/redeem", response={200: CouponOut, **ERRORS}, summary="A cashier burns a coupon"
)
def redeem_coupon(request: HttpRequest, code: str, payload: CouponRedeemIn | None = None) -> Status[Any]:
    store = payload.store if payload else ""

    def perform() -> tuple[int, Any]:
        coupon = services.coupon_redeem(
            brand=brand_of(request), code=code, store=store, actor=actor_of(request)
        )
        return 200, _coupon_out(coupon)

    return idempotent(request, {"code": code, "store": store}, perform)
