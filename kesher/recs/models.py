"""Stored recommendation lists, the brand's rules for them, and the record of each training run.

A request reads these rows and never trains: `kesher recs train` (and its scheduled task) writes them.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    PRODUCTS = "products", _("Products")
    ARTICLES = "articles", _("Articles")
    THREADS = "threads", _("Community threads")
    REWARDS = "rewards", _("Rewards")


class Reason(models.TextChoices):
    """Why an item is on a list: a code for integrations, a translated text for people."""

    SIMILAR_MEMBERS = "similar_members", _("Members with tastes like yours chose it")
    ALSO_BOUGHT = "also_bought", _("Bought together with what you bought")
    POPULAR_SEGMENT = "popular_segment", _("Popular with members like you")
    POPULAR = "popular", _("Popular in the club")
    INTERESTS = "interests", _("Matches your interests")
    READING = "reading", _("Like what you have read")
    CAMPAIGN = "campaign", _("Featured in a campaign")
    AFFORDABLE = "affordable", _("You have the points for it")
    AFFORDABLE_SOON = "affordable_soon", _("You will have the points for it soon")


class MemberList(models.Model):
    """One member's precomputed list of one kind, best first: items `[{id, score, reason, title}]`."""

    id = models.BigAutoField(primary_key=True)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+", db_index=False)
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    items = models.JSONField(default=list)
    # What the member already has (bought, read, asked): never listed unless the brand allows repeats.
    seen = models.JSONField(default=list, blank=True)
    # Figures read at serving time, e.g. the member's points earned per month for "afford soon".
    facts = models.JSONField(default=dict, blank=True)
    computed_at = models.DateTimeField()
    run = models.ForeignKey("TrainingRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "kind"], name="recs_member_list_unique"),
        ]
        indexes = [models.Index(fields=["brand", "kind"], name="recs_member_list_brand")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.member_id}"


class PopularList(models.Model):
    """The cold-start list of one segment: `all`, `interest:<name>` or `tier:<name>`."""

    id = models.BigAutoField(primary_key=True)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    segment = models.CharField(max_length=120)
    items = models.JSONField(default=list)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "kind", "segment"], name="recs_popular_list_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} popular in {self.segment}"


class SimilarItems(models.Model):
    """Products bought together with one product ("people who bought this also bought"), best first."""

    id = models.BigAutoField(primary_key=True)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+", db_index=False)
    sku = models.CharField(max_length=200)
    items = models.JSONField(default=list)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["brand", "sku"], name="recs_similar_unique")]

    def __str__(self) -> str:
        return f"also bought with {self.sku}"


class RecsSettings(models.Model):
    """The brand's rules: what is out of stock, whether repeat purchases may be suggested."""

    brand = models.OneToOneField(
        "brands.Brand", on_delete=models.CASCADE, primary_key=True, related_name="recs_settings"
    )
    unavailable_skus = models.JSONField(default=list, blank=True, help_text=_("Never recommended"))
    repeat_purchases = models.BooleanField(
        default=False, help_text=_("Recommend again what a member already bought")
    )
    boost = models.FloatField(default=1.5, help_text=_("How much a campaign's products are lifted"))
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"recommendation rules of {self.brand_id}"


class ProductBoost(models.Model):
    """A product a campaign features: lifted on every list while the boost stands."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+", db_index=False)
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+")
    sku = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "campaign", "sku"], name="recs_boost_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} boosted by {self.campaign_id}"


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class TrainingRun(models.Model):
    """One training of a brand's models: its size, its time, and (once evaluated) its figures."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+", db_index=False)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(null=True, blank=True)
    interactions = models.PositiveBigIntegerField(default=0)
    members = models.PositiveIntegerField(default=0)
    products = models.PositiveIntegerField(default=0)
    lists = models.PositiveIntegerField(default=0)
    # The product model's item factors and sku order, for folding in a new member without retraining.
    model = models.BinaryField(null=True, blank=True, editable=False)
    error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["brand", "-started_at"], name="recs_run_brand_started")]

    def __str__(self) -> str:
        return f"training {self.started_at:%Y-%m-%d %H:%M} {self.status}"


class Evaluation(models.Model):
    """An offline evaluation: a time-based split, the model against the popularity baseline, at 10."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+", db_index=False)
    created_at = models.DateTimeField()
    split_at = models.DateTimeField()
    members = models.PositiveIntegerField(default=0)
    figures = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["brand", "-created_at"], name="recs_eval_brand_created")]

    def __str__(self) -> str:
        return f"evaluation {self.created_at:%Y-%m-%d %H:%M}"
