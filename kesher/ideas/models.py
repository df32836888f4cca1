"""Ideas data: the brand's stage and status settings, ideas with their supports and comments, notices to
supporters, challenges with their winners, beta programs with applications, tasks and feedback."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# LEGO Ideas' ladder: 100 supporters in 60 days, then 1,000 within a year, then 5,000 and 10,000 within
# six months each; then the brand's review. Each brand keeps its own copy (IdeaSettings.stages).
DEFAULT_STAGES: list[dict[str, int]] = [
    {"threshold": 100, "days": 60},
    {"threshold": 1000, "days": 365},
    {"threshold": 5000, "days": 182},
    {"threshold": 10000, "days": 182},
]


class IdeaSettings(models.Model):
    """A brand's ladder of stages: each a number of supporters to reach within a number of days."""

    brand = models.OneToOneField("brands.Brand", on_delete=models.CASCADE, related_name="idea_settings")
    stages = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"idea settings of {self.brand_id}"


class IdeaStatus(models.Model):
    """A status an idea can have; the brand renames the defaults (name) and adds its own."""

    class Kind(models.TextChoices):
        OPEN = "open", _("Open")
        REVIEW = "under_review", _("Under review")
        PLANNED = "planned", _("Planned")
        DEVELOPMENT = "in_development", _("In development")
        SHIPPED = "shipped", _("Shipped")
        DECLINED = "declined", _("Declined")

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    code = models.SlugField(max_length=40)
    # The brand's own name; blank shows the kind's translated default.
    name = models.CharField(max_length=80, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    position = models.PositiveIntegerField(default=0)
    on_roadmap = models.BooleanField(default=False)

    class Meta:
        ordering = ["position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "code"], name="ideastatus_unique_code"),
            models.CheckConstraint(
                condition=Q(
                    kind__in=["open", "under_review", "planned", "in_development", "shipped", "declined"]
                ),
                name="ideastatus_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return self.name or str(self.Kind(self.kind).label)

    @property
    def accepts_support(self) -> bool:
        return self.kind in (self.Kind.OPEN, self.Kind.REVIEW)


class Challenge(models.Model):
    """The brand asks a question for a limited time, with a prize for the ideas a jury picks."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=200)
    question = models.TextField()
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    prize_points = models.PositiveIntegerField(default=0)
    prize_reward = models.ForeignKey(
        "loyalty.Reward", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    winners_max = models.PositiveSmallIntegerField(default=1)
    judged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-ends_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="challenge_ends_after"
            )
        ]

    def __str__(self) -> str:
        return self.title


class Idea(models.Model):
    class Visibility(models.TextChoices):
        PUBLISHED = "published", _("Published")
        HIDDEN = "hidden", _("Hidden by a moderator")

    class Phase(models.TextChoices):
        GATHERING = "gathering", _("Gathering support")
        REVIEW = "review", _("Reached the brand's review")
        EXPIRED = "expired", _("Expired")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    challenge = models.ForeignKey(
        Challenge, null=True, blank=True, on_delete=models.PROTECT, related_name="ideas"
    )
    # None once the author is erased: the idea stays, without a name.
    author = models.ForeignKey(
        "members.Member", null=True, blank=True, on_delete=models.SET_NULL, related_name="ideas"
    )
    title = models.CharField(max_length=200)
    body = models.TextField()
    body_html = models.TextField()
    status = models.ForeignKey(IdeaStatus, on_delete=models.PROTECT, related_name="ideas")
    status_reason = models.CharField(max_length=500, blank=True)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.PUBLISHED)
    phase = models.CharField(max_length=10, choices=Phase.choices, default=Phase.GATHERING)
    # The stage being climbed (1-based); past the last stage the phase is review.
    stage = models.PositiveSmallIntegerField(default=1)
    stage_deadline = models.DateTimeField(null=True, blank=True)
    supporters = models.PositiveBigIntegerField(default=0)
    comment_count = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField()
    status_changed_at = models.DateTimeField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["brand", "visibility", "-supporters"], name="idea_brand_popular"),
            models.Index(fields=["brand", "visibility", "-created_at"], name="idea_brand_newest"),
            models.Index(fields=["phase", "stage_deadline"], name="idea_deadline"),
        ]

    def __str__(self) -> str:
        return self.title


class IdeaSupport(models.Model):
    """One member's support of one idea: the unique pair makes it one each, whatever the race."""

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="supports")
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="idea_supports")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["idea", "member"], name="ideasupport_once")]

    def __str__(self) -> str:
        return f"{self.member_id} supports {self.idea_id}"


class IdeaComment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        "members.Member", null=True, blank=True, on_delete=models.SET_NULL, related_name="idea_comments"
    )
    by_brand = models.BooleanField(default=False)
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    body_html = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"comment on {self.idea_id}"


class IdeaNotice(models.Model):
    """What a supporter (or the author) is told in the portal when an idea moves on."""

    class Kind(models.TextChoices):
        STAGE = "stage", _("Stage reached")
        EXPIRED = "expired", _("Expired")
        STATUS = "status", _("Status changed")

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="idea_notices")
    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    stage = models.PositiveSmallIntegerField(null=True, blank=True)
    # The status given (its name is shown in the reader's language when the notice is read).
    status = models.ForeignKey(IdeaStatus, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["member", "-created_at"], name="ideanotice_member")]

    def __str__(self) -> str:
        return f"{self.kind} notice of {self.idea_id}"


class ChallengeWinner(models.Model):
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="winners")
    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(
        "members.Member", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    points = models.PositiveIntegerField(default=0)
    coupon = models.ForeignKey(
        "loyalty.Coupon", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    picked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["challenge", "idea"], name="challengewinner_once")]

    def __str__(self) -> str:
        return f"winner of {self.challenge_id}: {self.idea_id}"


class BetaProgram(models.Model):
    class Selection(models.TextChoices):
        FIRST_COME = "first_come", _("First come, within eligibility")
        BY_TIER = "by_tier", _("By tier, highest first")
        MANUAL = "manual", _("By hand")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # Who may apply: members of these tiers (by name) and/or of this campaigns segment; neither: anyone.
    tiers = models.JSONField(default=list, blank=True)
    segment = models.ForeignKey(
        "campaigns.Segment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    places = models.PositiveIntegerField()
    agreement = models.TextField()
    selection = models.CharField(max_length=12, choices=Selection.choices, default=Selection.FIRST_COME)
    # Shown only to accepted testers and staff, on the program's private page.
    private_brief = models.TextField(blank=True)
    open = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(selection__in=["first_come", "by_tier", "manual"]), name="beta_selection_valid"
            )
        ]

    def __str__(self) -> str:
        return self.title


class BetaApplication(models.Model):
    class Status(models.TextChoices):
        APPLIED = "applied", _("Applied")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Not chosen")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    program = models.ForeignKey(BetaProgram, on_delete=models.CASCADE, related_name="applications")
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="beta_applications")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.APPLIED)
    motivation = models.TextField(blank=True)
    # The exact agreement the member accepted, and when.
    agreement_text = models.TextField()
    agreement_accepted_at = models.DateTimeField()
    applied_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["applied_at"]
        constraints = [
            models.UniqueConstraint(fields=["program", "member"], name="betaapplication_once"),
            models.CheckConstraint(
                condition=Q(status__in=["applied", "accepted", "declined"]),
                name="betaapplication_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} for {self.program_id}: {self.status}"


class BetaTask(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    program = models.ForeignKey(BetaProgram, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    points = models.PositiveIntegerField(default=0)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "title"]

    def __str__(self) -> str:
        return self.title


class BetaFeedback(models.Model):
    """A tester's feedback on a task; sending it completes the task (points once: the unique pair)."""

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    task = models.ForeignKey(BetaTask, on_delete=models.CASCADE, related_name="feedback")
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="beta_feedback")
    rating = models.PositiveSmallIntegerField()
    text = models.TextField(blank=True)
    points = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["task", "member"], name="betafeedback_once"),
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="betafeedback_rating_1_5"),
        ]

    def __str__(self) -> str:
        return f"feedback on {self.task_id}"
