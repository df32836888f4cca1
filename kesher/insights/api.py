"""The insights part's API operations (mounted at /api/v1 by kesher/api/api.py)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from kesher.api.auth import brand_of, require_scope
from kesher.api.common import ERRORS
from kesher.insights import selectors
from kesher.members.selectors import member_get

router = Router()


class TracksOut(Schema):
    access: int
    engage: int
    customize: int
    connect: int
    collaborate: int


class RfmOut(Schema):
    recency: int
    frequency: int
    monetary: int
    segment: str


class ClvOut(Schema):
    p_alive: float | None
    expected_purchases_90d: float | None
    value_12m: float | None


class MemberInsightsOut(Schema):
    funnel_stage: str
    tracks: TracksOut
    rfm: RfmOut
    clv: ClvOut
    churn_risk: float | None


@router.get(
    "/members/{member_id}/insights",
    response={200: MemberInsightsOut, **ERRORS},
    summary="A member's funnel stage, engagement tracks, RFM, lifetime value and churn risk (manage)",
)
def get_member_insights(request: HttpRequest, member_id: str) -> dict[str, Any]:
    require_scope(request, "manage")
    member = member_get(brand=brand_of(request), member_id=member_id)
    return selectors.member_insights(member=member)
