"""The loyalty part's consumers of the activity stream, and the activity types it emits."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kesher.activity.registry import ANY, activity_type, consumer
from kesher.core.limits import MAX_POINTS_HELD
from kesher.loyalty.services.earning import points_earn_batch, points_earn_for_activity
from kesher.loyalty.services.referrals import (
    referral_on_purchase,
    referral_on_purchase_batch,
    referral_on_signup,
)
from kesher.loyalty.services.reversals import points_reverse_for_return


@activity_type("points_expiring", description="Some of the member's points expire soon (for reminders)")
class PointsExpiring(BaseModel):
    model_config = ConfigDict(extra="forbid")
    points: Annotated[int, Field(gt=0, le=MAX_POINTS_HELD)]
    expires_on: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]


consumer("return", name="loyalty.reverse", immediate=True)(points_reverse_for_return)
consumer("signup", name="loyalty.referral_signup", immediate=True)(referral_on_signup)
consumer("purchase", name="loyalty.referral_purchase", immediate=True, batch=referral_on_purchase_batch)(
    referral_on_purchase
)
consumer(ANY, name="loyalty.earn", immediate=True, batch=points_earn_batch)(points_earn_for_activity)
