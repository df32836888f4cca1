"""Loyalty's share of a member's data: the balance, lots, ledger, coupons, redemptions and referrals, for
their download and for erasure (registered from LoyaltyConfig.ready() with kesher.members.hooks).

Erasure keeps the account, the lots and the ledger (the points liability and every report add up as
before) under the now anonymous member; it cancels coupons not yet used (nobody can present them), drops a
staff adjustment's free-text reason (it may name the person) and a referral's fraud signals (addresses,
devices)."""

from __future__ import annotations

from typing import Any

from kesher.loyalty.models import Coupon, LedgerEntry, PointsAccount, PointsLot, Referral
from kesher.members.models import Member


def _time(value: Any) -> str | None:
    return value.isoformat() if value else None


def member_loyalty_export(*, member: Member) -> dict[str, Any]:
    account = PointsAccount.objects.filter(member=member).select_related("tier").first()
    lots = PointsLot.objects.filter(account_id=member.pk).order_by("earned_at", "id")
    entries = LedgerEntry.objects.filter(account_id=member.pk).order_by("created_at", "id")
    coupons = Coupon.objects.filter(brand_id=member.brand_id, member=member).select_related("reward")
    referrals = Referral.objects.filter(brand_id=member.brand_id, referrer=member).order_by("created_at")
    referred = Referral.objects.filter(brand_id=member.brand_id, friend=member).first()
    return {
        "balance": account.balance if account else 0,
        "pending": account.pending if account else 0,
        "lifetime_earned": account.lifetime_earned if account else 0,
        "lifetime_redeemed": account.lifetime_redeemed if account else 0,
        "tier": account.tier.name if account and account.tier else None,
        "lots": [
            {
                "points": lot.points,
                "remaining": lot.remaining,
                "state": lot.state,
                "earned_at": _time(lot.earned_at),
                "expires_at": _time(lot.expires_at),
            }
            for lot in lots
        ],
        "ledger": [
            {
                "kind": entry.kind,
                "points": entry.points,
                "balance_after": entry.balance_after,
                "description": entry.description,
                "created_at": _time(entry.created_at),
            }
            for entry in entries.iterator(chunk_size=1000)
        ],
        "coupons": [
            {
                "code": coupon.code,
                "reward": coupon.reward.name,
                "cost_points": coupon.cost_points,
                "status": coupon.status,
                "issued_at": _time(coupon.issued_at),
                "expires_at": _time(coupon.expires_at),
                "used_at": _time(coupon.used_at),
                "used_at_store": coupon.used_at_store,
            }
            for coupon in coupons.order_by("issued_at")
        ],
        "redemptions": [
            {"reward": coupon.reward.name, "points": coupon.cost_points, "at": _time(coupon.issued_at)}
            for coupon in coupons.filter(entry__isnull=False).order_by("issued_at")
        ],
        "referrals_made": [
            {"status": referral.status, "created_at": _time(referral.created_at)} for referral in referrals
        ],
        "referred_by_a_friend": referred is not None,
    }


def member_loyalty_erase(*, member: Member) -> None:
    Coupon.objects.filter(brand_id=member.brand_id, member=member, status=Coupon.Status.ISSUED).update(
        status=Coupon.Status.VOID
    )
    LedgerEntry.objects.filter(
        account_id=member.pk, kind__in=[LedgerEntry.Kind.ADJUST, LedgerEntry.Kind.TRANSFER]
    ).update(description="Adjusted")
    Referral.objects.filter(brand_id=member.brand_id, referrer=member).update(suspicions=[])
    Referral.objects.filter(brand_id=member.brand_id, friend=member).update(suspicions=[])
