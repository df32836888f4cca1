"""Pages: the landing page, the member portal, the cashier's counter and the health check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from kesher.brands.models import Brand
from kesher.brands.selectors import staff_brands
from kesher.core.audit import Actor
from kesher.core.errors import KesherError, NotFound, ValidationFailed
from kesher.loyalty import selectors as loyalty
from kesher.loyalty.models import Coupon, Reward
from kesher.loyalty.services import coupon_redeem
from kesher.members.models import Member
from kesher.members.selectors import member_find, member_get
from kesher.web.wording import HistoryLine, history_line


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/home.html")


# --- the member portal --------------------------------------------------------------------------


def _qr_svg(text: str, *, scale: int) -> SafeString:
    # segno draws the SVG itself from a card number or coupon code: no user-typed markup can get in.
    return mark_safe(segno.make(text, micro=False).svg_inline(scale=scale, dark="#111827", light="#ffffff"))


@dataclass(frozen=True)
class RewardView:
    reward: Reward
    affordable: bool
    missing: int
    progress: int  # percent of the cost the balance covers, 0..100


@dataclass(frozen=True)
class CouponView:
    coupon: Coupon
    qr: SafeString


@login_required
def portal(request: HttpRequest) -> HttpResponse:
    user_id = int(request.user.pk or 0)  # login_required: never anonymous here
    memberships = list(
        Member.objects.filter(user_id=user_id)
        .exclude(status="erased")
        .select_related("brand")
        .order_by("brand__name")
    )
    cards = []
    now = timezone.now()
    for member in memberships:
        points = loyalty.points_summary(member=member)
        history: list[HistoryLine] = [
            history_line(entry) for entry in loyalty.ledger_page(member=member, limit=10).entries
        ]
        rewards = [
            RewardView(
                reward=reward,
                affordable=points.balance >= reward.cost_points,
                missing=max(reward.cost_points - points.balance, 0),
                progress=min(100, points.balance * 100 // max(reward.cost_points, 1)),
            )
            for reward in loyalty.rewards_available(brand=member.brand, member=member)[:6]
        ]
        wallet = [
            CouponView(coupon=coupon, qr=_qr_svg(coupon.code, scale=3))
            for coupon in loyalty.coupon_wallet(member=member)
            if coupon.status == Coupon.Status.ISSUED and coupon.expires_at > now
        ]
        cards.append(
            {
                "member": member,
                "qr": _qr_svg(member.card_number, scale=4),
                "points": points,
                "history": history,
                "rewards": rewards,
                "wallet": wallet,
            }
        )
    return render(request, "web/portal.html", {"cards": cards})


# --- the cashier's counter ----------------------------------------------------------------------

# What a cashier reads when a coupon cannot be used; the services' own messages are for integrators.
COUPON_REFUSALS = {
    "coupon_not_found": gettext_lazy("No coupon with this code in this club."),
    "coupon_used": gettext_lazy("This coupon was already used."),
    "coupon_expired": gettext_lazy("This coupon has expired."),
    "coupon_code_missing": gettext_lazy("Type the coupon's code."),
}


def _signed_in(request: HttpRequest) -> AbstractBaseUser:
    user = request.user
    if isinstance(user, AnonymousUser):  # login_required stands before every caller; this is for types
        raise PermissionDenied
    return user


def _cashier_brand(request: HttpRequest, slug: str | None) -> tuple[Brand, list[Brand]]:
    """The brand the cashier works in: one they are staff of. Another brand is not found, not forbidden,
    so the page does not tell which brands exist."""
    brands = [membership.brand for membership in staff_brands(user=_signed_in(request))]
    if not brands:
        raise PermissionDenied
    if not slug:
        return brands[0], brands
    for brand in brands:
        if brand.slug == slug:
            return brand, brands
    raise Http404


def _member_panel(member: Member) -> dict[str, Any]:
    now = timezone.now()
    return {
        "member": member,
        "points": loyalty.points_summary(member=member),
        "coupons": [
            coupon
            for coupon in loyalty.coupon_wallet(member=member)
            if coupon.status == Coupon.Status.ISSUED and coupon.expires_at > now
        ],
    }


@login_required
@require_http_methods(["GET", "POST"])
def cashier(request: HttpRequest) -> HttpResponse:
    """Find a member by phone, card or email; see the balance; burn a coupon by its code."""
    params = request.POST if request.method == "POST" else request.GET
    brand, brands = _cashier_brand(request, params.get("brand"))
    query = (request.GET.get("q") or "").strip()
    context: dict[str, Any] = {"brand": brand, "brands": brands, "query": query, "results": [], "panel": None}
    status = 200

    if request.method == "POST":
        code = (request.POST.get("code") or "").strip()
        try:
            if not code:
                raise ValidationFailed("Type the coupon's code", field="code", code="coupon_code_missing")
            coupon = coupon_redeem(brand=brand, code=code, actor=Actor(user=_signed_in(request)))
        except KesherError as refusal:
            context["code"] = code
            context["refusal"] = str(COUPON_REFUSALS.get(refusal.code, refusal.message))
            status = refusal.status
        else:
            messages.success(
                request,
                _("Coupon %(code)s used: %(reward)s for %(name)s.")
                % {"code": coupon.code, "reward": coupon.reward.name, "name": coupon.member},
            )
            # Post, redirect, get: a reload shows the member again and cannot burn twice.
            back = urlencode({"brand": brand.slug, "member": str(coupon.member_id)})
            return HttpResponseRedirect(f"{reverse('cashier')}?{back}", status=303)
        member_id = request.POST.get("member")
    else:
        member_id = request.GET.get("member")

    if member_id:
        try:
            context["panel"] = _member_panel(member_get(brand=brand, member_id=member_id))
        except NotFound:
            raise Http404 from None
    elif query:
        results = member_find(brand=brand, query=query)
        context["results"] = results
        if len(results) == 1:
            context["panel"] = _member_panel(results[0])
        elif not results:
            status = 404
    return render(request, "web/cashier.html", context, status=status)


# --- operations ---------------------------------------------------------------------------------


def healthz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # a health check reports, it does not raise
        checks["database"] = f"error: {exc.__class__.__name__}"
    if settings.BROKER_URL:
        from config.celery import app

        try:
            with app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
            checks["broker"] = "ok"
        except Exception as exc:
            checks["broker"] = f"error: {exc.__class__.__name__}"
    else:
        checks["broker"] = "in-process"
    healthy = all(value in ("ok", "in-process") for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "degraded", **checks}, status=200 if healthy else 503)
