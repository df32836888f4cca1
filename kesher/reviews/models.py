"""Reviews of products and service with their votes, replies and per-product rollups; the members' gallery
of photos and stories with likes and the rights grants that let a brand feature them; review requests."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ReviewSettings(models.Model):
    """A brand's review rules. Absent means the defaults below."""

    brand = models.OneToOneField("brands.Brand", on_delete=models.CASCADE, related_name="review_settings")
    # A review without a purchase of the product is held for a moderator (never rejected for it).
    require_purchase = models.BooleanField(default=False)
    # Days after a purchase to ask for a review of each product bought; 0 asks for none.
    request_after_days = models.PositiveSmallIntegerField(default=7)
    # The exact words a member agrees to when letting the brand feature a photo or story.
    rights_wording = models.TextField(blank=True, default="")

    def __str__(self) -> str:
        return f"review settings of {self.brand_id}"


class ReviewStatus(models.TextChoices):
    PUBLISHED = "published", _("Published")
    HELD = "held", _("Held for review")
    REJECTED = "rejected", _("Rejected")


class RejectReason(models.TextChoices):
    """The only reasons a review or gallery item may be rejected. Being negative is not one of them."""

    ABUSE = "abuse", _("Abusive language")
    PERSONAL_DATA = "personal_data", _("Personal data")
    OFF_TOPIC = "off_topic", _("Off topic")
    SPAM = "spam", _("Spam")


class ReviewKind(models.TextChoices):
    PRODUCT = "product", _("Product")
    SERVICE = "service", _("Service")  # a store, a branch, a stay: never marked up as AggregateRating


class Review(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+", db_index=False)
    # Null once the author is erased: the rating stays in the statistics, the person does not.
    member = models.ForeignKey(
        "members.Member", on_delete=models.SET_NULL, null=True, blank=True, related_name="reviews"
    )
    kind = models.CharField(max_length=10, choices=ReviewKind.choices, default=ReviewKind.PRODUCT)
    sku = models.CharField(max_length=200, blank=True, default="")  # products
    subject = models.CharField(max_length=200, blank=True, default="")  # service: the store or branch
    rating = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField(max_length=5000)
    pros = models.CharField(max_length=500, blank=True, default="")
    cons = models.CharField(max_length=500, blank=True, default="")
    anonymous = models.BooleanField(default=False)
    author_name = models.CharField(max_length=120, blank=True, default="")  # as shown, kept on the row
    locale = models.CharField(max_length=5, blank=True, default="")
    status = models.CharField(max_length=10, choices=ReviewStatus.choices)
    signals = models.JSONField(default=list, blank=True)  # authenticity signals found at submission
    body_hash = models.CharField(max_length=64, blank=True, default="", db_index=False)
    reject_reason = models.CharField(max_length=20, choices=RejectReason.choices, blank=True, default="")
    verified_purchase = models.BooleanField(default=False)
    # Set when the member got points for publishing it: the review then says so.
    points_awarded = models.IntegerField(default=0)
    helpful_count = models.IntegerField(default=0)
    reply_body = models.TextField(max_length=3000, blank=True, default="")
    reply_at = models.DateTimeField(null=True, blank=True)
    reply_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    moderated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="review_rating_1_to_5"),
            # One review per member per product (or per store): a second is a 409, even when concurrent.
            models.UniqueConstraint(
                fields=["brand", "member", "sku"],
                condition=Q(kind="product", member__isnull=False),
                name="review_one_per_member_sku",
            ),
            models.UniqueConstraint(
                fields=["brand", "member", "subject"],
                condition=Q(kind="service", member__isnull=False),
                name="review_one_per_member_subject",
            ),
        ]
        indexes = [
            # The product page: published reviews of a sku, newest first, most helpful, lowest.
            models.Index(fields=["brand", "sku", "status", "-created_at"], name="review_sku_newest"),
            models.Index(fields=["brand", "sku", "status", "-helpful_count"], name="review_sku_helpful"),
            models.Index(fields=["brand", "sku", "status", "rating"], name="review_sku_rating"),
            models.Index(fields=["brand", "status", "created_at"], name="review_queue"),
            models.Index(fields=["brand", "body_hash"], name="review_body_hash"),
        ]

    def __str__(self) -> str:
        return f"{self.rating}★ {self.sku or self.subject}: {self.title}"

    @property
    def incentivised(self) -> bool:
        return self.points_awarded > 0


class ReviewVote(models.Model):
    """A member found a review helpful: one vote per member per review."""

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+", db_index=False)
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="votes")
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="review_votes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["review", "member"], name="review_vote_once")]

    def __str__(self) -> str:
        return f"vote {self.member_id} on {self.review_id}"


class ProductRating(models.Model):
    """The published reviews of one product summed up, kept in the transaction that changes them."""

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+", db_index=False)
    sku = models.CharField(max_length=200)
    count = models.BigIntegerField(default=0)
    total = models.BigIntegerField(default=0)  # the sum of the ratings
    stars_1 = models.BigIntegerField(default=0)
    stars_2 = models.BigIntegerField(default=0)
    stars_3 = models.BigIntegerField(default=0)
    stars_4 = models.BigIntegerField(default=0)
    stars_5 = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["brand", "sku"], name="product_rating_unique")]

    def __str__(self) -> str:
        return f"{self.sku}: {self.count}"


class ReviewRequest(models.Model):
    """Asking a buyer for a review of one product: once per product per member, whatever they thought."""

    class Status(models.TextChoices):
        DUE = "due", _("Due")
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("Skipped")  # no address, or the member already reviewed it
        FAILED = "failed", _("Failed")

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+", db_index=False)
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="review_requests")
    sku = models.CharField(max_length=200)
    purchase_id = models.UUIDField()
    purchased_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DUE)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "member", "sku"], name="review_request_once"),
        ]

    def __str__(self) -> str:
        return f"request {self.member_id} {self.sku}"


class GalleryItem(models.Model):
    class Kind(models.TextChoices):
        PHOTO = "photo", _("Photo")
        STORY = "story", _("Story")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+", db_index=False)
    member = models.ForeignKey(
        "members.Member", on_delete=models.SET_NULL, null=True, blank=True, related_name="gallery_items"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    sku = models.CharField(max_length=200, blank=True, default="")
    title = models.CharField(max_length=200, blank=True, default="")
    story = models.TextField(max_length=3000, blank=True, default="")
    image = models.CharField(max_length=300, blank=True, default="")  # the storage name
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=ReviewStatus.choices)
    reject_reason = models.CharField(max_length=20, choices=RejectReason.choices, blank=True, default="")
    like_count = models.IntegerField(default=0)
    featured = models.BooleanField(default=False)
    featured_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["brand", "status", "-created_at"], name="gallery_newest"),
            models.Index(fields=["brand", "sku", "status"], name="gallery_sku"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk}"


class GalleryLike(models.Model):
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+", db_index=False)
    item = models.ForeignKey(GalleryItem, on_delete=models.CASCADE, related_name="likes")
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="gallery_likes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "member"], name="gallery_like_once")]

    def __str__(self) -> str:
        return f"like {self.member_id} on {self.item_id}"


class RightsGrant(models.Model):
    """The member's permission for the brand to feature an item: who granted what, when, in which words."""

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+", db_index=False)
    item = models.ForeignKey(GalleryItem, on_delete=models.CASCADE, related_name="rights")
    member = models.ForeignKey(
        "members.Member", on_delete=models.SET_NULL, null=True, blank=True, related_name="rights_grants"
    )
    wording = models.TextField()  # the exact text the member agreed to
    locale = models.CharField(max_length=5, blank=True, default="")
    granted_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"rights on {self.item_id} at {self.granted_at}"
