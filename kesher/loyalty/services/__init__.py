"""Every write to the points ledger, rules, tiers, rewards, coupons and referrals: one module per thing done.

This package re-exports what the loyalty API, pages, tasks and admin and the other parts use (and
`lot_expiry` and `tier_qualifying_value`, which the ledger's tests check as `services.…`); the rest is
reached through its module (`kesher.loyalty.services.earning`, ...). Helpers shared between modules live
in the private ones (`_ledger`, `_rule_cache`, `_coupon_codes`), never as another module's `_name`.

Locking order, always: points accounts by primary key, then their lots, then rewards and coupons.
"""

from kesher.loyalty.services._rule_cache import rules_changed
from kesher.loyalty.services.adjustments import points_adjust
from kesher.loyalty.services.birthdays import birthdays_emit
from kesher.loyalty.services.checkins import store_check_in
from kesher.loyalty.services.coupons import coupon_redeem, coupon_void, coupons_expire_due
from kesher.loyalty.services.earning import EarningPreview, earning_rule_preview
from kesher.loyalty.services.expiry import lot_expiry, lots_expire_due, lots_release_due, points_expiry_warn
from kesher.loyalty.services.liability import points_liability
from kesher.loyalty.services.program import program_of, program_update
from kesher.loyalty.services.redemption import redemption_create
from kesher.loyalty.services.referrals import referral_decide, referral_pay
from kesher.loyalty.services.reversals import points_reverse_for_activity
from kesher.loyalty.services.rewards import reward_create, reward_update
from kesher.loyalty.services.rules import earning_rule_create, earning_rule_update
from kesher.loyalty.services.segments import (
    segment_audience_install,
    segment_matcher_install,
    segment_members,
)
from kesher.loyalty.services.surprises import reward_surprise_grant, surprise_grant
from kesher.loyalty.services.tiers import (
    tier_create,
    tier_progress,
    tier_qualifying_value,
    tier_update,
    tiers_preview,
    tiers_review,
)
from kesher.loyalty.services.transfers import points_transfer
from kesher.loyalty.services.verification import ledger_verify

__all__ = [
    "birthdays_emit",
    "coupon_redeem",
    "coupon_void",
    "coupons_expire_due",
    "EarningPreview",
    "earning_rule_create",
    "earning_rule_preview",
    "earning_rule_update",
    "ledger_verify",
    "lot_expiry",
    "lots_expire_due",
    "lots_release_due",
    "points_adjust",
    "points_expiry_warn",
    "points_liability",
    "points_reverse_for_activity",
    "points_transfer",
    "program_of",
    "program_update",
    "redemption_create",
    "referral_decide",
    "referral_pay",
    "reward_create",
    "reward_surprise_grant",
    "reward_update",
    "rules_changed",
    "segment_audience_install",
    "segment_matcher_install",
    "segment_members",
    "store_check_in",
    "surprise_grant",
    "tier_create",
    "tier_progress",
    "tier_qualifying_value",
    "tier_update",
    "tiers_preview",
    "tiers_review",
]
