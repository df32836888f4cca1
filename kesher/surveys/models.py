"""Surveys (CSAT, NPS and free questions), their invitations, responses and detractor alerts.

One answer per member per survey is the database's promise: `SurveyRespondent` is unique on (survey,
member) and is written in the same transaction as the response. An anonymous response stores no member;
its respondent row says only that the member answered (on which day), so the rule still holds.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class SurveySettings(models.Model):
    """A brand's survey rules: how often a member may be asked at most, across all its surveys."""

    brand = models.OneToOneField("brands.Brand", on_delete=models.CASCADE, related_name="survey_settings")
    contact_interval_days = models.PositiveSmallIntegerField(
        default=30, help_text=_("No member is invited more than once in this many days, across all surveys")
    )

    def __str__(self) -> str:
        return f"{self.brand_id}: {self.contact_interval_days} days"


class SurveyStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    CLOSED = "closed", _("Closed")


class Survey(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="surveys")
    title_he = models.CharField(max_length=200, blank=True)
    title_en = models.CharField(max_length=200, blank=True)
    intro_he = models.TextField(blank=True, max_length=2000)
    intro_en = models.TextField(blank=True, max_length=2000)
    status = models.CharField(max_length=10, choices=SurveyStatus.choices, default=SurveyStatus.DRAFT)
    anonymous = models.BooleanField(default=False, help_text=_("Responses keep no link to the member"))
    # Invite automatically after an activity of this type (purchase, service_contact ...); blank for none.
    trigger_activity = models.CharField(max_length=64, blank=True)
    trigger_delay_hours = models.PositiveIntegerField(default=0)
    invite_channel = models.CharField(max_length=10, default="email")
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["brand", "status"], name="survey_brand_status")]

    def __str__(self) -> str:
        return self.title_en or self.title_he

    def title(self, locale: str) -> str:
        return (self.title_he or self.title_en) if locale == "he" else (self.title_en or self.title_he)

    def intro(self, locale: str) -> str:
        return (self.intro_he or self.intro_en) if locale == "he" else (self.intro_en or self.intro_he)


class QuestionKind(models.TextChoices):
    CSAT = "csat", _("Satisfaction (CSAT, 1–5)")
    NPS = "nps", _("Recommendation (NPS, 0–10)")
    SINGLE = "single", _("One choice")
    MULTIPLE = "multiple", _("Several choices")
    SCALE = "scale", _("Scale")
    TEXT = "text", _("Free text")


class Question(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=10, choices=QuestionKind.choices)
    text_he = models.CharField(max_length=500, blank=True)
    text_en = models.CharField(max_length=500, blank=True)
    required = models.BooleanField(default=True)
    # [{"value": "coffee", "he": "קפה", "en": "Coffee"}] for single and multiple choice.
    choices = models.JSONField(default=list, blank=True)
    scale_min = models.SmallIntegerField(default=1)
    scale_max = models.SmallIntegerField(default=5)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.text_en or self.text_he

    def text(self, locale: str) -> str:
        return (self.text_he or self.text_en) if locale == "he" else (self.text_en or self.text_he)

    def bounds(self) -> tuple[int, int] | None:
        if self.kind == QuestionKind.CSAT:
            return 1, 5
        if self.kind == QuestionKind.NPS:
            return 0, 10
        if self.kind == QuestionKind.SCALE:
            return self.scale_min, self.scale_max
        return None


class InvitationStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    SKIPPED = "skipped", _("Not sent")


class SurveyInvitation(models.Model):
    """The invitation log: every invitation made or refused, which the contact-frequency rule reads."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invitations")
    member = models.ForeignKey(
        "members.Member", null=True, on_delete=models.SET_NULL, related_name="survey_invitations"
    )
    status = models.CharField(max_length=10, choices=InvitationStatus.choices)
    reason = models.CharField(max_length=40, blank=True)  # why not sent: contact_frequency, answered ...
    token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    channel = models.CharField(max_length=10, blank=True)
    source = models.CharField(max_length=40, blank=True)  # api, activity:<type>, console
    store = models.CharField(max_length=200, blank=True)
    sku = models.CharField(max_length=200, blank=True)
    message_id = models.UUIDField(null=True, blank=True)  # the campaigns part's message, when sent by it
    created_at = models.DateTimeField()
    opened_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["member", "status", "created_at"], name="survey_invite_member_recent"),
            models.Index(fields=["survey", "created_at"], name="survey_invite_survey"),
        ]

    def __str__(self) -> str:
        return f"{self.survey_id} → {self.member_id} ({self.status})"


class SurveyResponse(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    member = models.ForeignKey(  # null for an anonymous survey (and after erasure)
        "members.Member", null=True, blank=True, on_delete=models.SET_NULL, related_name="survey_responses"
    )
    store = models.CharField(max_length=200, blank=True)
    sku = models.CharField(max_length=200, blank=True)
    locale = models.CharField(max_length=2, default="he")
    # The first NPS and CSAT answers, kept on the response for the trends and the activity.
    nps = models.SmallIntegerField(null=True, blank=True)
    csat = models.SmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["survey", "created_at"], name="survey_response_time")]

    def __str__(self) -> str:
        return str(self.pk)


class SurveyAnswer(models.Model):
    id = models.BigAutoField(primary_key=True)
    response = models.ForeignKey(SurveyResponse, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    number = models.SmallIntegerField(null=True, blank=True)  # csat, nps, scale
    choices = models.JSONField(default=list, blank=True)  # single, multiple
    text = models.TextField(blank=True)
    terms = models.TextField(blank=True)  # Hebrew-aware search forms of the text, " a b c "

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="survey_answer_once"),
        ]

    def __str__(self) -> str:
        return f"{self.response_id}/{self.question_id}"


class SurveyRespondent(models.Model):
    """Who answered which survey: the one-answer-per-member rule, kept apart from the (maybe anonymous)
    response. Only the day is kept so that it cannot be matched to an anonymous response by its time."""

    id = models.BigAutoField(primary_key=True)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="respondents")
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="survey_answers")
    answered_on = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["survey", "member"], name="survey_one_answer_per_member"),
        ]

    def __str__(self) -> str:
        return f"{self.survey_id}/{self.member_id}"


class AlertStatus(models.TextChoices):
    OPEN = "open", _("To follow up")
    DONE = "done", _("Followed up")


class SurveyAlert(models.Model):
    """A detractor's answer to follow up: the service case until the listening part's inbox exists."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="alerts")
    response = models.OneToOneField(SurveyResponse, on_delete=models.CASCADE, related_name="alert")
    member = models.ForeignKey(  # null when the survey is anonymous
        "members.Member", null=True, blank=True, on_delete=models.SET_NULL, related_name="survey_alerts"
    )
    score = models.SmallIntegerField()
    comment = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["brand", "status", "created_at"], name="survey_alert_open")]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=0) & Q(score__lte=6), name="survey_alert_detractor"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.survey_id}: {self.score}"
