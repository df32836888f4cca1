"""The points ledger. Invariants: balance == sum(remaining of spendable lots), balance >= 0."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class PointsAccount(models.Model):
    member = models.OneToOneField(
        "members.Member", on_delete=models.CASCADE, primary_key=True, related_name="points"
    )
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    balance = models.IntegerField(default=0)
    pending = models.IntegerField(default=0)
    lifetime_earned = models.IntegerField(default=0)
    lifetime_redeemed = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="account_balance_not_negative"),
            models.CheckConstraint(condition=Q(pending__gte=0), name="account_pending_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.balance}"


class EarningRule(models.Model):
    class Effect(models.TextChoices):
        FIXED = "fixed", _("Fixed points")
        PER_UNIT = "per_unit", _("Points per currency unit")

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
    daily_limit = models.PositiveIntegerField(null=True, blank=True, help_text=_("Awards per member per day"))
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

    account = models.ForeignKey(PointsAccount, on_delete=models.CASCADE, related_name="lots")
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
        REDEEM = "redeem", _("Redeemed")
        EXPIRE = "expire", _("Expired")
        REVERSE = "reverse", _("Reversed")
        ADJUST = "adjust", _("Adjusted")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(PointsAccount, on_delete=models.CASCADE, related_name="entries")
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    points = models.IntegerField(help_text=_("Signed: positive adds, negative takes"))
    balance_after = models.IntegerField()
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

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="coupons")
    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, related_name="coupons")
    code = models.CharField(max_length=20)
    cost_points = models.PositiveIntegerField()
    entry = models.OneToOneField(
        LedgerEntry, null=True, blank=True, on_delete=models.SET_NULL, related_name="coupon"
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
