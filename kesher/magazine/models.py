"""The brand's digital magazine: articles published in the portal, and the issues that mail them out."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class ArticleLocale(models.TextChoices):
    HEBREW = "he", _("Hebrew")
    ENGLISH = "en", _("English")


class Article(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="articles")
    locale = models.CharField(max_length=2, choices=ArticleLocale.choices, default=ArticleLocale.HEBREW)
    title = models.CharField(max_length=200)
    # Part of the article's address; Hebrew letters allowed (/magazine/cafe/קפה-של-בוקר/).
    slug = models.CharField(max_length=120)
    summary = models.CharField(max_length=300, blank=True)
    body = models.TextField(help_text=_("Markdown"))
    body_html = models.TextField(editable=False, help_text=_("The body rendered and sanitised when saved"))
    cover = models.ImageField(upload_to="magazine/", null=True, blank=True)
    interests = models.JSONField(default=list, blank=True, help_text=_("Who it is for: member interests"))
    status = models.CharField(max_length=10, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "slug"], name="article_unique_slug"),
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False),
                name="article_published_has_date",
            ),
        ]
        indexes = [models.Index(fields=["brand", "status", "-published_at"], name="article_published")]

    def __str__(self) -> str:
        return self.title


class Issue(models.Model):
    """One mailing of the magazine: the articles staff picked, in their order, and the campaign it became."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    subject = models.CharField(max_length=300)
    articles = models.JSONField(default=list, help_text=_("Article ids in the order staff picked them"))
    campaign = models.OneToOneField("campaigns.Campaign", on_delete=models.CASCADE, related_name="+")
    created_by = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.subject


class Reading(models.Model):
    """One member's reading of one article: a page view, however many beacons it sent.

    The page gives each view a reading id; beacons for the same id only raise the seconds and the depth
    kept here, and the activity (`article_read`) is recorded once, on the first beacon.
    """

    id = models.UUIDField(primary_key=True, help_text=_("The reading id the page made up"))
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="magazine_readings")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="readings")
    seconds = models.PositiveIntegerField(default=0, help_text=_("Seconds the page was visible"))
    scroll = models.PositiveSmallIntegerField(default=0, help_text=_("How far down the article, percent"))
    # What the reading has added to the member's interest weights so far (a later beacon adds the rest).
    weight = models.FloatField(default=0)
    started_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["member", "article"], name="reading_member_article")]
        constraints = [
            models.CheckConstraint(condition=Q(scroll__lte=100), name="reading_scroll_percent"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} read {self.article_id}"


class ReaderInterest(models.Model):
    """How much a member's reading says about one interest: a weight decayed with a half-life.

    `weight` is the value at `updated_at`; it is worth `weight * 0.5 ** (age / half-life)` later, so it is
    brought up to date on each reading and when read, never by a sweep over every member.
    """

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="reader_interests")
    interest = models.CharField(max_length=100)
    weight = models.FloatField(default=0)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "interest"], name="reader_interest_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.interest} {self.weight:.2f}"
