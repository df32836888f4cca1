"""The coupon a message carries, issued once per member and message through loyalty's surprise grant."""

from __future__ import annotations

import uuid

from django.db import IntegrityError, transaction

from kesher.campaigns import rendering
from kesher.campaigns.models import (
    Campaign,
    MessageCoupon,
)
from kesher.core.audit import SYSTEM
from kesher.loyalty.models import Coupon
from kesher.loyalty.services import reward_surprise_grant
from kesher.members.models import Member


def message_coupon_issue(
    *, campaign: Campaign, member_id: uuid.UUID, journey_run_id: uuid.UUID | None = None
) -> rendering.CouponValue | None:
    """The coupon for this member's message of the campaign (for a journey's send step: of the step's
    campaign, in this run), issued once through loyalty's free surprise grant: a second call (a retry, a
    resumed queuing, a concurrent worker) gets the first one back. None when the reward ran out.

    Call it inside the transaction that writes the message, so a message that is not written leaves no
    coupon behind. Campaign queuing and journey send steps both come here."""
    reward = campaign.coupon_reward
    assert reward is not None
    mine = MessageCoupon.objects.filter(campaign=campaign, member_id=member_id, journey_run_id=journey_run_id)
    found = mine.select_related("coupon").first()
    if found is not None:
        return rendering.CouponValue(found.coupon.code, found.coupon.expires_at)
    wallet = Coupon.objects.filter(member_id=member_id, reward=reward)
    try:
        with transaction.atomic():
            before = set(wallet.values_list("pk", flat=True))
            granted = reward_surprise_grant(
                brand=campaign.brand,
                members=[Member(pk=member_id, brand_id=campaign.brand_id)],
                reward=reward,
                reason=f"{'journey' if campaign.journey_id else 'campaign'} {campaign.name}"[:200],
                budget=reward.cost_points,
                actor=SYSTEM,
            )
            if not granted:
                raise _OutOfStock  # and leave nothing behind (not even the grant's audit row)
            # Ours is the new coupon that no message holds: another sender's coupon for this member and
            # reward is committed together with its MessageCoupon, so it is never taken for ours.
            coupon = (
                wallet.exclude(pk__in=before)
                .exclude(pk__in=MessageCoupon.objects.filter(member_id=member_id).values("coupon_id"))
                .order_by("-issued_at", "pk")
                .first()
            )
            assert coupon is not None
            MessageCoupon.objects.create(
                brand_id=campaign.brand_id,
                campaign=campaign,
                member_id=member_id,
                journey_run_id=journey_run_id,
                coupon=coupon,
            )
    except _OutOfStock:
        return None
    except IntegrityError:  # another run issued it first: use theirs (ours was rolled back)
        found = mine.select_related("coupon").get()
        coupon = found.coupon
    return rendering.CouponValue(coupon.code, coupon.expires_at)


class _OutOfStock(Exception):
    """The reward ran out: rolls back the empty grant."""
