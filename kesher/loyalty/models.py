"""The points ledger. Invariants: balance == sum(remaining of spendable lots), balance >= 0."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class LoyaltyProgram(models.Model):
    """A brand's program settings: return window, expiry, transfers, debt, tiers' basis, point value."""

    class Expiry(models.TextChoices):
        NEVER = "never", _("Never")
        DAYS = "days", _("N days after earning")
        END_OF_MONTH = "end_of_month", _("End of the Nth month after earning")
        END_OF_YEAR = "end_of_year", _("End of the calendar year after N years")

    class TierBasis(models.TextChoices):
        POINTS = "points", _("Points earned")
        SPEND = "spend", _("Money spent")

    class TierPeriod(models.TextChoices):
        ROLLING_12 = "rolling_12", _("Rolling 12 months")
        CALENDAR_YEAR = "calendar_year", _("Calendar year")

    brand = models.OneToOneField(
        "brands.Brand", on_delete=models.CASCADE, primary_key=True, related_name="program"
    )
    pending_days = models.PositiveIntegerField(
        default=0, help_text=_("Purchase points wait this long (returns)")
    )
    expiry = models.CharField(max_length=15, choices=Expiry.choices, default=Expiry.NEVER)
    expiry_value = models.PositiveIntegerField(default=12, help_text=_("N for the expiry policy"))
    expiry_warning_days = models.PositiveIntegerField(default=30)
    allow_transfers = models.BooleanField(default=False)
    allow_debt = models.BooleanField(default=False, help_text=_("A return may take the balance below zero"))
    coupon_expiry_refund = models.BooleanField(
        default=False, help_text=_("Unused coupons give their points back")
    )
    point_value = models.DecimalField(
        max_digits=10, decimal_places=4, default=Decimal("0.10"), help_text=_("Money value of one point")
    )
    tier_basis = models.CharField(max_length=10, choices=TierBasis.choices, default=TierBasis.POINTS)
    tier_period = models.CharField(max_length=15, choices=TierPeriod.choices, default=TierPeriod.ROLLING_12)
    tier_grace_days = models.PositiveIntegerField(default=0)
    referral_review_threshold = models.PositiveIntegerField(
        default=5, help_text=_("More referrals than this from one member in a day wait for review")
    )
    hebrew_dates = models.BooleanField(
        default=False, help_text=_("Show the Hebrew date beside the Gregorian one on members' pages")
    )
    # A new value whenever an earning rule or tier of the brand changes: processes keep the rules and
    # tiers in memory under this stamp instead of reading them for every activity.
    rules_stamp = models.UUIDField(default=uuid.uuid4, editable=False)

    def __str__(self) -> str:
        return f"program of {self.brand_id}"


class Tier(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="tiers")
    name = models.CharField(max_length=100)
    texts = models.JSONField(default=dict, blank=True, help_text=_('Names per language: {"en": "Gold"}'))
    threshold = models.DecimalField(
        max_digits=14, decimal_places=2, help_text=_("Points or money to qualify")
    )
    multiplier = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("1.00"))
    perks = models.TextField(blank=True)

    class Meta:
        ordering = ["threshold"]
        constraints = [models.UniqueConstraint(fields=["brand", "name"], name="tier_unique_name")]

    def __str__(self) -> str:
        return self.name


class PointsAccount(models.Model):
    member = models.OneToOneField(
        "members.Member", on_delete=models.CASCADE, primary_key=True, related_name="points"
    )
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    # 64-bit: sums that grow with every operation (core/limits.py bounds what an account may hold).
    balance = models.BigIntegerField(default=0)
    pending = models.BigIntegerField(default=0)
    lifetime_earned = models.BigIntegerField(default=0)
    lifetime_redeemed = models.BigIntegerField(default=0)
    allow_debt = models.BooleanField(default=False)
    tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    tier_since = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(balance__gte=0) | Q(allow_debt=True), name="account_balance_not_negative"
            ),
            models.CheckConstraint(condition=Q(pending__gte=0), name="account_pending_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.balance}"


class EarningRule(models.Model):
    class Effect(models.TextChoices):
        FIXED = "fixed", _("Fixed points")
        PER_UNIT = "per_unit", _("Points per currency unit")
        MULTIPLIER = "multiplier", _("Multiplier on the points other rules gave")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="earning_rules")
    name = models.CharField(max_length=200)
    activity_type = models.CharField(max_length=40)
    effect = models.CharField(max_length=10, choices=Effect.choices)
    points = models.PositiveIntegerField(default=0, help_text=_("Fixed points, or points per unit"))
    per_amount = models.DecimalField(
        max_digits=10, decimal_places=2, default=1, help_text=_("Currency per unit")
    )
    min_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    stores = models.JSONField(default=list, blank=True, help_text=_("Only these stores; empty for all"))
    multiplier = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("1.00"))
    skus = models.JSONField(default=list, blank=True, help_text=_("Only purchases with one of these SKUs"))
    categories = models.JSONField(default=list, blank=True, help_text=_("Only purchases in these categories"))
    channels = models.JSONField(default=list, blank=True, help_text=_("store, online, app; empty for all"))
    days_of_week = models.JSONField(
        default=list, blank=True, help_text=_("0=Monday … 6=Sunday; empty for all")
    )
    hour_from = models.PositiveSmallIntegerField(null=True, blank=True)
    hour_to = models.PositiveSmallIntegerField(null=True, blank=True, help_text=_("Exclusive"))
    tiers = models.JSONField(default=list, blank=True, help_text=_("Tier names; empty for all"))
    first_purchase_only = models.BooleanField(default=False)
    birthday_month_only = models.BooleanField(default=False)
    daily_limit = models.PositiveIntegerField(null=True, blank=True, help_text=_("Awards per member per day"))
    weekly_limit = models.PositiveIntegerField(null=True, blank=True)
    monthly_limit = models.PositiveIntegerField(null=True, blank=True)
    budget_points = models.PositiveBigIntegerField(
        null=True, blank=True, help_text=_("Total the rule may give")
    )
    # A saved audience of the campaigns part; kept as an id so the ledger does not depend on campaigns.
    segment_id = models.UUIDField(null=True, blank=True, help_text=_("Only members of this segment"))
    spent_points = models.PositiveBigIntegerField(default=0)
    stackable = models.BooleanField(default=True, help_text=_("Off: the first matching rule is the only one"))
    priority = models.IntegerField(default=100)
    active = models.BooleanField(default=True)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["priority", "created_at"]
        indexes = [models.Index(fields=["brand", "activity_type", "active"], name="rule_lookup")]

    def __str__(self) -> str:
        return self.name


class PointsLot(models.Model):
    """One earning, spent down by redemptions soonest-expiring first."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        AVAILABLE = "available", _("Available")
        EXPIRED = "expired", _("Expired")
        REVERSED = "reversed", _("Reversed")

    # lot_spend_order (account, state, expires_at) serves lookups by account: no index of its own.
    account = models.ForeignKey(PointsAccount, on_delete=models.CASCADE, related_name="lots", db_index=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    activity = models.ForeignKey(
        "activity.Activity", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rule = models.ForeignKey(EarningRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    points = models.PositiveIntegerField()
    remaining = models.IntegerField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.AVAILABLE)
    earned_at = models.DateTimeField()
    available_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(remaining__gte=0) & Q(remaining__lte=F("points")),
                name="lot_remaining_within_points",
            ),
        ]
        indexes = [models.Index(fields=["account", "state", "expires_at"], name="lot_spend_order")]

    def __str__(self) -> str:
        return f"lot {self.pk}: {self.remaining}/{self.points}"


class LedgerEntry(models.Model):
    class Kind(models.TextChoices):
        EARN = "earn", _("Earned")
        RELEASE = "release", _("Became spendable")
        REDEEM = "redeem", _("Redeemed")
        EXPIRE = "expire", _("Expired")
        REVERSE = "reverse", _("Reversed")
        ADJUST = "adjust", _("Adjusted")
        TRANSFER = "transfer", _("Transferred")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # ledger_newest (account, created_at, id) serves lookups by account: no index of its own.
    account = models.ForeignKey(
        PointsAccount, on_delete=models.CASCADE, related_name="entries", db_index=False
    )
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # 64-bit: an expiry line takes every due lot of an account at once, and balance_after is a balance.
    points = models.BigIntegerField(help_text=_("Signed: positive adds, negative takes (pending included)"))
    pending = models.BooleanField(default=False, help_text=_("Earned into pending, not yet spendable"))
    balance_after = models.BigIntegerField()
    activity = models.ForeignKey(
        "activity.Activity", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rule = models.ForeignKey(EarningRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    description = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["account", "-created_at", "-id"], name="ledger_newest")]

    def __str__(self) -> str:
        return f"{self.kind} {self.points}"


class LotConsumption(models.Model):
    """Which lots a redemption (or expiry, or reversal) took its points from."""

    entry = models.ForeignKey(LedgerEntry, on_delete=models.CASCADE, related_name="consumptions")
    lot = models.ForeignKey(PointsLot, on_delete=models.CASCADE, related_name="consumptions")
    points = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.points} from lot {self.lot_id}"


class Reward(models.Model):
    class Kind(models.TextChoices):
        DISCOUNT_PERCENT = "discount_percent", _("Percent discount")
        DISCOUNT_FIXED = "discount_fixed", _("Fixed discount")
        FREE_ITEM = "free_item", _("Free item")
        GIFT = "gift", _("Physical gift")
        EXPERIENCE = "experience", _("Experience")
        DONATION = "donation", _("Donation")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="rewards")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    cost_points = models.PositiveIntegerField()
    value = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    stock = models.PositiveIntegerField(null=True, blank=True, help_text=_("Empty for unlimited"))
    per_member_limit = models.PositiveIntegerField(null=True, blank=True)
    coupon_valid_days = models.PositiveIntegerField(default=90)
    texts = models.JSONField(
        default=dict, blank=True, help_text=_('Texts per language: {"en": {"name": ..., "description": ...}}')
    )
    image = models.ImageField(upload_to="rewards/", null=True, blank=True)
    tiers = models.ManyToManyField(
        Tier, blank=True, related_name="+", help_text=_("Only these tiers; empty: all")
    )
    available_from = models.DateTimeField(null=True, blank=True)
    available_until = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["cost_points", "name"]

    def __str__(self) -> str:
        return self.name


class Coupon(models.Model):
    class Status(models.TextChoices):
        ISSUED = "issued", _("Ready to use")
        USED = "used", _("Used")
        EXPIRED = "expired", _("Expired")
        VOID = "void", _("Cancelled")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="coupons")
    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, related_name="coupons")
    code = models.CharField(max_length=20)
    cost_points = models.PositiveIntegerField()
    entry = models.OneToOneField(
        LedgerEntry, null=True, blank=True, on_delete=models.SET_NULL, related_name="coupon"
    )
    refund_entry = models.OneToOneField(
        LedgerEntry, null=True, blank=True, on_delete=models.SET_NULL, related_name="refunded_coupon"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ISSUED)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_at_store = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["brand", "code"], name="coupon_unique_code")]
        indexes = [models.Index(fields=["member", "status"], name="coupon_wallet")]

    def __str__(self) -> str:
        return self.code


class TierChange(models.Model):
    account = models.ForeignKey(PointsAccount, on_delete=models.CASCADE, related_name="tier_changes")
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    from_tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    to_tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=200)
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-changed_at"]

    def __str__(self) -> str:
        return f"{self.from_tier_id} → {self.to_tier_id}"


class Referral(models.Model):
    class Status(models.TextChoices):
        JOINED = "joined", _("Friend joined")
        REWARDED = "rewarded", _("Rewarded")
        REVIEW = "review", _("Waiting for review")
        REJECTED = "rejected", _("Rejected")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    referrer = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="referrals_made")
    friend = models.OneToOneField("members.Member", on_delete=models.CASCADE, related_name="referral")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.JOINED)
    suspicions = models.JSONField(default=list, blank=True)
    purchase = models.ForeignKey(
        "activity.Activity", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["referrer", "created_at"], name="referral_by_referrer")]

    def __str__(self) -> str:
        return f"{self.referrer_id} → {self.friend_id}: {self.status}"


class Store(models.Model):
    """A physical store; its QR code opens the portal's check-in for it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="stores")
    name = models.CharField(max_length=200)
    code = models.SlugField(max_length=40, help_text=_("Short code printed in the store's QR link"))
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["brand", "code"], name="store_unique_code")]

    def __str__(self) -> str:
        return self.name
