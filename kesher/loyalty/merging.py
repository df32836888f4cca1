"""Merging duplicate members: the points account's lots, ledger and tier history, coupons and referrals."""

from __future__ import annotations

from kesher.loyalty.models import Coupon, LedgerEntry, PointsAccount, PointsLot, Referral, TierChange
from kesher.loyalty.services._ledger import _lock_accounts
from kesher.members.hooks import on_members_merge
from kesher.members.merging import MergeRecord, Step
from kesher.members.models import Member

_COUNTERS = ("balance", "pending", "lifetime_earned", "lifetime_redeemed")


def loyalty_members_merge(*, source: Member, target: Member) -> list[Step]:
    """The duplicate's lots (spendable and pending, with their expiry dates), ledger lines and tier history
    move to the target's account and its counters are added to the target's, so the balance invariants
    hold on both; the higher tier of the two stays. Coupons (redemptions) and referrals made move too."""
    record = MergeRecord()
    accounts = _lock_accounts([source.pk, target.pk])  # in key order, like every ledger write
    mine, theirs = accounts.get(source.pk), accounts.get(target.pk)
    if mine is not None and theirs is not None:
        for model in (PointsLot, LedgerEntry, TierChange):
            record.move(
                model.objects.filter(account_id=source.pk), "account_id", old=source.pk, new=target.pk
            )
        record.add(PointsAccount, target.pk, **{name: getattr(mine, name) for name in _COUNTERS})
        record.change(mine, **dict.fromkeys(_COUNTERS, 0))
        if mine.tier is not None and (theirs.tier is None or mine.tier.threshold > theirs.tier.threshold):
            record.change(theirs, tier=mine.tier, tier_since=mine.tier_since)
    record.move(Coupon.objects.filter(member=source), "member_id", old=source.pk, new=target.pk)
    # A referral of the target by the duplicate would become a self-referral: it stays where it is.
    record.move(
        Referral.objects.filter(referrer=source).exclude(friend=target),
        "referrer_id",
        old=source.pk,
        new=target.pk,
    )
    if not Referral.objects.filter(friend=target).exists():
        record.move(
            Referral.objects.filter(friend=source).exclude(referrer=target),
            "friend_id",
            old=source.pk,
            new=target.pk,
        )
    return record.steps


on_members_merge(loyalty_members_merge)  # imported by the part's AppConfig.ready()
