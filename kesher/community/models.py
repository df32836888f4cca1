"""Community data: spaces, posts (questions, answers, comments), votes, tags, history, flags, reputation."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Space(models.Model):
    """A place for posts with its own kind and audience; every brand starts with a public Q&A "general"."""

    class Kind(models.TextChoices):
        QA = "qa", _("Questions and answers")
        DISCUSSION = "discussion", _("Discussion")
        ANNOUNCEMENTS = "announcements", _("Announcements")

    class Visibility(models.TextChoices):
        PUBLIC = "public", _("Public")
        MEMBERS = "members", _("Members only")
        TIERS = "tiers", _("Certain tiers only")
        STAFF = "staff", _("Staff only")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="community_spaces")
    slug = models.SlugField(max_length=80, allow_unicode=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.QA)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC)
    # Tier names for visibility "tiers"; tiers are matched by name until the loyalty part has tiers.
    tiers = models.JSONField(default=list, blank=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "slug"], name="space_unique_brand_slug"),
            models.CheckConstraint(
                condition=Q(kind__in=["qa", "discussion", "announcements"]), name="space_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(visibility__in=["public", "members", "tiers", "staff"]),
                name="space_visibility_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_public(self) -> bool:
        return self.visibility == self.Visibility.PUBLIC


class Tag(models.Model):
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=50)
    question_count = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-question_count", "name"]
        constraints = [models.UniqueConstraint(fields=["brand", "name"], name="tag_unique_brand_name")]

    def __str__(self) -> str:
        return self.name


class Post(models.Model):
    """A question, an answer or a comment. Answers point at their question; comments at any post."""

    class Kind(models.TextChoices):
        QUESTION = "question", _("Question")
        ANSWER = "answer", _("Answer")
        COMMENT = "comment", _("Comment")

    class Status(models.TextChoices):
        PUBLISHED = "published", _("Published")
        HELD = "held", _("Held for review")
        HIDDEN = "hidden", _("Hidden by a moderator")
        DELETED = "deleted", _("Deleted")
        # A question merged into another (duplicate_of): its page redirects there, its answers moved there.
        MERGED = "merged", _("Merged into another question")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    space = models.ForeignKey(Space, on_delete=models.PROTECT, related_name="posts")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # The question a post belongs to (None for a question itself), and what a comment comments on.
    question = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="thread_posts"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="comments"
    )
    # A member's post has an author; a brand's post has none and says so (by_brand), with the staff user.
    author = models.ForeignKey(
        "members.Member", null=True, blank=True, on_delete=models.SET_NULL, related_name="community_posts"
    )
    by_brand = models.BooleanField(default=False)
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(max_length=200, blank=True)
    slug = models.SlugField(max_length=80, allow_unicode=True, blank=True)
    body = models.TextField(help_text=_("Markdown"))
    body_html = models.TextField(help_text=_("The body rendered and sanitised"))
    body_hash = models.CharField(max_length=64, db_index=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="posts")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PUBLISHED)
    hold_reasons = models.JSONField(default=list, blank=True)
    # Counters are 64-bit: views and votes only ever add up.
    score = models.BigIntegerField(default=0)
    upvotes = models.PositiveBigIntegerField(default=0)
    downvotes = models.PositiveBigIntegerField(default=0)
    answer_count = models.PositiveBigIntegerField(default=0)
    comment_count = models.PositiveBigIntegerField(default=0)
    view_count = models.PositiveBigIntegerField(default=0)
    accepted_answer = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="accepted_for"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=200, blank=True)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    merged_at = models.DateTimeField(null=True, blank=True)
    pinned = models.BooleanField(default=False)
    locked = models.BooleanField(default=False)
    edit_count = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField()
    edited_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField()
    # When the post was first published (points and reputation are given then, once).
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["question", "answer", "comment"]), name="post_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind="question", question__isnull=True) | ~Q(kind="question"),
                name="post_question_has_no_question",
            ),
            models.CheckConstraint(
                condition=~Q(kind="answer") | Q(question__isnull=False), name="post_answer_has_question"
            ),
            models.CheckConstraint(
                condition=Q(author__isnull=False) | Q(by_brand=True), name="post_has_author_or_brand"
            ),
            models.CheckConstraint(condition=Q(upvotes__gte=0, downvotes__gte=0), name="post_votes_positive"),
        ]
        indexes = [
            models.Index(
                fields=["space", "kind", "status", "-pinned", "-last_activity_at"], name="post_space_list"
            ),
            models.Index(fields=["space", "kind", "status", "-created_at"], name="post_space_newest"),
            models.Index(fields=["question", "kind", "status"], name="post_thread"),
            models.Index(fields=["brand", "status", "kind"], name="post_brand_status"),
            models.Index(fields=["author", "-created_at"], name="post_author_recent"),
        ]

    def __str__(self) -> str:
        return self.title or f"{self.kind} {self.id}"

    @property
    def thread_id(self) -> uuid.UUID:
        return self.question_id or self.pk  # type: ignore[return-value]

    @property
    def is_visible(self) -> bool:
        return self.status == self.Status.PUBLISHED


class PostRevision(models.Model):
    """Every version of a post, the first one included, so edits keep a history."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    editor = models.ForeignKey(
        "members.Member", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    editor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    tags = models.JSONField(default=list, blank=True)
    comment = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["post", "number"]
        constraints = [models.UniqueConstraint(fields=["post", "number"], name="revision_unique_number")]

    def __str__(self) -> str:
        return f"{self.post_id} v{self.number}"


class Vote(models.Model):
    """One vote per member per post; changing it replaces the value."""

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="votes")
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="community_votes")
    value = models.SmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["post", "member"], name="vote_unique_member_post"),
            models.CheckConstraint(condition=Q(value__in=[-1, 1]), name="vote_value_one"),
        ]

    def __str__(self) -> str:
        return f"{self.value:+d} on {self.post_id}"


class Flag(models.Model):
    class Reason(models.TextChoices):
        SPAM = "spam", _("Spam")
        OFFENSIVE = "offensive", _("Rude or offensive")
        OFF_TOPIC = "off_topic", _("Off topic")
        DUPLICATE = "duplicate", _("Duplicate")
        OTHER = "other", _("Something else")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        UPHELD = "upheld", _("Upheld")
        DISMISSED = "dismissed", _("Dismissed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="flags")
    reporter = models.ForeignKey(
        "members.Member", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=20, choices=Reason.choices)
    note = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["post", "reporter"], condition=Q(status="open"), name="flag_unique_open_per_reporter"
            )
        ]
        indexes = [models.Index(fields=["brand", "status", "created_at"], name="flag_queue")]

    def __str__(self) -> str:
        return f"{self.reason} on {self.post_id}"


class CommunitySettings(models.Model):
    """A brand's community rules: privileges by reputation, limits for new members, spam checks."""

    brand = models.OneToOneField("brands.Brand", on_delete=models.CASCADE, related_name="community_settings")
    # Minimum reputation for each privilege (see services.PRIVILEGES for the names and defaults).
    privileges = models.JSONField(default=dict, blank=True)
    reputation_daily_cap = models.PositiveIntegerField(default=200)
    banned_words = models.JSONField(default=list, blank=True)
    new_member_posts_per_day = models.PositiveIntegerField(default=10)
    new_member_links_per_post = models.PositiveIntegerField(default=2)
    min_seconds_between_posts = models.PositiveIntegerField(default=15)

    def __str__(self) -> str:
        return f"community settings of {self.brand_id}"


class ReputationRule(models.Model):
    """How much reputation an event is worth, per brand; the brand may edit the numbers."""

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    event = models.CharField(max_length=40)
    points = models.IntegerField()

    class Meta:
        ordering = ["event"]
        constraints = [models.UniqueConstraint(fields=["brand", "event"], name="reputation_rule_unique")]

    def __str__(self) -> str:
        return f"{self.event}: {self.points:+d}"


class CommunityProfile(models.Model):
    """A member's standing in the community: reputation (not redeemable) and any suspension."""

    member = models.OneToOneField(
        "members.Member", primary_key=True, on_delete=models.CASCADE, related_name="community_profile"
    )
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    reputation = models.BigIntegerField(default=1)
    suspended_until = models.DateTimeField(null=True, blank=True)
    last_posted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["brand", "-reputation"], name="profile_brand_reputation")]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.reputation}"


class ReputationEvent(models.Model):
    """One change of a member's reputation, kept so a vote taken back takes back exactly what it gave."""

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    event = models.CharField(max_length=40)
    points = models.IntegerField(help_text=_("What was given after the daily cap"))
    post = models.ForeignKey(Post, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # What caused it: a vote, an acceptance; a reversal points at the event it undoes.
    source_key = models.CharField(max_length=100, blank=True)
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reversed_by"
    )
    counts_against_cap = models.BooleanField(default=True)
    day = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["member", "day"], name="reputation_member_day"),
            models.Index(fields=["member", "source_key"], name="reputation_member_source"),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.points:+d}"


class Badge(models.Model):
    """A badge a member earned; one-off badges have an empty `awarded_for`, others name the post or month."""

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="community_badges")
    code = models.CharField(max_length=40)
    awarded_for = models.CharField(max_length=64, blank=True, default="")
    awarded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-awarded_at"]
        constraints = [
            models.UniqueConstraint(fields=["member", "code", "awarded_for"], name="badge_unique_award")
        ]

    def __str__(self) -> str:
        return self.code


class SearchDocument(models.Model):
    """The normalised text of one question or answer, kept by the services for full-text search.

    SQLite indexes it in the FTS5 table community_search_fts (kept by triggers); PostgreSQL in the
    generated tsvector column `document` with a GIN index. Both are created by migration 0002.
    """

    post = models.OneToOneField(Post, on_delete=models.CASCADE, related_name="search_document")
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    question = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="+")
    visible = models.BooleanField(default=True)
    head = models.TextField(blank=True)
    body = models.TextField(blank=True)
    exact = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["brand", "space", "visible"], name="search_scope")]

    def __str__(self) -> str:
        return f"search {self.post_id}"


class Follow(models.Model):
    """A member follows a question, a tag or a space, to hear of new answers there."""

    class Kind(models.TextChoices):
        QUESTION = "question", _("Question")
        TAG = "tag", _("Tag")
        SPACE = "space", _("Space")

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="community_follows")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    question = models.ForeignKey(Post, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    tag = models.ForeignKey(Tag, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    space = models.ForeignKey(Space, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="question", question__isnull=False, tag__isnull=True, space__isnull=True)
                    | Q(kind="tag", tag__isnull=False, question__isnull=True, space__isnull=True)
                    | Q(kind="space", space__isnull=False, question__isnull=True, tag__isnull=True)
                ),
                name="follow_one_target",
            ),
            models.UniqueConstraint(
                fields=["member", "question"], condition=Q(kind="question"), name="follow_unique_question"
            ),
            models.UniqueConstraint(
                fields=["member", "tag"], condition=Q(kind="tag"), name="follow_unique_tag"
            ),
            models.UniqueConstraint(
                fields=["member", "space"], condition=Q(kind="space"), name="follow_unique_space"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} follows {self.kind}"


class Notification(models.Model):
    """Something a member should hear of in the portal: a new answer where they follow, an acceptance."""

    class Kind(models.TextChoices):
        NEW_ANSWER = "new_answer", _("New answer")
        ANSWER_ACCEPTED = "answer_accepted", _("Your answer was accepted")

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(
        "members.Member", on_delete=models.CASCADE, related_name="community_notifications"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    question = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="+")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # A member hears of one post once per kind, however many of their follows it matches.
            models.UniqueConstraint(fields=["member", "kind", "post"], name="notification_once_per_post")
        ]
        indexes = [models.Index(fields=["member", "read_at"], name="notification_member_unread")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.member_id}"


class PointsReversal(models.Model):
    """Loyalty points a community activity gave, taken back: the acceptance moved away, or spam removed.

    One row per activity (a grant is reversed at most once). A later grant for the same thing (the answer
    accepted again, the post restored) is a new activity whose key carries the round, so the ledger always
    reads earn, reverse, earn.
    """

    class Reason(models.TextChoices):
        ACCEPTANCE_MOVED = "acceptance_moved", _("The accepted answer changed")
        SPAM = "spam", _("Removed as spam")

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    activity = models.OneToOneField("activity.Activity", on_delete=models.CASCADE, related_name="+")
    grant_key = models.CharField(max_length=100, help_text=_("The grant's key without its round"))
    post = models.ForeignKey(Post, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    points = models.PositiveIntegerField(help_text=_("What was taken back"))
    ledger_entry = models.ForeignKey(
        "loyalty.LedgerEntry", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["member", "grant_key"], name="points_reversal_grant")]

    def __str__(self) -> str:
        return f"-{self.points} ({self.reason})"


class DigestSettings(models.Model):
    """How often a member gets the email digest of what they follow (daily unless they choose)."""

    class Frequency(models.TextChoices):
        OFF = "off", _("Never")
        DAILY = "daily", _("Daily")
        WEEKLY = "weekly", _("Weekly")

    member = models.OneToOneField(
        "members.Member", primary_key=True, on_delete=models.CASCADE, related_name="community_digest"
    )
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    frequency = models.CharField(max_length=10, choices=Frequency.choices, default=Frequency.DAILY)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(frequency__in=["off", "daily", "weekly"]), name="digest_frequency_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.frequency}"


class DigestSend(models.Model):
    """One digest for one member and one period. The unique period makes a digest go out at most once,
    however often the task runs; `until` is where the member's next digest starts."""

    class Status(models.TextChoices):
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        EMPTY = "empty", _("Nothing new")
        FAILED = "failed", _("Failed")

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    period = models.CharField(max_length=20, help_text=_("2026-03-10 for a daily digest, 2026-W11 weekly"))
    since = models.DateTimeField()
    until = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SENDING)
    items = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "period"], name="digest_once_per_period"),
        ]
        indexes = [models.Index(fields=["member", "-until"], name="digest_member_latest")]

    def __str__(self) -> str:
        return f"digest {self.period} for {self.member_id}"
