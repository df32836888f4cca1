"""Campaigns: saved audiences (segments), the campaign, one message per member, and what happened to it."""

from __future__ import annotations

import uuid
from datetime import time

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# Israeli Communications Law 30A: an advertisement's subject (or SMS text) starts with this exact word, in
# Hebrew whatever the message's own language, so it is a legal token rather than translatable text.
ADVERTISING_MARK = "פרסומת"
# The reply word that refuses further SMS; the law asks for an easy refusal the member can send back.
DEFAULT_OPT_OUT_WORD = "הסר"


class MessagingSettings(models.Model):
    """A brand's sender identity, quiet hours, caps and SMS provider; defaults until the brand changes one."""

    brand = models.OneToOneField(
        "brands.Brand", on_delete=models.CASCADE, primary_key=True, related_name="messaging"
    )
    sender_name = models.CharField(max_length=100, blank=True, help_text=_("Empty: the brand's name"))
    sender_email = models.EmailField(blank=True, help_text=_("Empty: the installation's sender address"))
    reply_to = models.EmailField(blank=True)
    postal_address = models.CharField(
        max_length=300, blank=True, help_text=_("Shown in every advertisement to identify the sender")
    )
    sms_sender = models.CharField(
        max_length=11, blank=True, help_text=_("Alphanumeric SMS sender id; empty: the provider's default")
    )
    sms_provider_url = models.CharField(
        max_length=500, blank=True, help_text=_("Empty: the installation's KESHER_SMS_URL")
    )
    sms_opt_out_word = models.CharField(max_length=20, default=DEFAULT_OPT_OUT_WORD)
    quiet_start = models.TimeField(default=time(21, 0), help_text=_("No SMS from this local time ..."))
    quiet_end = models.TimeField(default=time(8, 0), help_text=_("... until this local time"))
    quiet_on_shabbat = models.BooleanField(
        default=True, help_text=_("No SMS from candle lighting to havdalah on Shabbat and holidays")
    )
    weekly_advertising_cap = models.PositiveSmallIntegerField(
        null=True, blank=True, default=3, help_text=_("Advertisements per member in 7 days; empty: no cap")
    )
    conversion_days = models.PositiveSmallIntegerField(
        default=7, help_text=_("A purchase within this many days of a message counts as its conversion")
    )
    email_per_second = models.PositiveIntegerField(null=True, blank=True)
    sms_per_second = models.PositiveIntegerField(null=True, blank=True, default=20)
    # On: a bounce notice must carry X-Kesher-Signature (HMAC-SHA256 with the brand's signing secret) as
    # well as come to the signed URL. On for brands created since it exists; brands that had a bounce
    # webhook before keep the URL alone until they switch it on (migration 0004).
    bounce_signature_required = models.BooleanField(
        default=True, help_text=_("Bounce notices must carry a valid X-Kesher-Signature header")
    )

    class Meta:
        verbose_name_plural = _("messaging settings")

    def __str__(self) -> str:
        return f"messaging of {self.brand_id}"


class Segment(models.Model):
    """A saved audience: rules over member fields, interests, consent, locale, activity and points."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="segments")
    name = models.CharField(max_length=200)
    rules = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["brand", "name"], name="segment_unique_name")]

    def __str__(self) -> str:
        return self.name


class CampaignChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    PORTAL = "portal", _("Portal notice")


def consent_channel(channel: str) -> str:
    """The consent an advertisement on this channel needs: a portal notice relies on email consent."""
    return "email" if channel == CampaignChannel.PORTAL else channel


class AbMetric(models.TextChoices):
    OPENED = "opened", _("Open rate")
    CLICKED = "clicked", _("Click rate")


class AbState(models.TextChoices):
    NONE = "", _("No test")
    TESTING = "testing", _("Testing the variants")
    DECIDED = "decided", _("Winner chosen")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    QUEUING = "queuing", _("Preparing messages")
    SENDING = "sending", _("Sending")
    PAUSED = "paused", _("Paused")
    SENT = "sent", _("Sent")
    CANCELLED = "cancelled", _("Cancelled")


class Campaign(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(max_length=200)
    channel = models.CharField(max_length=10, choices=CampaignChannel.choices)
    locale = models.CharField(max_length=2, help_text=_("The language of subject and body"))
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(help_text=_("A template; the member's fields are its context"))
    translations = models.JSONField(
        default=dict, blank=True, help_text=_('Other languages: {"en": {"subject": ..., "body": ...}}')
    )
    blocks = models.JSONField(
        default=list,
        blank=True,
        help_text=_('Content blocks by interest: [{"interests": [...], "text": ...}]'),
    )
    advertising = models.BooleanField(help_text=_("An advertisement needs the member's consent"))
    segment = models.ForeignKey(
        Segment, null=True, blank=True, on_delete=models.PROTECT, related_name="campaigns"
    )
    # A journey's send step keeps its messages (and so its funnel) under a campaign of its own.
    journey = models.ForeignKey(
        "Journey", null=True, blank=True, on_delete=models.CASCADE, related_name="step_campaigns"
    )
    journey_step = models.PositiveSmallIntegerField(null=True, blank=True)
    # A coupon issued for each message from this reward ({{ coupon }} in the template).
    coupon_reward = models.ForeignKey(
        "loyalty.Reward", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # A/B test: with variants, this share of the audience gets them split evenly; after ab_wait_hours the
    # variant with the best ab_metric goes to the rest.
    ab_test_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    ab_wait_hours = models.PositiveSmallIntegerField(default=4)
    ab_metric = models.CharField(max_length=10, choices=AbMetric.choices, default=AbMetric.OPENED)
    ab_state = models.CharField(max_length=10, choices=AbState.choices, default=AbState.NONE, blank=True)
    ab_test_queued_at = models.DateTimeField(null=True, blank=True)
    ab_winner = models.ForeignKey(
        "CampaignVariant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ab_decided_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    # Members left out when the campaign was queued, by reason: no_address, no_consent, frequency_cap.
    exclusions = models.JSONField(default=dict, blank=True)
    created_by = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    send_requested_at = models.DateTimeField(null=True, blank=True)
    # A scheduled campaign starts sending at this time (messages_dispatch_due starts it).
    scheduled_for = models.DateTimeField(null=True, blank=True)
    # While paused: the status it goes back to when resumed (scheduled, queuing or sending).
    paused_from = models.CharField(max_length=10, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["brand", "-created_at"], name="campaign_brand_newest")]
        constraints = [
            models.UniqueConstraint(
                fields=["journey", "journey_step"],
                condition=Q(journey__isnull=False),
                name="campaign_one_per_journey_step",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CampaignVariant(models.Model):
    """One version (subject and body) of an A/B-tested campaign."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="variants")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=50)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField()
    translations = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "position"], name="variant_unique_position")
        ]

    def __str__(self) -> str:
        return self.name


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    BOUNCED = "bounced", _("Bounced")
    FAILED = "failed", _("Failed")
    SUPPRESSED = "suppressed", _("Withheld (consent withdrawn before sending)")
    CANCELLED = "cancelled", _("Not sent: the campaign was cancelled")


# Messages that never reached the member: they count for no weekly cap and show on no portal page.
UNSENT_STATUSES = (
    MessageStatus.FAILED,
    MessageStatus.SUPPRESSED,
    MessageStatus.BOUNCED,
    MessageStatus.CANCELLED,
)


class ConsentBasis(models.TextChoices):
    CONSENT = "consent", _("The member's consent")
    SERVICE = "service", _("A service message (no consent needed)")


class Message(models.Model):
    """One member's copy of one campaign. The unique (campaign, member) pair makes sending exactly-once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="messages")
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="messages")
    channel = models.CharField(max_length=10, choices=CampaignChannel.choices)
    to = models.CharField(max_length=254)
    locale = models.CharField(max_length=2)
    subject = models.CharField(max_length=400, blank=True)
    body = models.TextField()
    advertising = models.BooleanField()
    consent_basis = models.CharField(max_length=10, choices=ConsentBasis.choices)
    consent_event = models.ForeignKey(
        "members.ConsentEvent",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The grant this advertisement relied on"),
    )
    # A journey's message: one per run and step (a member gets a step again on the journey's next occurrence).
    journey_run = models.ForeignKey(
        "JourneyRun", null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    journey_step = models.PositiveSmallIntegerField(null=True, blank=True)
    # The A/B variant this message carried (only messages of the test group have one).
    variant = models.ForeignKey(
        CampaignVariant, null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    status = models.CharField(max_length=10, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    not_before = models.DateTimeField(null=True, blank=True, help_text=_("Held for quiet hours until then"))
    claim_token = models.CharField(max_length=64, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_ref = models.CharField(max_length=200, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "member"],
                condition=Q(journey_run__isnull=True),
                name="message_once_per_member",
            ),
            models.UniqueConstraint(
                fields=["journey_run", "journey_step"],
                condition=Q(journey_run__isnull=False),
                name="message_once_per_run_step",
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "status"], name="message_campaign_status"),
            models.Index(fields=["member", "advertising", "created_at"], name="message_member_recent"),
            models.Index(fields=["member", "-sent_at"], name="message_member_sent"),  # conversions
            models.Index(fields=["status", "not_before"], name="message_due"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} to {self.to}"


class EventKind(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    BOUNCED = "bounced", _("Bounced")
    OPENED = "opened", _("Opened")
    CLICKED = "clicked", _("Clicked")
    FORWARDED = "forwarded", _("Forwarded")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
    COMPLAINED = "complained", _("Marked as spam")
    CONVERTED = "converted", _("Converted")


# Kinds kept every time they happen; every other kind is kept once per message.
REPEATED_EVENT_KINDS = ("clicked", "forwarded")


class MessageEvent(models.Model):
    """What happened to a message. Each kind is kept once per message, except clicks and forwards."""

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="events")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=EventKind.choices)
    occurred_at = models.DateTimeField()
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["message", "kind"],
                condition=~Q(kind__in=REPEATED_EVENT_KINDS),
                name="message_event_once",
            ),
        ]
        indexes = [models.Index(fields=["campaign", "kind", "occurred_at"], name="event_campaign_kind")]

    def __str__(self) -> str:
        return f"{self.kind} {self.message_id}"


class MessageForward(models.Model):
    """A member forwarded a message to a friend's address: once per address, a few per message."""

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="forwards")
    to = models.EmailField(max_length=254)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "to"], name="forward_once_per_address")]

    def __str__(self) -> str:
        return f"{self.message_id} to {self.to}"


class MessageCoupon(models.Model):
    """The coupon issued for one member's message of a campaign: unique per (campaign, member), or for a
    journey's send step (whose campaign is the step's own) per (step, run), so it is issued exactly once."""

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="coupons")
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    # A journey's message: the member gets the step's coupon again on the journey's next occurrence.
    journey_run = models.ForeignKey(
        "JourneyRun", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    coupon = models.OneToOneField("loyalty.Coupon", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "member"],
                condition=Q(journey_run__isnull=True),
                name="message_coupon_once",
            ),
            models.UniqueConstraint(
                fields=["campaign", "journey_run"],
                condition=Q(journey_run__isnull=False),
                name="message_coupon_once_per_run",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.member_id}"


class SuppressionReason(models.TextChoices):
    HARD_BOUNCE = "hard_bounce", _("The address does not exist (hard bounce)")


class EmailSuppression(models.Model):
    """An address mail cannot reach: nothing more is sent to it until staff remove the row."""

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    email = models.EmailField(max_length=254)
    reason = models.CharField(max_length=20, choices=SuppressionReason.choices)
    detail = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["brand", "email"], name="suppression_unique_email")]

    def __str__(self) -> str:
        return self.email


# --- journeys ----------------------------------------------------------------------------------------


class JourneyTrigger(models.TextChoices):
    ACTIVITY = "activity", _("An activity (signup, visit, purchase, points expiring ...)")
    BIRTHDAY = "birthday", _("The member's birthday")
    HEBREW_BIRTHDAY = "hebrew_birthday", _("The member's birthday by the Hebrew calendar")
    JOIN_ANNIVERSARY = "join_anniversary", _("The anniversary of joining")
    INACTIVITY = "inactivity", _("No purchase for some days")


class JourneyStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")


class Journey(models.Model):
    """An automation: a trigger starts a run per member and occurrence, which walks the ordered steps."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="journeys")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=40, blank=True, help_text=_("The ready-made journey it came from"))
    trigger = models.CharField(max_length=20, choices=JourneyTrigger.choices)
    trigger_activity = models.CharField(max_length=64, blank=True)
    inactivity_days = models.PositiveSmallIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=JourneyStatus.choices, default=JourneyStatus.ACTIVE)
    steps = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["brand", "name"], name="journey_unique_name")]
        indexes = [models.Index(fields=["brand", "status", "trigger"], name="journey_brand_trigger")]

    def __str__(self) -> str:
        return self.name


class RunStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting for its next step")
    RUNNING = "running", _("Running a step")
    DONE = "done", _("Done")
    EXITED = "exited", _("Left at a condition")


class JourneyRun(models.Model):
    """One member's way through one occurrence of a journey; the unique key makes entering once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="runs")
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="journey_runs")
    occurrence = models.CharField(max_length=64)
    step = models.PositiveSmallIntegerField(default=0)
    next_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.WAITING)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # What each step did, or why it did nothing: [{"step": 1, "type": "send", "outcome": "no_consent"}].
    log = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["journey", "member", "occurrence"], name="journey_run_once_per_occurrence"
            ),
        ]
        indexes = [models.Index(fields=["status", "next_at"], name="journey_run_due")]

    def __str__(self) -> str:
        return f"{self.journey_id} {self.member_id} {self.occurrence}"
