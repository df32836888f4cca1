"""A member redeems points for a reward: check (lock, may they take it now), then do (spend, issue)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from kesher.core.errors import Conflict, InsufficientPoints, NotFound
from kesher.core.events import event_emit, event_type
from kesher.loyalty.models import Coupon, LedgerEntry, PointsAccount, Reward
from kesher.loyalty.services._coupon_codes import _new_coupon_code
from kesher.loyalty.services._ledger import _lock_account, _spend
from kesher.members.models import Member

REWARD_REDEEMED = event_type("reward.redeemed", "A member spent points on a reward and got its coupon")


def reward_open_to(*, reward: Reward, account: PointsAccount, now: datetime | None = None) -> str | None:
    """Why this member may not take this reward now, or None when they may."""
    now = now or timezone.now()
    if not reward.active:
        return "reward_inactive"
    if reward.available_from and now < reward.available_from:
        return "reward_not_yet_available"
    if reward.available_until and now >= reward.available_until:
        return "reward_no_longer_available"
    tier_ids = {tier.pk for tier in reward.tiers.all()}
    if tier_ids and account.tier_id not in tier_ids:
        return "tier_required"
    return None


def check_redemption(*, member: Member, reward: Reward) -> PointsAccount:
    """Lock the member's account and check they may take this reward now."""
    if reward.brand_id != member.brand_id:
        raise NotFound("No such reward", field="reward_id", code="reward_not_found")
    if member.status in ("blocked", "erased"):
        raise Conflict(f"The member is {member.status}", field="member_id", code="member_inactive")
    account = _lock_account(member.pk)
    refusal = reward_open_to(reward=reward, account=account)
    if refusal is not None:
        raise Conflict("This reward is not open to the member now", field="reward_id", code=refusal)
    if account.balance < reward.cost_points:
        raise InsufficientPoints(
            f"The reward costs {reward.cost_points} points and the balance is {account.balance}",
            field="reward_id",
        )
    if reward.per_member_limit is not None:
        taken = Coupon.objects.filter(member=member, reward=reward).exclude(status=Coupon.Status.VOID).count()
        if taken >= reward.per_member_limit:
            raise Conflict("The member reached this reward's limit", field="reward_id", code="limit_reached")
    return account


def do_redemption(*, account: PointsAccount, member: Member, reward: Reward) -> Coupon:
    if reward.stock is not None:
        taken = Reward.objects.filter(pk=reward.pk, stock__gte=1).update(stock=F("stock") - 1)
        if not taken:
            raise Conflict("This reward is out of stock", field="reward_id", code="out_of_stock")
    entry = _spend(
        account=account,
        points=reward.cost_points,
        kind=LedgerEntry.Kind.REDEEM,
        description=reward.name,
        lifetime_redeemed=True,
    )
    now = timezone.now()
    coupon = Coupon.objects.create(
        brand_id=member.brand_id,
        member=member,
        reward=reward,
        code=_new_coupon_code(member.brand_id),
        cost_points=reward.cost_points,
        entry=entry,
        issued_at=now,
        expires_at=now + timedelta(days=reward.coupon_valid_days),
    )
    event_emit(
        brand_id=member.brand_id,
        type=REWARD_REDEEMED,
        data={
            "member_id": str(member.pk),
            "reward_id": str(reward.pk),
            "reward": reward.name,
            "cost_points": reward.cost_points,
            "coupon_id": str(coupon.pk),
            "coupon_code": coupon.code,
            "expires_at": coupon.expires_at.isoformat(),
        },
    )
    return coupon


@transaction.atomic
def redemption_create(*, member: Member, reward: Reward) -> Coupon:
    account = check_redemption(member=member, reward=reward)
    return do_redemption(account=account, member=member, reward=reward)
