"""Points, rules, tiers, rewards, redemptions, coupons and referrals over the API (POS contract and more)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict, StringConstraints

from kesher.api.auth import actor_of, brand_of, require_scope
from kesher.api.common import ERRORS, PatchField, idempotent
from kesher.api.common import StrictInput as Strict
from kesher.core.errors import NotFound, ValidationFailed
from kesher.core.limits import (
    MAX_COUNT,
    MAX_MONEY,
    MAX_MULTIPLIER,
    MAX_PER_AMOUNT,
    MAX_POINT_VALUE,
    MAX_POINTS_HELD,
    MAX_POINTS_PER_OPERATION,
    MAX_PRIORITY,
    MAX_REWARD_VALUE,
)
from kesher.loyalty import selectors, services
from kesher.loyalty.models import Coupon, EarningRule, LedgerEntry, LoyaltyProgram, Referral, Reward, Tier
from kesher.members.models import Member
from kesher.members.selectors import member_get

router = Router()

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


# --- shapes ---------------------------------------------------------------------------------------


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
    pending: bool
    balance_after: int
    description: str
    activity_id: UUID | None
    rule_id: UUID | None
    created_at: datetime


class LedgerPageOut(Schema):
    items: list[LedgerEntryOut]
    next_cursor: str | None


class ProgramOut(Schema):
    pending_days: int
    expiry: str
    expiry_value: int
    expiry_warning_days: int
    allow_transfers: bool
    allow_debt: bool
    coupon_expiry_refund: bool
    point_value: Decimal
    tier_basis: str
    tier_period: str
    tier_grace_days: int
    referral_review_threshold: int


class ProgramPatch(Strict):
    pending_days: int = PatchField(ge=0, le=365)
    expiry: Literal["never", "days", "end_of_month", "end_of_year"] = PatchField()
    expiry_value: int = PatchField(ge=1, le=3650)
    expiry_warning_days: int = PatchField(ge=1, le=365)
    allow_transfers: bool = PatchField()
    allow_debt: bool = PatchField()
    coupon_expiry_refund: bool = PatchField()
    point_value: Decimal = PatchField(ge=0, le=MAX_POINT_VALUE, max_digits=10, decimal_places=4)
    tier_basis: Literal["points", "spend"] = PatchField()
    tier_period: Literal["rolling_12", "calendar_year"] = PatchField()
    tier_grace_days: int = PatchField(ge=0, le=3650)
    referral_review_threshold: int = PatchField(ge=1, le=MAX_COUNT)


class RewardIn(Strict):
    name: Name
    cost_points: int = Field(gt=0, le=MAX_POINTS_PER_OPERATION)
    kind: Literal["discount_percent", "discount_fixed", "free_item", "gift", "experience", "donation"]
    value: Decimal = Field(Decimal(0), ge=0, le=MAX_REWARD_VALUE, max_digits=12, decimal_places=2)
    stock: int | None = Field(None, ge=0, le=MAX_COUNT)
    per_member_limit: int | None = Field(None, ge=1, le=MAX_COUNT)
    description: Annotated[str, StringConstraints(max_length=5000)] = ""
    coupon_valid_days: int = Field(90, ge=1, le=3650)
    texts: dict[str, dict[str, str]] = Field(
        default_factory=dict, description='Texts per language, e.g. {"en": {"name": "Free coffee"}}'
    )
    available_from: datetime | None = None
    available_until: datetime | None = None
    tiers: list[str] = Field(default_factory=list, description="Only members of these tiers (names)")


class RewardPatch(Strict):
    name: Name = PatchField()
    cost_points: int = PatchField(gt=0, le=MAX_POINTS_PER_OPERATION)
    value: Decimal = PatchField(ge=0, le=MAX_REWARD_VALUE, max_digits=12, decimal_places=2)
    stock: int | None = Field(None, ge=0, le=MAX_COUNT)
    per_member_limit: int | None = Field(None, ge=1, le=MAX_COUNT)
    description: Annotated[str, StringConstraints(max_length=5000)] = PatchField()
    coupon_valid_days: int = PatchField(ge=1, le=3650)
    texts: dict[str, dict[str, str]] = PatchField()
    available_from: datetime | None = None
    available_until: datetime | None = None
    active: bool = PatchField()


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
    texts: dict[str, Any]
    available_from: datetime | None
    available_until: datetime | None
    tiers: list[str]
    active: bool


def _reward_out(reward: Reward) -> dict[str, Any]:
    fields = {name: getattr(reward, name) for name in RewardOut.model_fields if name != "tiers"}
    shaped = RewardOut.model_validate({**fields, "tiers": [tier.name for tier in reward.tiers.all()]})
    return shaped.model_dump(mode="json")


class RuleFields(Strict):
    name: Name
    activity_type: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    effect: Literal["fixed", "per_unit", "multiplier"]
    points: int = Field(0, ge=0, le=MAX_POINTS_PER_OPERATION)
    per_amount: Decimal = Field(Decimal(1), gt=0, le=MAX_PER_AMOUNT, max_digits=10, decimal_places=2)
    multiplier: Decimal = Field(Decimal(1), ge=1, le=MAX_MULTIPLIER, max_digits=5, decimal_places=2)
    min_amount: Decimal | None = Field(None, ge=0, le=MAX_MONEY, max_digits=14, decimal_places=2)
    stores: list[str] = Field(default_factory=list, max_length=500)
    channels: list[str] = Field(default_factory=list, max_length=3)
    skus: list[str] = Field(default_factory=list, max_length=1000)
    categories: list[str] = Field(default_factory=list, max_length=500)
    days_of_week: list[Annotated[int, Field(ge=0, le=6)]] = Field(
        default_factory=list, max_length=7, description="0=Monday … 6=Sunday"
    )
    hour_from: int | None = Field(None, ge=0, le=24)
    hour_to: int | None = Field(None, ge=0, le=24)
    tiers: list[str] = Field(default_factory=list)
    first_purchase_only: bool = False
    birthday_month_only: bool = False
    daily_limit: int | None = Field(None, ge=1, le=MAX_COUNT)
    weekly_limit: int | None = Field(None, ge=1, le=MAX_COUNT)
    monthly_limit: int | None = Field(None, ge=1, le=MAX_COUNT)
    budget_points: int | None = Field(None, ge=1, le=MAX_POINTS_HELD)
    segment_id: UUID | None = Field(None, description="Only members of this saved segment")
    stackable: bool = True
    priority: int = Field(100, ge=-MAX_PRIORITY, le=MAX_PRIORITY)
    valid_from: datetime | None = None
    valid_until: datetime | None = None


class EarningRuleIn(RuleFields):
    pass


class EarningRulePatch(Strict):
    name: Name = PatchField()
    points: int = PatchField(ge=0, le=MAX_POINTS_PER_OPERATION)
    per_amount: Decimal = PatchField(gt=0, le=MAX_PER_AMOUNT, max_digits=10, decimal_places=2)
    multiplier: Decimal = PatchField(ge=1, le=MAX_MULTIPLIER, max_digits=5, decimal_places=2)
    min_amount: Decimal | None = Field(None, ge=0, le=MAX_MONEY, max_digits=14, decimal_places=2)
    daily_limit: int | None = Field(None, ge=1, le=MAX_COUNT)
    weekly_limit: int | None = Field(None, ge=1, le=MAX_COUNT)
    monthly_limit: int | None = Field(None, ge=1, le=MAX_COUNT)
    budget_points: int | None = Field(None, ge=1, le=MAX_POINTS_HELD)
    stackable: bool = PatchField()
    priority: int = PatchField(ge=-MAX_PRIORITY, le=MAX_PRIORITY)
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    active: bool = PatchField()


class EarningRuleOut(RuleFields):
    model_config = ConfigDict(extra="ignore")
    id: UUID
    active: bool
    spent_points: int


class TierIn(Strict):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    threshold: Decimal = Field(ge=0, le=MAX_MONEY, max_digits=14, decimal_places=2)
    multiplier: Decimal = Field(Decimal(1), ge=1, le=MAX_MULTIPLIER, max_digits=5, decimal_places=2)
    perks: Annotated[str, StringConstraints(max_length=5000)] = ""
    texts: dict[str, str] = Field(default_factory=dict)


class TierOut(Schema):
    id: UUID
    name: str
    threshold: Decimal
    multiplier: Decimal
    perks: str
    texts: dict[str, str]


class TierProgressOut(Schema):
    tier: TierOut | None
    value: Decimal
    next_tier: TierOut | None
    to_next: Decimal | None


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


class CouponVoidIn(Strict):
    reason: Reason


class AdjustIn(Strict):
    points: int = Field(
        ge=-MAX_POINTS_PER_OPERATION, le=MAX_POINTS_PER_OPERATION, description="Positive adds, negative takes"
    )
    reason: Reason


class TransferIn(Strict):
    to_member_id: UUID
    points: int = Field(gt=0, le=MAX_POINTS_PER_OPERATION)


class SurpriseIn(Strict):
    member_ids: list[UUID] = Field(default_factory=list, max_length=100_000)
    segment_id: UUID | None = Field(
        None, description="Instead of member_ids: every active member of a segment"
    )
    points: int | None = Field(
        None,
        gt=0,
        le=MAX_POINTS_PER_OPERATION,
        description="Points for each member, or give reward_id instead",
    )
    reward_id: UUID | None = Field(
        None, description="A reward for each member (a free coupon), instead of points"
    )
    reason: Reason
    budget: int = Field(
        gt=0,
        le=MAX_POINTS_HELD,
        description="The most points this surprise may give (rewards count their cost)",
    )


class SurpriseOut(Schema):
    granted_members: int
    points_each: int
    reward_id: UUID | None = None


class ReferralOut(Schema):
    id: UUID
    referrer_id: UUID
    friend_id: UUID
    status: str
    suspicions: list[str]
    created_at: datetime
    decided_at: datetime | None


class ReferralDecisionIn(Strict):
    approve: bool


class LiabilityMonth(Schema):
    month: str | None
    points: int
    value: Decimal


class LiabilityOut(Schema):
    outstanding_points: int
    pending_points: int
    value: Decimal
    currency: str
    point_value: Decimal
    by_expiry_month: list[LiabilityMonth]


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


def _dump(schema: type[Schema], obj: Any) -> dict[str, Any]:
    return schema.from_orm(obj).model_dump(mode="json")


# --- points ---------------------------------------------------------------------------------------


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


@router.get(
    "/members/{member_id}/tier", response={200: TierProgressOut, **ERRORS}, summary="Tier and progress"
)
def get_tier(request: HttpRequest, member_id: str) -> dict[str, Any]:
    member = member_get(brand=brand_of(request), member_id=member_id)
    return services.tier_progress(account=member.points)


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
        return 201, _dump(LedgerEntryOut, entry)

    return idempotent(request, {"member": member_id, **payload.model_dump()}, perform)


@router.post(
    "/members/{member_id}/points/transfer",
    response={201: LedgerEntryOut, **ERRORS},
    summary="Move points to another member, where the club allows it (manage)",
)
def transfer_points(request: HttpRequest, member_id: str, payload: TransferIn) -> Status[Any]:
    require_scope(request, "manage")
    brand = brand_of(request)

    def perform() -> tuple[int, Any]:
        sender = member_get(brand=brand, member_id=member_id)
        try:
            receiver = member_get(brand=brand, member_id=payload.to_member_id)
        except NotFound as exc:
            exc.field = "to_member_id"
            raise
        entry = services.points_transfer(
            sender=sender, receiver=receiver, points=payload.points, actor=actor_of(request)
        )
        return 201, _dump(LedgerEntryOut, entry)

    return idempotent(request, {"member": member_id, **payload.model_dump(mode="json")}, perform)


@router.post(
    "/surprises",
    response={201: SurpriseOut, **ERRORS},
    summary="Surprise points for one member or many, within a budget (manage)",
)
def create_surprise(request: HttpRequest, payload: SurpriseIn) -> Status[Any]:
    require_scope(request, "manage")
    brand = brand_of(request)

    def perform() -> tuple[int, Any]:
        if (payload.points is None) == (payload.reward_id is None):
            raise ValidationFailed("Give points or reward_id, one of them", field="points")
        members = _surprise_audience(brand, payload)
        if payload.reward_id is not None:
            reward = selectors.reward_get(brand=brand, reward_id=payload.reward_id)
            granted = services.reward_surprise_grant(
                brand=brand,
                members=members,
                reward=reward,
                reason=payload.reason,
                budget=payload.budget,
                actor=actor_of(request),
            )
            return 201, {"granted_members": granted, "points_each": 0, "reward_id": str(reward.pk)}
        granted = services.surprise_grant(
            brand=brand,
            members=members,
            points=payload.points or 0,
            reason=payload.reason,
            budget=payload.budget,
            actor=actor_of(request),
        )
        return 201, {"granted_members": granted, "points_each": payload.points, "reward_id": None}

    return idempotent(request, payload.model_dump(mode="json"), perform)


def _surprise_audience(brand: Any, payload: SurpriseIn) -> list[Member]:
    if bool(payload.member_ids) == (payload.segment_id is not None):
        raise ValidationFailed("Give member_ids or segment_id, one of them", field="member_ids")
    if payload.segment_id is not None:
        in_segment = services.segment_members(brand=brand, segment_id=payload.segment_id)
        return list(in_segment.filter(status="active").order_by("created_at"))
    members = list(Member.objects.filter(brand=brand, pk__in=payload.member_ids).order_by("created_at"))
    if len(members) != len(set(payload.member_ids)):
        raise NotFound(
            "Some member_ids are not members of this brand", field="member_ids", code="member_not_found"
        )
    return members


# --- program, rules and tiers -----------------------------------------------------------------------


@router.get("/program", response={200: ProgramOut, **ERRORS}, summary="The club's program settings (manage)")
def get_program(request: HttpRequest) -> LoyaltyProgram:
    require_scope(request, "manage")
    return services.program_of(brand_of(request).pk)


@router.patch("/program", response={200: ProgramOut, **ERRORS}, summary="Change program settings (manage)")
def update_program(request: HttpRequest, payload: ProgramPatch) -> Status[Any]:
    require_scope(request, "manage")
    changes = payload.model_dump(exclude_unset=True)

    def perform() -> tuple[int, Any]:
        program = services.program_update(brand=brand_of(request), changes=changes, actor=actor_of(request))
        return 200, _dump(ProgramOut, program)

    return idempotent(request, payload.model_dump(mode="json", exclude_unset=True), perform)


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
        return 201, _dump(EarningRuleOut, rule)

    return idempotent(request, payload.model_dump(mode="json"), perform)


@router.patch(
    "/earning-rules/{rule_id}",
    response={200: EarningRuleOut, **ERRORS},
    summary="Change an earning rule (manage)",
)
def update_rule(request: HttpRequest, rule_id: str, payload: EarningRulePatch) -> Status[Any]:
    require_scope(request, "manage")
    rule = selectors.rule_get(brand=brand_of(request), rule_id=rule_id)
    changes = payload.model_dump(exclude_unset=True)

    def perform() -> tuple[int, Any]:
        return 200, _dump(
            EarningRuleOut, services.earning_rule_update(rule=rule, changes=changes, actor=actor_of(request))
        )

    return idempotent(
        request, {"rule": rule_id, **payload.model_dump(mode="json", exclude_unset=True)}, perform
    )


@router.get("/tiers", response={200: list[TierOut], **ERRORS}, summary="The club's tiers")
def list_tiers(request: HttpRequest) -> Any:
    return Tier.objects.filter(brand=brand_of(request))


@router.post("/tiers", response={201: TierOut, **ERRORS}, summary="Add a tier (manage)")
def create_tier(request: HttpRequest, payload: TierIn) -> Status[Any]:
    require_scope(request, "manage")
    data = payload.model_dump()

    def perform() -> tuple[int, Any]:
        tier = services.tier_create(brand=brand_of(request), actor=actor_of(request), **data)
        return 201, _dump(TierOut, tier)

    return idempotent(request, payload.model_dump(mode="json"), perform)


# --- rewards, redemptions, coupons ------------------------------------------------------------------


@router.get(
    "/rewards",
    response={200: list[RewardOut], **ERRORS},
    summary="The rewards catalog; with member_id, only what that member may take",
)
def list_rewards(request: HttpRequest, member_id: str | None = None) -> list[dict[str, Any]]:
    brand = brand_of(request)
    member = member_get(brand=brand, member_id=member_id) if member_id else None
    return [_reward_out(reward) for reward in selectors.rewards_available(brand=brand, member=member)]


@router.post("/rewards", response={201: RewardOut, **ERRORS}, summary="Add a reward (manage)")
def create_reward(request: HttpRequest, payload: RewardIn) -> Status[Any]:
    require_scope(request, "manage")
    data = payload.model_dump()

    def perform() -> tuple[int, Any]:
        reward = services.reward_create(brand=brand_of(request), actor=actor_of(request), **data)
        return 201, _reward_out(reward)

    return idempotent(request, payload.model_dump(mode="json"), perform)


@router.patch("/rewards/{reward_id}", response={200: RewardOut, **ERRORS}, summary="Change a reward (manage)")
def update_reward(request: HttpRequest, reward_id: str, payload: RewardPatch) -> Status[Any]:
    require_scope(request, "manage")
    reward = selectors.reward_get(brand=brand_of(request), reward_id=reward_id)
    changes = payload.model_dump(exclude_unset=True)

    def perform() -> tuple[int, Any]:
        return 200, _dump(
            RewardOut, services.reward_update(reward=reward, changes=changes, actor=actor_of(request))
        )

    return idempotent(
        request, {"reward": reward_id, **payload.model_dump(mode="json", exclude_unset=True)}, perform
    )


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


@router.post(
    "/coupons/{code}/void",
    response={200: CouponOut, **ERRORS},
    summary="Cancel an unused coupon; its points come back (manage)",
)
def void_coupon(request: HttpRequest, code: str, payload: CouponVoidIn) -> Status[Any]:
    require_scope(request, "manage")

    def perform() -> tuple[int, Any]:
        coupon = services.coupon_void(
            brand=brand_of(request), code=code, reason=payload.reason, actor=actor_of(request)
        )
        return 200, _coupon_out(
            coupon, balance=coupon.refund_entry.balance_after if coupon.refund_entry else None
        )

    return idempotent(request, {"code": code, **payload.model_dump()}, perform)


# --- referrals and reports ----------------------------------------------------------------------------


@router.get(
    "/referrals", response={200: list[ReferralOut], **ERRORS}, summary="Referrals, e.g. ?status=review"
)
def list_referrals(request: HttpRequest, status: str | None = None) -> Any:
    require_scope(request, "manage")
    referrals = Referral.objects.filter(brand=brand_of(request)).order_by("-created_at")
    return referrals.filter(status=status)[:500] if status else referrals[:500]


@router.post(
    "/referrals/{referral_id}/decision",
    response={200: ReferralOut, **ERRORS},
    summary="Approve (pays both sides) or reject a suspect referral (manage)",
)
def decide_referral(request: HttpRequest, referral_id: str, payload: ReferralDecisionIn) -> Status[Any]:
    require_scope(request, "manage")
    referral = selectors.referral_get(brand=brand_of(request), referral_id=referral_id)

    def perform() -> tuple[int, Any]:
        decided = services.referral_decide(
            referral=referral, approve=payload.approve, actor=actor_of(request)
        )
        return 200, _dump(ReferralOut, decided)

    return idempotent(request, {"referral": referral_id, **payload.model_dump()}, perform)


@router.get(
    "/reports/points-liability",
    response={200: LiabilityOut, **ERRORS},
    summary="Outstanding points, their money value, by expiry month (manage)",
)
def points_liability(request: HttpRequest) -> dict[str, Any]:
    require_scope(request, "manage")
    return services.points_liability(brand=brand_of(request))
