"""The service inbox: cases from every channel, their conversation and history, the brand's canned replies
and service settings. Response-time targets live beside it in kesher/service/sla/."""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    MENTION = "mention", _("Mention")
    SURVEY = "survey", _("Survey")
    COMMUNITY = "community", _("Community")
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    PORTAL = "portal", _("Portal")
    REVIEW = "review", _("Review")


class Priority(models.TextChoices):
    URGENT = "urgent", _("Urgent")
    HIGH = "high", _("High")
    NORMAL = "normal", _("Normal")
    LOW = "low", _("Low")


# The queue's order: most urgent first. Kept on the row (`priority_rank`) so the list is one index scan.
PRIORITY_RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}


class CaseStatus(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    WAITING = "waiting", _("Waiting on customer")
    SOLVED = "solved", _("Solved")


def case_token() -> str:
    """The short random token a case's emails carry in their subject, to thread the customer's answers."""
    return secrets.token_hex(5)


class ServiceSettings(models.Model):
    """A brand's inbox settings and its case-number counter. Absent means the defaults."""

    brand = models.OneToOneField("brands.Brand", on_delete=models.CASCADE, related_name="service_settings")
    # Mail to this address opens (or continues) a case: `service@club.example.co.il`.
    address = models.EmailField(max_length=254, null=True, blank=True, unique=True)
    csat_enabled = models.BooleanField(default=True)
    next_number = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return f"service settings of {self.brand_id}"


class Case(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+", db_index=False)
    number = models.PositiveIntegerField()  # per brand: "case 42"
    channel = models.CharField(max_length=12, choices=Channel.choices)
    # What the case came from in its channel (a mention id, a survey response, a Message-ID): opening twice
    # from the same source returns the first case.
    source_ref = models.CharField(max_length=255)
    subject = models.CharField(max_length=200)
    member = models.ForeignKey(
        "members.Member", null=True, blank=True, on_delete=models.SET_NULL, related_name="service_cases"
    )
    author_handle = models.CharField(max_length=200, blank=True, default="")
    author_name = models.CharField(max_length=200, blank=True, default="")
    # Where a reply goes when there is no member (an email's sender, an SMS's number).
    author_email = models.EmailField(max_length=254, blank=True, default="")
    author_phone = models.CharField(max_length=20, blank=True, default="")
    language = models.CharField(max_length=5, default="he")
    url = models.URLField(max_length=500, blank=True, default="")
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    priority_rank = models.PositiveSmallIntegerField(default=PRIORITY_RANK[Priority.NORMAL])
    status = models.CharField(max_length=8, choices=CaseStatus.choices, default=CaseStatus.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    token = models.CharField(max_length=16, unique=True, default=case_token, editable=False)
    opened_at = models.DateTimeField()
    first_reply_at = models.DateTimeField(null=True, blank=True)
    last_in_at = models.DateTimeField(null=True, blank=True)  # the customer's latest message
    last_out_at = models.DateTimeField(null=True, blank=True)  # the brand's latest reply
    solved_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()
    # Satisfaction asked after solving (one question, 1–5) through a token link.
    csat_asked_at = models.DateTimeField(null=True, blank=True)
    csat_score = models.PositiveSmallIntegerField(null=True, blank=True)
    csat_comment = models.TextField(max_length=2000, blank=True, default="")
    csat_answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "number"], name="service_case_number"),
            models.UniqueConstraint(fields=["brand", "channel", "source_ref"], name="service_case_source"),
            models.CheckConstraint(
                condition=Q(csat_score__isnull=True) | (Q(csat_score__gte=1) & Q(csat_score__lte=5)),
                name="service_case_csat_range",
            ),
        ]
        indexes = [
            # The queue: a brand's cases of some statuses, most urgent then oldest first.
            models.Index(fields=["brand", "status", "priority_rank", "opened_at"], name="service_case_queue"),
            models.Index(fields=["brand", "assignee", "status", "opened_at"], name="service_case_assignee"),
            models.Index(fields=["brand", "channel", "status", "opened_at"], name="service_case_channel"),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.subject}"


class Direction(models.TextChoices):
    IN = "in", _("From the customer")
    OUT = "out", _("Reply")
    NOTE = "note", _("Internal note")


class Delivery(models.TextChoices):
    NONE = "", _("Not sent")  # notes and customers' messages
    PENDING = "pending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Not delivered")
    RECORDED = "recorded", _("Recorded, to post by hand")  # outside networks without posting


class CaseMessage(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=4, choices=Direction.choices)
    author = models.ForeignKey(  # the staff user for replies and notes; None for the customer or the system
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(max_length=20000)
    channel = models.CharField(max_length=12, choices=Channel.choices)
    sent_at = models.DateTimeField()
    delivery = models.CharField(max_length=10, choices=Delivery.choices, blank=True, default=Delivery.NONE)
    delivery_error = models.CharField(max_length=300, blank=True, default="")
    external_id = models.CharField(max_length=255, blank=True, default="")  # a Message-ID, a provider's id

    class Meta:
        ordering = ["sent_at", "id"]
        indexes = [models.Index(fields=["case", "sent_at"], name="service_message_case")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.direction}"


class EventKind(models.TextChoices):
    OPENED = "opened", _("Opened")
    STATUS = "status", _("Status changed")
    ASSIGNED = "assigned", _("Assigned")
    PRIORITY = "priority", _("Priority changed")
    REPLIED = "replied", _("Replied")
    NOTED = "noted", _("Note added")
    MESSAGE_IN = "message_in", _("Customer wrote")
    CSAT = "csat", _("Satisfaction answered")
    MADE_RIGHT = "made_right", _("Made right")


class CaseEvent(models.Model):
    """The case's history. Every status change writes one with from/to, so the time spent waiting on the
    customer (the SLA clock's pauses) is read from here."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=EventKind.choices)
    from_status = models.CharField(max_length=8, choices=CaseStatus.choices, blank=True, default="")
    to_status = models.CharField(max_length=8, choices=CaseStatus.choices, blank=True, default="")
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "at"], name="service_event_case")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind}"


class CannedReply(models.Model):
    """A ready answer the brand wrote, in Hebrew or English, an agent puts into a reply and edits."""

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+", db_index=False)
    language = models.CharField(max_length=2, choices=[("he", _("Hebrew")), ("en", _("English"))])
    title = models.CharField(max_length=120)
    body = models.TextField(max_length=5000)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["language", "title"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "language", "title"], name="service_canned_title"),
        ]

    def __str__(self) -> str:
        return self.title
