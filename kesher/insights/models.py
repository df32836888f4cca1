"""What the nightly recomputation keeps for a brand: the fitted models and the RFM cut points (issue 17)."""

from __future__ import annotations

from django.db import models


class InsightsFit(models.Model):
    """One a brand, replaced by each `insights_refresh`: the member pages and the API read it."""

    brand = models.OneToOneField("brands.Brand", on_delete=models.CASCADE, related_name="+", primary_key=True)
    computed_at = models.DateTimeField()
    members = models.PositiveIntegerField(default=0)
    buyers = models.PositiveIntegerField(default=0)
    # BG/NBD and Gamma-Gamma parameters (days); null while the brand has too few repeat buyers to fit.
    bgnbd = models.JSONField(null=True, blank=True)
    gamma_gamma = models.JSONField(null=True, blank=True)
    # Upper bounds of quintiles 1-4 among buyers: recency in days (lower is better), purchases, spend.
    rfm_cuts = models.JSONField(default=dict)
    # The points liability when it was computed: {"points", "value", "currency"}.
    liability = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"insights of {self.brand_id} at {self.computed_at:%Y-%m-%d %H:%M}"


# --- what the nightly recomputation writes with INSERT … SELECT (kesher/insights/rollups.py) ------------


class MemberSummary(models.Model):
    """One row a member: their purchases, activity counts by kind, RFM, funnel stage, tracks, advocacy and
    churn risk as of `computed_at`. The dashboard filters by tier and segment through it, the advocates and
    churn lists read it, the personas cluster it and the campaigns' RFM segments select from it."""

    member = models.OneToOneField(
        "members.Member", on_delete=models.CASCADE, related_name="+", primary_key=True, db_constraint=False
    )
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    computed_at = models.DateTimeField()
    status = models.CharField(max_length=10)
    joined_month = models.DateField()
    tier_id = models.UUIDField(null=True, blank=True)
    purchases = models.IntegerField(default=0)
    purchase_days = models.IntegerField(default=0)
    spend = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    first_purchase = models.DateTimeField(null=True, blank=True)
    last_purchase = models.DateTimeField(null=True, blank=True)
    since_last_days = models.FloatField(null=True, blank=True)
    mean_gap_days = models.FloatField(null=True, blank=True, help_text="The member's own rhythm")
    recency = models.SmallIntegerField(default=0)
    frequency = models.SmallIntegerField(default=0)
    monetary = models.SmallIntegerField(default=0)
    rfm_segment = models.CharField(max_length=20)
    funnel_stage = models.CharField(max_length=15)
    access = models.SmallIntegerField(default=0)
    engage = models.SmallIntegerField(default=0)
    customize = models.SmallIntegerField(default=0)
    connect = models.SmallIntegerField(default=0)
    collaborate = models.SmallIntegerField(default=0)
    referrals = models.IntegerField(default=0)
    accepted_answers = models.IntegerField(default=0)
    helpful_reviews = models.IntegerField(default=0)
    shares = models.IntegerField(default=0)
    advocacy_score = models.IntegerField(default=0)
    churn_risk = models.FloatField(null=True, blank=True)
    persona = models.SmallIntegerField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["brand", "rfm_segment"], name="insights_summary_segment"),
            models.Index(fields=["brand", "-advocacy_score"], name="insights_summary_advocacy"),
            models.Index(fields=["brand", "-churn_risk"], name="insights_summary_churn"),
        ]

    def __str__(self) -> str:
        return f"summary of {self.member_id}"


class DailySales(models.Model):
    """Purchases a day, by store and by the buyers' tier, RFM segment and status (member or prospect)."""

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    day = models.DateField()
    store = models.CharField(max_length=200, blank=True)
    tier_id = models.UUIDField(null=True, blank=True)
    segment = models.CharField(max_length=20)
    status = models.CharField(max_length=10)
    purchases = models.IntegerField(default=0)
    buyers = models.IntegerField(default=0)
    revenue = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    attributed_purchases = models.IntegerField(default=0)
    attributed_revenue = models.DecimalField(max_digits=18, decimal_places=2, default=0)

    class Meta:
        indexes = [models.Index(fields=["brand", "day"], name="insights_sales_day")]

    def __str__(self) -> str:
        return f"sales {self.day}"


class DailyProgram(models.Model):
    """The program's day (points, rewards, sign-ups, clicks, survey answers) by the members' tier and
    segment."""

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    day = models.DateField()
    tier_id = models.UUIDField(null=True, blank=True)
    segment = models.CharField(max_length=20)
    new_members = models.IntegerField(default=0)
    points_earned = models.BigIntegerField(default=0)
    points_redeemed = models.BigIntegerField(default=0)
    points_expired = models.BigIntegerField(default=0)
    redemptions = models.IntegerField(default=0)
    reward_cost = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    clicks = models.IntegerField(default=0)
    promoters = models.IntegerField(default=0)
    passives = models.IntegerField(default=0)
    detractors = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["brand", "day"], name="insights_program_day")]

    def __str__(self) -> str:
        return f"program {self.day}"


class MemberMonth(models.Model):
    """A member's month by store (purchases) and '' (everything else): distinct counts over any range of
    months (active members, repeat buyers) and the cohorts' retention read it."""

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    member_id = models.UUIDField()
    month = models.DateField()
    store = models.CharField(max_length=200, blank=True)
    cohort = models.DateField()
    tier_id = models.UUIDField(null=True, blank=True)
    segment = models.CharField(max_length=20)
    status = models.CharField(max_length=10)
    activities = models.IntegerField(default=0)
    purchases = models.IntegerField(default=0)
    spend = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    class Meta:
        indexes = [models.Index(fields=["brand", "month"], name="insights_month")]

    def __str__(self) -> str:
        return f"{self.member_id} {self.month}"


class FunnelDay(models.Model):
    """How many members stood at each funnel stage on a day (one set a recomputation): stages are states,
    so the series shows members moving in and out of each."""

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    day = models.DateField()
    stage = models.CharField(max_length=15)
    tier_id = models.UUIDField(null=True, blank=True)
    segment = models.CharField(max_length=20)
    members = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["brand", "day"], name="insights_funnel_day")]

    def __str__(self) -> str:
        return f"{self.stage} {self.day}"


class Persona(models.Model):
    """A cluster of members by behaviour (KMeans on scaled features), with a name a marketer may edit."""

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    number = models.SmallIntegerField()
    name = models.CharField(max_length=100, blank=True)
    members = models.IntegerField(default=0)
    centre = models.JSONField(default=dict)  # feature → mean of the raw feature in the cluster
    traits = models.JSONField(default=list)  # [{"feature", "z"}]: the features most above or below average
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["brand", "number"], name="insights_persona_unique")]
        ordering = ["number"]

    def __str__(self) -> str:
        return self.name or f"persona {self.number}"


class InsightsCache(models.Model):
    """Dashboard numbers that cost a scan of the member months (distinct members over a range, cohorts),
    kept per filter set until the next recomputation; the recomputation fills in the default view's."""

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    key = models.CharField(max_length=64)
    computed_at = models.DateTimeField()
    data = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["brand", "key"], name="insights_cache_unique")]

    def __str__(self) -> str:
        return self.key
