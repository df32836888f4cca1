"""The members' gallery: photos and short stories tagged to products, moderated before they show, liked
by members, and featured by the brand only under a rights grant the member gave in recorded words."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from kesher.core.audit import Actor, audit_record
from kesher.core.errors import Conflict, PermissionDenied, ValidationFailed
from kesher.core.images import image_store
from kesher.members.models import Member, MemberStatus
from kesher.reviews.models import GalleryItem, GalleryLike, RejectReason, ReviewStatus, RightsGrant
from kesher.reviews.services._common import contribution_record, rights_wording

GALLERY_FOLDER = "gallery"


def gallery_post(
    *,
    member: Member,
    sku: str = "",
    title: str = "",
    story: str = "",
    photo: bytes | None = None,
    grant_rights: bool = False,
) -> GalleryItem:
    """A member posts a photo (with an optional caption) or a story. It waits for a moderator. The photo
    is stored upright, bounded and without metadata (no GPS). `grant_rights` records the brand's current
    rights wording as agreed to now."""
    if member.status != MemberStatus.ACTIVE:
        raise Conflict(f"The member is {member.status}", field="member_id", code="member_inactive")
    title, story, sku = title.strip()[:200], story.strip(), sku.strip()[:200]
    if photo is None and not story:
        raise ValidationFailed("Add a photo or tell your story", field="story")
    stored = (
        image_store(photo, folder=f"{GALLERY_FOLDER}/{member.brand.slug}", field="photo") if photo else None
    )
    with transaction.atomic():
        item = GalleryItem.objects.create(
            brand_id=member.brand_id,
            member=member,
            kind=GalleryItem.Kind.PHOTO if stored else GalleryItem.Kind.STORY,
            sku=sku,
            title=title,
            story=story,
            image=stored.name if stored else "",
            width=stored.width if stored else 0,
            height=stored.height if stored else 0,
            status=ReviewStatus.HELD,
        )
        if grant_rights:
            rights_grant(item=item, member=member)
    return item


def rights_grant(*, item: GalleryItem, member: Member) -> RightsGrant:
    """The author lets the brand feature the item, in the brand's wording in their language, now."""
    if item.member_id != member.pk:
        raise PermissionDenied("Only the author grants rights to their item", code="not_the_author")
    locale = member.locale or member.brand.default_locale
    return RightsGrant.objects.create(
        brand_id=item.brand_id,
        item=item,
        member=member,
        wording=rights_wording(member.brand, locale),
        locale=locale,
        granted_at=timezone.now(),
    )


def rights_revoke(*, item: GalleryItem, member: Member) -> int:
    """The author takes the permission back: the item stops being featured at once."""
    if item.member_id != member.pk:
        raise PermissionDenied("Only the author withdraws their rights", code="not_the_author")
    with transaction.atomic():
        revoked = RightsGrant.objects.filter(item=item, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        GalleryItem.objects.filter(pk=item.pk).update(featured=False, featured_at=None)
    return revoked


def gallery_moderate(*, item: GalleryItem, actor: Actor, action: str, reason: str = "") -> GalleryItem:
    """Approve (publish) or reject an item for a listed reason; audited. Publishing records photo_posted."""
    with transaction.atomic():
        locked = (
            GalleryItem.objects.select_for_update(of=("self",))
            .select_related("member__brand", "brand")
            .get(pk=item.pk)
        )
        before = locked.status
        if action == "approve":
            if locked.status == ReviewStatus.PUBLISHED:
                raise Conflict("The item is already published", code="already_published")
            locked.status, locked.reject_reason = ReviewStatus.PUBLISHED, ""
            locked.save(update_fields=["status", "reject_reason"])
            if locked.member is not None and locked.member.status == MemberStatus.ACTIVE:
                attributes: dict[str, str] = {"item_id": str(locked.pk)}
                if locked.sku:
                    attributes["sku"] = locked.sku
                contribution_record(
                    member=locked.member,
                    type="photo_posted",
                    key=f"photo_posted:{locked.pk}",
                    attributes=attributes,
                )
        elif action == "reject":
            if reason not in RejectReason.values:
                raise ValidationFailed(
                    f"reason must be one of {', '.join(RejectReason.values)}",
                    field="reason",
                    code="reason_not_listed",
                )
            locked.status, locked.reject_reason = ReviewStatus.REJECTED, reason
            locked.featured, locked.featured_at = False, None
            locked.save(update_fields=["status", "reject_reason", "featured", "featured_at"])
        else:
            raise ValidationFailed("action is approve or reject", field="action")
        audit_record(
            brand=locked.brand,
            actor=actor,
            action=f"gallery.{action}",
            target_type="gallery_item",
            target_id=locked.pk,
            data={"before": before, "after": locked.status, "reason": reason},
        )
    return locked


def gallery_feature(*, item: GalleryItem, actor: Actor, featured: bool = True) -> GalleryItem:
    """Feature a published item: only with a rights grant in force. Audited with the grant it rests on."""
    with transaction.atomic():
        locked = GalleryItem.objects.select_for_update(of=("self",)).select_related("brand").get(pk=item.pk)
        grant = (
            RightsGrant.objects.filter(item=locked, revoked_at__isnull=True).order_by("-granted_at").first()
        )
        if featured:
            if locked.status != ReviewStatus.PUBLISHED:
                raise Conflict("Only published items can be featured", code="not_published")
            if grant is None:
                raise Conflict("The member has not granted the rights to feature this", code="no_rights")
        locked.featured = featured
        locked.featured_at = timezone.now() if featured else None
        locked.save(update_fields=["featured", "featured_at"])
        audit_record(
            brand=locked.brand,
            actor=actor,
            action="gallery.feature" if featured else "gallery.unfeature",
            target_type="gallery_item",
            target_id=locked.pk,
            data={
                "rights_grant": grant.pk if grant else None,
                "wording": grant.wording if grant else "",
                "granted_at": grant.granted_at.isoformat() if grant else None,
            },
        )
    return locked


def gallery_like(*, item: GalleryItem, member: Member) -> GalleryLike:
    if member.brand_id != item.brand_id:
        raise PermissionDenied("Not a member of this brand", code="not_a_member")
    if item.status != ReviewStatus.PUBLISHED:
        raise Conflict("Only published items take likes", code="not_published")
    with transaction.atomic():
        try:
            with transaction.atomic():
                like = GalleryLike.objects.create(brand_id=item.brand_id, item=item, member=member)
        except IntegrityError:
            raise Conflict("Already liked", code="already_liked") from None
        GalleryItem.objects.filter(pk=item.pk).update(like_count=F("like_count") + 1)
    return like
