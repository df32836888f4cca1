"""A member's reviews, votes, gallery items, likes and grants in the privacy rights and in merging
duplicates (registered into kesher/members/hooks.py from ReviewsConfig.ready())."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, F, QuerySet
from django.db.models.expressions import CombinedExpression

from kesher.members.merging import MergeRecord, Step
from kesher.members.models import Member
from kesher.reviews.models import (
    GalleryItem,
    GalleryLike,
    ProductRating,
    Review,
    ReviewKind,
    ReviewRequest,
    ReviewStatus,
    ReviewVote,
    RightsGrant,
)


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


def members_reviews_merge(*, source: Member, target: Member) -> list[Step]:
    """Move the duplicate's rows to the kept member. Where both reviewed one product (or store) the newer
    review goes to the kept member and the older stays with the duplicate, rejected and out of the
    statistics; a vote or like both gave counts once (the duplicate's stays with it, the count falls); a
    review request for a product the kept member was already asked about stays with the duplicate."""
    record = MergeRecord()
    src, dst = source.pk, target.pk
    with transaction.atomic():
        left: list[object] = []
        given: list[Review] = []
        for review in Review.objects.filter(brand_id=source.brand_id, member=source).select_for_update():
            other = Review.objects.filter(
                brand_id=target.brand_id,
                member=target,
                kind=review.kind,
                sku=review.sku,
                subject=review.subject,
            ).first()
            if other is None:
                continue
            older = review if review.created_at <= other.created_at else other
            if older.status == ReviewStatus.PUBLISHED:
                _rollup_off(record, older)
            record.change(older, status=ReviewStatus.REJECTED)
            if older is other:
                given.append(other)
            else:
                left.append(older.pk)
        # The kept member's older reviews go over to the duplicate, through no one (one review a member
        # and product at every moment): the unique constraints hold only rows with a member.
        for review in given:
            record.move(Review.objects.filter(pk=review.pk), "member_id", old=dst, new=None)
            review.member_id = None
        theirs = Review.objects.filter(brand_id=source.brand_id, member=source).exclude(pk__in=left)
        record.move(theirs, "member_id", old=src, new=dst)
        for review in given:
            record.change(review, member_id=src)
        votes = ReviewVote.objects.filter(member=source)
        twice = votes.filter(review__member=target) | votes.filter(
            review_id__in=ReviewVote.objects.filter(member=target).values("review_id")
        )
        stays = list(twice.values_list("pk", "review_id"))
        for _pk, review_id in stays:
            record.add(Review, review_id, helpful_count=-1)
        record.move(
            votes.exclude(pk__in=[pk for pk, _ in stays]),
            "member_id",
            old=src,
            new=dst,
            unique=("review_id",),
        )
        liked = GalleryLike.objects.filter(member=target).values("item_id")
        for item_id in GalleryLike.objects.filter(member=source, item_id__in=liked).values_list(
            "item_id", flat=True
        ):
            record.add(GalleryItem, item_id, like_count=-1)
        record.move(
            GalleryLike.objects.filter(member=source), "member_id", old=src, new=dst, unique=("item_id",)
        )
        for model in (GalleryItem, RightsGrant):
            record.move(model.objects.filter(member=source), "member_id", old=src, new=dst)
        record.move(
            ReviewRequest.objects.filter(member=source), "member_id", old=src, new=dst, unique=("sku",)
        )
    return record.steps


def _rollup_off(record: MergeRecord, review: Review) -> None:
    """`rollup_change(review, -1)` written through the record (an undo adds the rating back)."""
    if review.kind != ReviewKind.PRODUCT:
        return
    rollup = ProductRating.objects.get(brand_id=review.brand_id, sku=review.sku)
    record.add(ProductRating, rollup.pk, count=-1, total=-review.rating, **{f"stars_{review.rating}": -1})
