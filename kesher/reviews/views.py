"""The reviews part's pages: a product's reviews (with schema.org markup), writing one, the embeddable
widget, the gallery and posting to it; and the staff console's queue, replies and featuring.

Thin: find the brand and the person, call one selector or service, render. A refusal becomes a message on
the page it came from; what a person may not see is a plain 404."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kesher.brands.access import MODERATE, require_role, staff_membership
from kesher.brands.models import Brand, StaffMembership
from kesher.core.audit import Actor
from kesher.core.errors import KesherError, PermissionDenied
from kesher.members.models import Member
from kesher.reviews import selectors, services
from kesher.reviews.models import GalleryItem, RejectReason, Review
from kesher.reviews.services._common import rights_wording

SIGNAL_LABELS = {
    "same_text": gettext_lazy("the same text was posted by another member"),
    "new_account_burst": gettext_lazy("many new accounts reviewed this product within a day"),
    "brand_staff": gettext_lazy("the author is staff of the brand"),
    "no_purchase": gettext_lazy("no purchase of the product, which the brand asks for"),
}
REFUSALS = {
    "already_reviewed": gettext_lazy("You already reviewed this product."),
    "already_voted": gettext_lazy("You already found this review helpful."),
    "own_review": gettext_lazy("You cannot vote for your own review."),
    "already_liked": gettext_lazy("You already like this."),
    "no_rights": gettext_lazy("The member has not granted the rights to feature this."),
    "member_inactive": gettext_lazy("Your club membership is not active."),
}
SORTS = {
    "helpful": gettext_lazy("Most helpful"),
    "newest": gettext_lazy("Newest"),
    "lowest": gettext_lazy("Lowest rating"),
}


def _brand(slug: str) -> Brand:
    return get_object_or_404(Brand, slug=slug)


def _member(request: HttpRequest, brand: Brand) -> Member | None:
    if not request.user.is_authenticated:
        return None
    return Member.objects.filter(brand=brand, user_id=request.user.pk).select_related("brand").first()


def _member_or_404(request: HttpRequest, brand: Brand) -> Member:
    member = _member(request, brand)
    if member is None:
        raise Http404("Not a member of this club")
    return member


def _refused(request: HttpRequest, exc: KesherError) -> None:
    known = REFUSALS.get(exc.code)
    messages.error(
        request, str(known) if known else _("That did not work: %(reason)s") % {"reason": exc.message}
    )


def _stars(rating: dict[str, Any]) -> list[tuple[int, int, int]]:
    """(stars, count, percent) from five down to one, for the distribution bars."""
    count = rating["count"] or 0
    rows = []
    for stars in range(5, 0, -1):
        n = rating["distribution"][str(stars)]
        rows.append((stars, n, round(100 * n / count) if count else 0))
    return rows


def _json_ld(brand: Brand, sku: str, rating: dict[str, Any], reviews: list[Review]) -> str:
    """schema.org Product with AggregateRating: only for a product (never for the brand or a store
    reviewing itself), and only when it has published reviews."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": sku,
        "sku": sku,
        "brand": {"@type": "Brand", "name": brand.name},
        "aggregateRating": {
            "@type": "AggregateRating",
            "ratingValue": rating["average"],
            "reviewCount": rating["count"],
            "bestRating": 5,
            "worstRating": 1,
        },
        "review": [
            {
                "@type": "Review",
                "name": r.title,
                "reviewBody": r.body,
                "reviewRating": {"@type": "Rating", "ratingValue": r.rating, "bestRating": 5},
                "author": {"@type": "Person", "name": r.author_name or _("Anonymous")},
                "datePublished": (r.published_at or r.created_at).date().isoformat(),
            }
            for r in reviews[:5]
        ],
    }
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")


def _page_number(request: HttpRequest) -> int:
    try:
        return max(1, min(10_000, int(request.GET.get("page", "1"))))
    except ValueError:
        return 1


@require_GET
def product(request: HttpRequest, brand_slug: str, sku: str) -> HttpResponse:
    brand = _brand(brand_slug)
    sort = request.GET.get("sort", "helpful")
    sort = sort if sort in SORTS else "helpful"
    try:
        stars_filter = int(request.GET.get("rating", "")) if request.GET.get("rating") else None
    except ValueError:
        stars_filter = None
    if stars_filter is not None and not 1 <= stars_filter <= 5:
        stars_filter = None
    rating = selectors.product_rating(brand=brand, sku=sku)
    page = selectors.product_reviews(
        brand=brand, sku=sku, sort=sort, page=_page_number(request), rating=stars_filter
    )
    member = _member(request, brand)
    return render(
        request,
        "reviews/product.html",
        {
            "brand": brand,
            "sku": sku,
            "rating": rating,
            "bars": _stars(rating),
            "page": page,
            "sort": sort,
            "sorts": SORTS.items(),
            "stars_filter": stars_filter,
            "member": member,
            "own": selectors.review_of_member(brand=brand, member_id=member.pk, sku=sku) if member else None,
            "json_ld": _json_ld(brand, sku, rating, page.reviews) if rating["count"] else "",
            "gallery": selectors.gallery_public(brand=brand, sku=sku, limit=6),
        },
    )


@xframe_options_exempt
@require_GET
def widget(request: HttpRequest, brand_slug: str, sku: str) -> HttpResponse:
    """A small page a shop embeds in an iframe: the stars and the first reviews."""
    brand = _brand(brand_slug)
    rating = selectors.product_rating(brand=brand, sku=sku)
    page = selectors.product_reviews(brand=brand, sku=sku, sort="helpful", size=3)
    response = render(
        request,
        "reviews/widget.html",
        {"brand": brand, "sku": sku, "rating": rating, "reviews": page.reviews, "noindex": True},
    )
    response["Content-Security-Policy"] = "frame-ancestors *"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def write(request: HttpRequest, brand_slug: str, sku: str) -> HttpResponse:
    brand = _brand(brand_slug)
    member = _member_or_404(request, brand)
    own = selectors.review_of_member(brand=brand, member_id=member.pk, sku=sku)
    form = {"rating": "", "title": "", "body": "", "pros": "", "cons": "", "anonymous": False}
    if request.method == "POST" and own is None:
        form = {key: request.POST.get(key, "").strip() for key in ("rating", "title", "body", "pros", "cons")}
        form["anonymous"] = request.POST.get("anonymous") == "1"
        try:
            rating = int(str(form["rating"]))
        except ValueError:
            rating = 0
        try:
            review = services.review_submit(
                member=member,
                sku=sku,
                rating=rating,
                title=str(form["title"])[:200],
                body=str(form["body"])[:5000],
                pros=str(form["pros"])[:500],
                cons=str(form["cons"])[:500],
                anonymous=bool(form["anonymous"]),
            )
        except KesherError as exc:
            _refused(request, exc)
        else:
            if review.status == "published":
                messages.success(request, _("Thank you! Your review is published."))
            else:
                messages.success(request, _("Thank you! A moderator will look at your review soon."))
            return redirect("reviews:product", brand.slug, sku)
    return render(
        request, "reviews/write.html", {"brand": brand, "sku": sku, "own": own, "form": form, "noindex": True}
    )


@login_required
@require_POST
def helpful(request: HttpRequest, brand_slug: str, review_id: str) -> HttpResponse:
    brand = _brand(brand_slug)
    member = _member_or_404(request, brand)
    try:
        review = selectors.review_get(brand=brand, review_id=review_id)
    except KesherError:
        raise Http404 from None
    try:
        services.review_vote_helpful(review=review, member=member)
        messages.success(request, _("Thank you for your vote."))
    except KesherError as exc:
        _refused(request, exc)
    return redirect("reviews:product", brand.slug, review.sku or "-")


def _gallery_rows(items: list[GalleryItem]) -> list[tuple[GalleryItem, str]]:
    return [(item, default_storage.url(item.image) if item.image else "") for item in items]


@require_GET
def gallery(request: HttpRequest, brand_slug: str) -> HttpResponse:
    brand = _brand(brand_slug)
    sku = request.GET.get("sku", "").strip()[:200] or None
    return render(
        request,
        "reviews/gallery.html",
        {
            "brand": brand,
            "sku": sku,
            "featured": _gallery_rows(selectors.gallery_featured(brand=brand)),
            "items": _gallery_rows(selectors.gallery_public(brand=brand, sku=sku)),
            "member": _member(request, brand),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def gallery_post(request: HttpRequest, brand_slug: str) -> HttpResponse:
    brand = _brand(brand_slug)
    member = _member_or_404(request, brand)
    wording = rights_wording(brand, member.locale or brand.default_locale)
    if request.method == "POST":
        upload = request.FILES.get("photo")
        try:
            services.gallery_post(
                member=member,
                sku=request.POST.get("sku", ""),
                title=request.POST.get("title", ""),
                story=request.POST.get("story", "")[:3000],
                photo=upload.read() if upload else None,
                grant_rights=request.POST.get("grant_rights") == "1",
            )
        except KesherError as exc:
            _refused(request, exc)
        else:
            messages.success(request, _("Thank you! A moderator will look at it soon."))
            return redirect("reviews:gallery", brand.slug)
    return render(
        request,
        "reviews/gallery_post.html",
        {"brand": brand, "wording": wording, "sku": request.GET.get("sku", "")[:200], "noindex": True},
    )


@login_required
@require_POST
def gallery_like(request: HttpRequest, brand_slug: str, item_id: str) -> HttpResponse:
    brand = _brand(brand_slug)
    member = _member_or_404(request, brand)
    try:
        item = selectors.gallery_item_get(brand=brand, item_id=item_id)
    except KesherError:
        raise Http404 from None
    try:
        services.gallery_like(item=item, member=member)
    except KesherError as exc:
        _refused(request, exc)
    return redirect("reviews:gallery", brand.slug)


@login_required
@require_POST
def gallery_rights(request: HttpRequest, brand_slug: str, item_id: str) -> HttpResponse:
    """The author grants or withdraws the brand's right to feature their item."""
    brand = _brand(brand_slug)
    member = _member_or_404(request, brand)
    try:
        item = selectors.gallery_item_get(brand=brand, item_id=item_id, public=False)
    except KesherError:
        raise Http404 from None
    try:
        if request.POST.get("grant") == "1":
            services.rights_grant(item=item, member=member)
            messages.success(request, _("Thank you. The brand may now feature it."))
        else:
            services.rights_revoke(item=item, member=member)
            messages.success(request, _("Your permission is withdrawn."))
    except PermissionDenied:
        messages.error(request, _("Only the author can do that."))
    return redirect("reviews:gallery", brand.slug)


# --- the staff console ---------------------------------------------------------------------------


def _moderator(request: HttpRequest, brand_slug: str) -> StaffMembership:
    membership = staff_membership(user=request.user, slug=brand_slug)
    try:
        require_role(membership, MODERATE)
    except PermissionDenied:
        raise Http404("No such page") from None
    return membership


def _actor(request: HttpRequest) -> Actor:
    return Actor(user=request.user)  # type: ignore[arg-type]


@login_required
@require_GET
def console(request: HttpRequest, brand_slug: str) -> HttpResponse:
    membership = _moderator(request, brand_slug)
    brand = membership.brand
    held = [
        (review, [SIGNAL_LABELS.get(s, s) for s in review.signals])
        for review in selectors.reviews_held(brand=brand)
    ]
    return render(
        request,
        "reviews/console.html",
        {
            "brand": brand,
            "held": held,
            "recent": selectors.reviews_recent(brand=brand, limit=30),
            "gallery_held": _gallery_rows(selectors.gallery_held(brand=brand)),
            "reasons": RejectReason.choices,
            "noindex": True,
        },
    )


@login_required
@require_POST
def console_moderate(request: HttpRequest, brand_slug: str, review_id: str) -> HttpResponse:
    membership = _moderator(request, brand_slug)
    try:
        review = selectors.review_get(brand=membership.brand, review_id=review_id, public=False)
    except KesherError:
        raise Http404 from None
    try:
        services.review_moderate(
            review=review,
            actor=_actor(request),
            action=request.POST.get("action", ""),
            reason=request.POST.get("reason", ""),
        )
        messages.success(request, _("Done."))
    except KesherError as exc:
        _refused(request, exc)
    return redirect("reviews:console", membership.brand.slug)


@login_required
@require_POST
def console_reply(request: HttpRequest, brand_slug: str, review_id: str) -> HttpResponse:
    membership = _moderator(request, brand_slug)
    try:
        review = selectors.review_get(brand=membership.brand, review_id=review_id)
    except KesherError:
        raise Http404 from None
    try:
        services.review_reply(review=review, actor=_actor(request), body=request.POST.get("body", "")[:3000])
        messages.success(request, _("Your reply is published."))
    except KesherError as exc:
        _refused(request, exc)
    return redirect("reviews:console", membership.brand.slug)


@login_required
@require_GET
def console_gallery(request: HttpRequest, brand_slug: str) -> HttpResponse:
    membership = _moderator(request, brand_slug)
    brand = membership.brand
    rows = [
        (item, default_storage.url(item.image) if item.image else "", grant)
        for item, grant in selectors.gallery_staff_list(brand=brand)
    ]
    return render(request, "reviews/console_gallery.html", {"brand": brand, "rows": rows, "noindex": True})


@login_required
@require_POST
def console_gallery_moderate(request: HttpRequest, brand_slug: str, item_id: str) -> HttpResponse:
    membership = _moderator(request, brand_slug)
    try:
        item = selectors.gallery_item_get(brand=membership.brand, item_id=item_id, public=False)
    except KesherError:
        raise Http404 from None
    try:
        services.gallery_moderate(
            item=item,
            actor=_actor(request),
            action=request.POST.get("action", ""),
            reason=request.POST.get("reason", ""),
        )
        messages.success(request, _("Done."))
    except KesherError as exc:
        _refused(request, exc)
    return redirect("reviews:console", membership.brand.slug)


@login_required
@require_POST
def console_feature(request: HttpRequest, brand_slug: str, item_id: str) -> HttpResponse:
    membership = _moderator(request, brand_slug)
    try:
        item = selectors.gallery_item_get(brand=membership.brand, item_id=item_id, public=False)
    except KesherError:
        raise Http404 from None
    try:
        services.gallery_feature(
            item=item, actor=_actor(request), featured=request.POST.get("featured") != "0"
        )
        messages.success(request, _("Done."))
    except KesherError as exc:
        _refused(request, exc)
    return redirect(reverse("reviews:console_gallery", args=[membership.brand.slug]))
