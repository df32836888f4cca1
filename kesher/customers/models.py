"""Imports and their progress, rows already imported, probable duplicate pairs, and merges (undoable)."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ImportKind(models.TextChoices):
    MEMBERS = "members", _("Members")
    PURCHASES = "purchases", _("Purchases")
    BALANCES = "balances", _("Opening points balances")


class ImportJob(models.Model):
    """One file being imported: its column mapping and how far it got (resumable from `last_row`)."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=ImportKind.choices)
    file_name = models.CharField(max_length=255)
    # Where the file is kept (default storage, or a path given to the CLI), and its content's SHA-256, so a
    # resumed job reads the same file it started with.
    path = models.CharField(max_length=500)
    digest = models.CharField(max_length=64)
    mapping = models.JSONField(default=dict, blank=True, help_text=_("Field → column of the file"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UPLOADED)
    total_rows = models.PositiveIntegerField(default=0)
    last_row = models.IntegerField(default=0, help_text=_("Rows of the file committed so far"))
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["brand", "-created_at"], name="import_job_newest")]

    def __str__(self) -> str:
        return f"{self.kind} {self.file_name}"


class ImportedRecord(models.Model):
    """A row of an earlier import (a balance, by its external id), so importing it again changes nothing."""

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=ImportKind.choices)
    external_id = models.CharField(max_length=100)
    fingerprint = models.CharField(max_length=64)
    member_id = models.UUIDField(null=True, blank=True)
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "kind", "external_id"], name="imported_record_once")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.external_id}"


class DuplicatePair(models.Model):
    """Two members of a brand that are probably one person; `member_a` has the smaller id."""

    class Status(models.TextChoices):
        OPEN = "open", _("To review")
        MERGED = "merged", _("Merged")
        DISMISSED = "dismissed", _("Not a duplicate")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    member_a = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    member_b = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    probability = models.FloatField()
    reasons = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    found_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "member_a", "member_b"], name="duplicate_pair_once"),
            models.CheckConstraint(
                condition=Q(member_a__lt=models.F("member_b")), name="duplicate_pair_ordered"
            ),
        ]
        indexes = [models.Index(fields=["brand", "status", "-probability"], name="duplicate_queue")]

    def __str__(self) -> str:
        return f"{self.member_a_id} ~ {self.member_b_id}: {self.probability:.3f}"


class DedupeModel(models.Model):
    """A brand's trained Splink model (its settings with the m and u probabilities), for new members."""

    brand = models.OneToOneField("brands.Brand", on_delete=models.CASCADE, primary_key=True, related_name="+")
    settings = models.JSONField()
    trained_at = models.DateTimeField()
    members = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"dedupe model of {self.brand_id}"


class MemberMerge(models.Model):
    """A duplicate (`source`) merged into `target`: what every part moved, so the merge can be undone."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    source = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    target = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    moves = models.JSONField(default=list, help_text=_("Each part's record of what it moved"))
    actor = models.CharField(max_length=100)
    merged_at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # A member is merged away at most once at a time: the second of two racing merges is refused.
            models.UniqueConstraint(
                fields=["source"], condition=Q(undone_at__isnull=True), name="member_merged_once"
            ),
        ]
        indexes = [models.Index(fields=["brand", "-merged_at"], name="member_merge_newest")]

    def __str__(self) -> str:
        return f"{self.source_id} → {self.target_id}"
