"""An activity is written once per (brand, source, key) and never changed by what reads it."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q


class Activity(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No single-column indexes on brand and member: the composite indexes below start with them, and
    # every index is written again for each activity.
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+", db_index=False)
    member = models.ForeignKey(
        "members.Member", on_delete=models.CASCADE, related_name="activities", db_index=False
    )
    type = models.CharField(max_length=40)
    source = models.CharField(max_length=50, default="api")
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    # A fingerprint of the request that brought the idempotency key, so reusing the key for another
    # request is refused instead of answered with this activity.
    request_hash = models.CharField(max_length=64, null=True, blank=True)
    external_id = models.CharField(max_length=100, null=True, blank=True)
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)
    attributes = models.JSONField(default=dict, blank=True)
    # What the immediate consumers (the points ledger) did, so a replay answers the same.
    points_awarded = models.IntegerField(default=0)
    balance_after = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "source", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="activity_unique_idempotency_key",
            ),
            models.UniqueConstraint(
                fields=["brand", "source", "external_id"],
                condition=Q(external_id__isnull=False),
                name="activity_unique_external_id",
            ),
        ]
        indexes = [
            models.Index(fields=["member", "type", "-occurred_at"], name="activity_member_type"),
            models.Index(fields=["brand", "type", "-occurred_at"], name="activity_brand_type"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class OutboxEntry(models.Model):
    """Deferred consumers owed to an activity, written in the activity's own transaction.

    With a broker, activities are not published one message each (that cost more CPU than recording
    the activity): a relay task hands the outbox to the broker in batches shortly after, and because the
    entry commits with the activity, work is never lost when the broker is briefly unreachable. The
    activity is referred to by id only (no foreign key to check on every insert); a missing one is
    skipped by the dispatcher.
    """

    id = models.BigAutoField(primary_key=True)
    activity_id = models.UUIDField()
    consumers = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.activity_id}: {', '.join(self.consumers)}"


class ConsumerRun(models.Model):
    """Marks that a deferred consumer handled an activity, so running its task twice does nothing new."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="+")
    consumer = models.CharField(max_length=100)
    ran_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["activity", "consumer"], name="consumer_run_unique")]

    def __str__(self) -> str:
        return f"{self.consumer} on {self.activity_id}"
