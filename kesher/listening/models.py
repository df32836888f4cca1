"""Listening data: the brand's connectors (where mentions come from, each with its cursor), the mentions
themselves with their analysis, influence and routing, and the handles known to belong to a member."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ConnectorKind(models.TextChoices):
    WEBHOOK = "webhook", _("Signed webhook")
    FEED = "feed", _("RSS or Atom feed")
    CSV = "csv", _("CSV upload")
    COMMUNITY = "community", _("The brand's community")
    REVIEWS = "reviews", _("The brand's reviews")
    SURVEYS = "surveys", _("Survey answers")


# Connectors that read the brand's own parts of Kesher: one of each per brand.
INTERNAL_KINDS = (ConnectorKind.COMMUNITY, ConnectorKind.REVIEWS, ConnectorKind.SURVEYS)


class Connector(models.Model):
    """One way mentions come in. `cursor` is where the last run stopped (a feed's ETag and Last-Modified,
    the time of the last post read, the last file or message taken); a run starts from it and is safe to
    repeat: what it meets again is dropped by the mentions' unique key. A webhook's signing secret is kept
    encrypted (core/crypto.py)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=ConnectorKind.choices)
    name = models.CharField(max_length=120)
    source = models.CharField(max_length=40)  # what its mentions are marked with ("rss", "community", …)
    url = models.URLField(max_length=2000, blank=True)  # a feed's address
    secret = models.TextField(blank=True)  # text_encrypt("whsec_…") for a webhook
    cursor = models.JSONField(default=dict, blank=True)
    active = models.BooleanField(default=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_added = models.PositiveIntegerField(default=0)  # new mentions of the last run
    last_error = models.CharField(max_length=300, blank=True)
    total_added = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=[choice.value for choice in ConnectorKind]),
                name="listening_connector_kind_valid",
            ),
            models.UniqueConstraint(
                fields=["brand", "kind"],
                condition=Q(kind__in=["community", "reviews", "surveys"]),
                name="listening_connector_one_internal",
            ),
        ]
        indexes = [models.Index(fields=["kind", "active"], name="listening_connector_due")]

    def __str__(self) -> str:
        return self.name


class Sentiment(models.TextChoices):
    POSITIVE = "positive", _("Positive")
    NEUTRAL = "neutral", _("Neutral")
    NEGATIVE = "negative", _("Negative")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class Mention(models.Model):
    """Something said about the brand, once per `(brand, source, external_id)`: a replay of the same
    mention finds this row and changes nothing. `parent` is the mention it replies to when that one is known
    (`parent_external_id` keeps the reference until it arrives). `topics_text` holds the topics as
    " delivery price " so that a topic filter is a LIKE on every database."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    connector = models.ForeignKey(
        Connector, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=40)
    external_id = models.CharField(max_length=200)
    url = models.URLField(max_length=2000, blank=True)
    author_handle = models.CharField(max_length=200, blank=True)
    author_name = models.CharField(max_length=200, blank=True)
    author_followers = models.PositiveBigIntegerField(null=True, blank=True)
    shares = models.PositiveBigIntegerField(default=0)
    engagement = models.PositiveBigIntegerField(default=0)  # likes, comments and reactions
    text = models.TextField()
    language = models.CharField(max_length=8, blank=True)
    posted_at = models.DateTimeField()
    received_at = models.DateTimeField()
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    parent_external_id = models.CharField(max_length=200, blank=True)
    sentiment = models.CharField(max_length=8, choices=Sentiment.choices)
    score = models.FloatField(default=0.0)
    topics = models.JSONField(default=list, blank=True)
    topics_text = models.CharField(max_length=500, blank=True)
    urgent = models.JSONField(default=list, blank=True)  # the urgent signals found (complaint, legal, safety)
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.LOW)
    influence = models.FloatField(default=0.0)
    member = models.ForeignKey(
        "members.Member", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    case_id = models.UUIDField(null=True, blank=True)  # the service inbox's case opened for it

    class Meta:
        ordering = ["-posted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "source", "external_id"], name="listening_mention_unique_external"
            ),
            models.CheckConstraint(
                condition=Q(sentiment__in=["positive", "neutral", "negative"]),
                name="listening_mention_sentiment_valid",
            ),
            models.CheckConstraint(
                condition=Q(priority__in=["low", "normal", "high", "urgent"]),
                name="listening_mention_priority_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["brand", "-posted_at", "-id"], name="listening_mention_stream"),
            models.Index(fields=["brand", "sentiment", "-posted_at"], name="listening_mention_sentiment"),
            models.Index(fields=["brand", "source", "-posted_at"], name="listening_mention_source"),
            models.Index(fields=["brand", "source", "author_handle"], name="listening_mention_author"),
            models.Index(fields=["member"], name="listening_mention_member"),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id}"


class AuthorLink(models.Model):
    """A handle on a source known to be a member's: learned from a mention that carried the member's email
    or phone (or from the brand's own parts), so that their later mentions are linked without them."""

    id = models.BigAutoField(primary_key=True)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=40)
    handle = models.CharField(max_length=200)
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "source", "handle"], name="listening_author_link_unique")
        ]
        indexes = [models.Index(fields=["member"], name="listening_author_link_member")]

    def __str__(self) -> str:
        return f"{self.source}:{self.handle}"


class CsvUpload(models.Model):
    """An uploaded export waiting for its column mapping, then the import's outcome."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    file_name = models.CharField(max_length=200)
    path = models.CharField(max_length=500)  # under MEDIA_ROOT
    sha256 = models.CharField(max_length=64)
    columns = models.JSONField(default=list)
    rows = models.PositiveIntegerField(default=0)
    mapping = models.JSONField(default=dict, blank=True)
    added = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    imported_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.file_name


from kesher.listening.topics.models import Topic  # noqa: E402, F401  (kesher/listening/topics)
