"""Writing reviews: submitting one (with its authenticity signals), helpful votes, the brand's public
reply and moderation. A review is never rejected for what it thinks of the product, only for a listed
reason; points for it never depend on its rating."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from kesher.activity.models import Activity
from kesher.brands.models import Brand, StaffMembership
from kesher.core.audit import Actor, audit_record
from kesher.core.errors import Conflict, PermissionDenied, ValidationFailed
from kesher.core.events import event_emit
from kesher.members.models import Member, MemberStatus
from kesher.reviews.models import RejectReason, Review, ReviewKind, ReviewStatus, ReviewVote
from kesher.reviews.services._common import contribution_record, display_name, rollup_change, settings_of
from kesher.reviews.types import REVIEW_PUBLISHED

# Authenticity signals: a review with any of them waits for a moderator, who sees them.
SAME_TEXT = "same_text"  # another member posted the same text
# Several new accounts without a purchase reviewed this product within a day (buyers are not suspect).
NEW_ACCOUNT_BURST = "new_account_burst"
BRAND_STAFF = "brand_staff"  # the author is staff of the brand
NO_PURCHASE = "no_purchase"  # the brand asks for a purchase and there is none
SIGNALS = (SAME_TEXT, NEW_ACCOUNT_BURST, BRAND_STAFF, NO_PURCHASE)

NEW_ACCOUNT_DAYS = 7
BURST_HOURS = 24
BURST_SIZE = 5  # this many reviews of one product from new accounts without a purchase within BURST_HOURS
MIN_HASHED_TEXT = 20  # shorter texts ("Great!") are the same by chance


def text_fingerprint(body: str) -> str:
    """The text with case, punctuation and spacing folded away, hashed; empty for very short texts."""
    folded = re.sub(r"[\W_]+", " ", body.casefold()).strip()
    if len(folded) < MIN_HASHED_TEXT:
        return ""
    return hashlib.sha256(folded.encode()).hexdigest()


def purchase_verified(*, member: Member, sku: str) -> bool:
    """Whether a purchase activity of this member lists the sku among its items."""
    purchases = Activity.objects.filter(brand_id=member.brand_id, member=member, type="purchase")
    if connection.vendor == "postgresql":  # jsonb containment, answered from the member's own rows
        return purchases.filter(attributes__items__contains=[{"sku": sku}]).exists()
    return any(
        isinstance(line, dict) and line.get("sku") == sku
        for attributes in purchases.values_list("attributes", flat=True)
        for line in (attributes or {}).get("items") or []
    )


def _signals(*, member: Member, kind: str, sku: str, body_hash: str, verified: bool) -> list[str]:
    brand_id = member.brand_id
    found: list[str] = []
    if (
        body_hash
        and Review.objects.filter(brand_id=brand_id, body_hash=body_hash).exclude(member=member).exists()
    ):
        found.append(SAME_TEXT)
    now = timezone.now()
    new_since = now - timedelta(days=NEW_ACCOUNT_DAYS)
    if kind == ReviewKind.PRODUCT and not verified and member.created_at >= new_since:
        recent = Review.objects.filter(
            brand_id=brand_id,
            sku=sku,
            created_at__gte=now - timedelta(hours=BURST_HOURS),
            member__created_at__gte=new_since,
            verified_purchase=False,
        ).count()
        if recent + 1 >= BURST_SIZE:
            found.append(NEW_ACCOUNT_BURST)
    if (
        member.user_id is not None
        and StaffMembership.objects.filter(brand_id=brand_id, user_id=member.user_id).exists()
    ):
        found.append(BRAND_STAFF)
    if kind == ReviewKind.PRODUCT and settings_of(member.brand).require_purchase and not verified:
        found.append(NO_PURCHASE)
    return found


def review_submit(
    *,
    member: Member,
    rating: int,
    title: str,
    body: str,
    sku: str = "",
    subject: str = "",
    pros: str = "",
    cons: str = "",
    anonymous: bool = False,
) -> Review:
    """A member reviews a product (`sku`) or a store/branch (`subject`). Published at once unless an
    authenticity signal holds it for a moderator; a second review of the same thing is a Conflict."""
    if member.status != MemberStatus.ACTIVE:
        raise Conflict(f"The member is {member.status}", field="member_id", code="member_inactive")
    if not 1 <= rating <= 5:
        raise ValidationFailed("rating is 1 to 5", field="rating")
    sku, subject = sku.strip(), subject.strip()
    if bool(sku) == bool(subject):
        raise ValidationFailed("Review either a product (sku) or a store (store)", field="sku")
    title, body = title.strip(), body.strip()
    if not title:
        raise ValidationFailed("A title is needed", field="title")
    if not body:
        raise ValidationFailed("Say a few words", field="body")
    kind = ReviewKind.PRODUCT if sku else ReviewKind.SERVICE
    verified = kind == ReviewKind.PRODUCT and purchase_verified(member=member, sku=sku)
    body_hash = text_fingerprint(body)
    signals = _signals(member=member, kind=kind, sku=sku, body_hash=body_hash, verified=verified)
    review = Review(
        brand_id=member.brand_id,
        member=member,
        kind=kind,
        sku=sku,
        subject=subject,
        rating=rating,
        title=title,
        body=body,
        pros=pros.strip(),
        cons=cons.strip(),
        anonymous=anonymous,
        author_name=display_name(member, anonymous),
        locale=member.locale,
        status=ReviewStatus.HELD if signals else ReviewStatus.PUBLISHED,
        signals=signals,
        body_hash=body_hash,
        verified_purchase=verified,
    )
    with transaction.atomic():
        try:
            with transaction.atomic():
                review.save(force_insert=True)
        except IntegrityError:
            raise Conflict(
                "This member already reviewed it; edit that review instead",
                field="sku",
                code="already_reviewed",
            ) from None
        if review.status == ReviewStatus.PUBLISHED:
            _publish(review, member)
    return review


def _publish(review: Review, member: Member | None) -> None:
    """Count a review that has just become published, award its points and announce it."""
    review.status = ReviewStatus.PUBLISHED
    review.published_at = timezone.now()
    rollup_change(review, +1)
    if member is not None:
        activity = contribution_record(
            member=member,
            type="review_published",
            key=f"review_published:{review.pk}",
            attributes={
                "review_id": str(review.pk),
                "sku": review.sku,
                "rating": review.rating,
                "verified_purchase": review.verified_purchase,
            },
        )
        review.points_awarded = activity.points_awarded
    Review.objects.filter(pk=review.pk).update(
        status=review.status, published_at=review.published_at, points_awarded=review.points_awarded
    )
    event_emit(
        brand_id=review.brand_id,
        type=REVIEW_PUBLISHED,
        data={
            "review_id": str(review.pk),
            "member_id": str(member.pk) if member is not None else None,
            "sku": review.sku,
            "subject": review.subject,
            "rating": review.rating,
            "verified_purchase": review.verified_purchase,
        },
    )


def review_vote_helpful(*, review: Review, member: Member) -> ReviewVote:
    """One helpful vote per member; the author's `review_helpful` activity goes with it."""
    if member.brand_id != review.brand_id:
        raise PermissionDenied("Not a member of this brand", code="not_a_member")
    if review.status != ReviewStatus.PUBLISHED:
        raise Conflict("Only published reviews take votes", code="review_not_published")
    if review.member_id == member.pk:
        raise Conflict("You cannot vote for your own review", code="own_review")
    with transaction.atomic():
        try:
            with transaction.atomic():
                vote = ReviewVote.objects.create(brand_id=review.brand_id, review=review, member=member)
        except IntegrityError:
            raise Conflict("This member already found it helpful", code="already_voted") from None
        Review.objects.filter(pk=review.pk).update(helpful_count=F("helpful_count") + 1)
        author = review.member
        if author is not None and author.status == MemberStatus.ACTIVE:
            contribution_record(
                member=author,
                type="review_helpful",
                key=f"review_helpful:{vote.pk}",
                attributes={"review_id": str(review.pk)},
            )
    review.helpful_count += 1
    return vote


def review_reply(*, review: Review, actor: Actor, body: str) -> Review:
    """The brand's public answer under a review (one; a new one replaces it), audited."""
    body = body.strip()
    if not body:
        raise ValidationFailed("The reply is empty", field="body")
    with transaction.atomic():
        before = review.reply_body
        review.reply_body = body
        review.reply_at = timezone.now()
        review.reply_by = actor.user  # type: ignore[assignment]
        review.save(update_fields=["reply_body", "reply_at", "reply_by"])
        audit_record(
            brand=_brand(review),
            actor=actor,
            action="review.reply",
            target_type="review",
            target_id=review.pk,
            data={"before": before, "after": body},
        )
    return review


def _brand(review: Review) -> Brand:
    return review.brand


def review_moderate(*, review: Review, actor: Actor, action: str, reason: str = "") -> Review:
    """Approve a held review, or reject one for a listed reason (never for being negative); audited."""
    with transaction.atomic():
        locked = (
            Review.objects.select_for_update(of=("self",))
            .select_related("member__brand", "brand")
            .get(pk=review.pk)
        )
        before = locked.status
        if action == "approve":
            if locked.status == ReviewStatus.PUBLISHED:
                raise Conflict("The review is already published", code="already_published")
            locked.reject_reason = ""
            locked.moderated_at = timezone.now()
            locked.save(update_fields=["reject_reason", "moderated_at"])
            _publish(locked, locked.member)
        elif action == "reject":
            if reason not in RejectReason.values:
                raise ValidationFailed(
                    f"reason must be one of {', '.join(RejectReason.values)}",
                    field="reason",
                    code="reason_not_listed",
                )
            if locked.status == ReviewStatus.REJECTED:
                raise Conflict("The review is already rejected", code="already_rejected")
            if locked.status == ReviewStatus.PUBLISHED:
                rollup_change(locked, -1)
            locked.status = ReviewStatus.REJECTED
            locked.reject_reason = reason
            locked.moderated_at = timezone.now()
            locked.save(update_fields=["status", "reject_reason", "moderated_at"])
        else:
            raise ValidationFailed("action is approve or reject", field="action")
        audit_record(
            brand=locked.brand,
            actor=actor,
            action=f"review.{action}",
            target_type="review",
            target_id=locked.pk,
            data={"before": before, "after": locked.status, "reason": reason, "signals": locked.signals},
        )
    return locked
