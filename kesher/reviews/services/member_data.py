"""A member's reviews, votes, gallery items, likes and grants in the privacy rights and in merging
duplicates (registered into kesher/members/hooks.py from ReviewsConfig.ready())."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, F, QuerySet
from django.db.models.expressions import CombinedExpression

from kesher.members.models import Member
from kesher.reviews.models import (
    GalleryItem,
    GalleryLike,
    Review,
    ReviewRequest,
    ReviewStatus,
    ReviewVote,
    RightsGrant,
)
from kesher.reviews.services._common import rollup_change


def member_reviews_export(*, member: Member) -> dict[str, object]:
    return {
        "reviews": [
            {
                "id": str(r.pk),
                "sku": r.sku,
                "store": r.subject,
                "rating": r.rating,
                "title": r.title,
                "body": r.body,
                "pros": r.pros,
                "cons": r.cons,
                "anonymous": r.anonymous,
                "status": r.status,
                "created_at": r.created_at.isoformat(),
            }
            for r in Review.objects.filter(brand_id=member.brand_id, member=member).order_by("created_at")
        ],
        "helpful_votes": [
            str(review_id)
            for review_id in ReviewVote.objects.filter(member=member).values_list("review_id", flat=True)
        ],
        "gallery": [
            {
                "id": str(g.pk),
                "kind": g.kind,
                "sku": g.sku,
                "title": g.title,
                "story": g.story,
                "image": g.image,
                "status": g.status,
                "created_at": g.created_at.isoformat(),
            }
            for g in GalleryItem.objects.filter(brand_id=member.brand_id, member=member).order_by(
                "created_at"
            )
        ],
        "gallery_likes": [
            str(i) for i in GalleryLike.objects.filter(member=member).values_list("item_id", flat=True)
        ],
        "rights_grants": [
            {
                "item_id": str(g.item_id),
                "wording": g.wording,
                "granted_at": g.granted_at.isoformat(),
                "revoked_at": g.revoked_at.isoformat() if g.revoked_at else None,
            }
            for g in RightsGrant.objects.filter(member=member)
        ],
        "review_requests": [
            {"sku": r.sku, "status": r.status, "sent_at": r.sent_at.isoformat() if r.sent_at else None}
            for r in ReviewRequest.objects.filter(member=member)
        ],
    }


def member_reviews_erase(*, member: Member) -> None:
    """Reviews stay as anonymous ratings (the statistics are kept); their words, the photos and stories,
    votes and likes go. Counters drop by the member's votes and likes."""
    with transaction.atomic():
        Review.objects.filter(brand_id=member.brand_id, member=member).update(
            member=None, anonymous=True, author_name="", title="", body="", pros="", cons="", body_hash=""
        )
        _uncount_votes(ReviewVote.objects.filter(member=member))
        for like in GalleryLike.objects.filter(member=member).values("item_id").annotate(n=Count("pk")):
            GalleryItem.objects.filter(pk=like["item_id"]).update(like_count=_minus("like_count", like["n"]))
        GalleryLike.objects.filter(member=member).delete()
        RightsGrant.objects.filter(member=member).delete()
        GalleryItem.objects.filter(brand_id=member.brand_id, member=member).delete()
        ReviewRequest.objects.filter(member=member).delete()


def _minus(column: str, n: int) -> CombinedExpression:
    return F(column) - n


def _uncount_votes(votes: QuerySet[ReviewVote]) -> None:
    for row in votes.values("review_id").annotate(n=Count("pk")):
        Review.objects.filter(pk=row["review_id"]).update(helpful_count=_minus("helpful_count", row["n"]))
    votes.delete()


def members_reviews_merge(*, source: Member, target: Member) -> None:
    """Move the duplicate's rows to the kept member. Where both reviewed one product (or store) the newer
    review stays and the older leaves the statistics; a vote or like both gave counts once."""
    with transaction.atomic():
        theirs = Review.objects.filter(brand_id=source.brand_id, member=source)
        for review in theirs.select_for_update():
            other = Review.objects.filter(
                brand_id=target.brand_id,
                member=target,
                kind=review.kind,
                sku=review.sku,
                subject=review.subject,
            ).first()
            if other is None:
                continue
            older, newer = (review, other) if review.created_at <= other.created_at else (other, review)
            if older.status == ReviewStatus.PUBLISHED:
                rollup_change(older, -1)
            older.delete()
        theirs.update(member=target)
        own_reviews = Review.objects.filter(member=target).values_list("pk", flat=True)
        _uncount_votes(ReviewVote.objects.filter(member=source, review_id__in=list(own_reviews)))
        twice = ReviewVote.objects.filter(member=target).values_list("review_id", flat=True)
        _uncount_votes(ReviewVote.objects.filter(member=source, review_id__in=list(twice)))
        ReviewVote.objects.filter(member=source).update(member=target)
        liked = list(GalleryLike.objects.filter(member=target).values_list("item_id", flat=True))
        for like in GalleryLike.objects.filter(member=source, item_id__in=liked):
            GalleryItem.objects.filter(pk=like.item_id).update(like_count=_minus("like_count", 1))
            like.delete()
        GalleryLike.objects.filter(member=source).update(member=target)
        GalleryItem.objects.filter(member=source).update(member=target)
        RightsGrant.objects.filter(member=source).update(member=target)
        asked = list(ReviewRequest.objects.filter(member=target).values_list("sku", flat=True))
        ReviewRequest.objects.filter(member=source, sku__in=asked).delete()
        ReviewRequest.objects.filter(member=source).update(member=target)
