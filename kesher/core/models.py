"""Rows every domain shares: cached answers to idempotent calls, and the audit log of staff actions."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class IdempotencyRecord(models.Model):
    """The first answer to a value-changing call, replayed for any retry with the same key."""

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    # Text, not JSON: PostgreSQL's jsonb reorders keys, and a replay must be the first answer's bytes.
    response_body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["brand", "key"], name="idempotency_unique_brand_key")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self) -> str:
        return f"{self.key} → {self.status_code}"


class AuditEntry(models.Model):
    """Who changed what: every staff or integration action on points, consent or content."""

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="audit_entries")
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_api_key = models.ForeignKey(
        "brands.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64)
    target_id = models.CharField(max_length=64)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["brand", "target_type", "target_id"], name="audit_target")]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type}:{self.target_id}"
