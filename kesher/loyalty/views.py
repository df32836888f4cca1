"""The loyalty console for brand staff: overview with the points liability, rules, rewards, tiers,
a member's ledger with adjustments, and the referral review queue."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kesher.brands.access import ADJUST_POINTS, CHANGE_PROGRAM, require_role, staff_membership
from kesher.brands.models import Brand
from kesher.core.audit import Actor
from kesher.core.errors import KesherError
from kesher.loyalty import selectors, services
from kesher.loyalty.forms import AdjustForm, EarningRuleForm, RewardForm, TierForm
from kesher.loyalty.models import EarningRule, Referral, Reward, Tier
from kesher.members.selectors import member_find, member_get


def _actor(request: HttpRequest) -> Actor:
    return Actor(user=request.user)  # type: ignore[arg-type]


def _apply(request: HttpRequest, form: forms.Form, action: Any, done: str) -> bool:
    """Run a service for a valid form; show its refusal on the form's field."""
    if not form.is_valid():
        return False
    try:
        action(form.cleaned_data)
    except KesherError as refusal:
        field = refusal.field if refusal.field in form.fields else None
        form.add_error(field, refusal.message)
        return False
    messages.success(request, done)
    return True


def _chart(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    top = max((row["points"] for row in rows), default=0) or 1
    return [{**row, "height": round(100 * row["points"] / top)} for row in rows]


@login_required
def overview(request: HttpRequest, slug: str) -> HttpResponse:
    membership = staff_membership(user=request.user, slug=slug)
    brand = membership.brand
    report = services.points_liability(brand=brand)
    return render(
        request,
        "loyalty/overview.html",
        {
            "brand": brand,
            "membership": membership,
            "report": report,
            "chart": _chart(report["by_expiry_month"]),
            "program": services.program_of(brand.pk),
            "review_count": Referral.objects.filter(brand=brand, status=Referral.Status.REVIEW).count(),
        },
    )


def _catalog_page(
    request: HttpRequest,
    slug: str,
    *,
    form_class: type[forms.Form],
    create: Callable[..., Any],
    done: str,
    template: str,
    rows: Callable[[Brand], Any],
) -> HttpResponse:
    """A list of the brand's rules, rewards or tiers with a form that adds one (owners and marketers)."""
    membership = staff_membership(user=request.user, slug=slug)
    brand = membership.brand
    form = form_class(request.POST or None)
    if request.method == "POST":
        require_role(membership, CHANGE_PROGRAM)
        if _apply(request, form, lambda data: create(brand=brand, actor=_actor(request), **data), done):
            return HttpResponseRedirect(request.path, status=303)
    context = {"brand": brand, "membership": membership, "form": form, "rows": rows(brand)}
    return render(request, template, context, status=422 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def rules(request: HttpRequest, slug: str) -> HttpResponse:
    if request.method == "POST" and "toggle" in request.POST:
        membership = staff_membership(user=request.user, slug=slug)
        require_role(membership, CHANGE_PROGRAM)
        rule = selectors.rule_get(brand=membership.brand, rule_id=request.POST["toggle"])
        services.earning_rule_update(rule=rule, changes={"active": not rule.active}, actor=_actor(request))
        return HttpResponseRedirect(request.path, status=303)
    return _catalog_page(
        request,
        slug,
        form_class=EarningRuleForm,
        create=services.earning_rule_create,
        done=_("The rule was added."),
        template="loyalty/rules.html",
        rows=lambda brand: EarningRule.objects.filter(brand=brand).order_by("activity_type", "priority"),
    )


@login_required
@require_http_methods(["GET", "POST"])
def rewards(request: HttpRequest, slug: str) -> HttpResponse:
    return _catalog_page(
        request,
        slug,
        form_class=RewardForm,
        create=services.reward_create,
        done=_("The reward was added."),
        template="loyalty/rewards.html",
        rows=lambda brand: Reward.objects.filter(brand=brand).order_by("-active", "cost_points"),
    )


@login_required
@require_http_methods(["GET", "POST"])
def tiers(request: HttpRequest, slug: str) -> HttpResponse:
    return _catalog_page(
        request,
        slug,
        form_class=TierForm,
        create=services.tier_create,
        done=_("The tier was added."),
        template="loyalty/tiers.html",
        rows=lambda brand: Tier.objects.filter(brand=brand),
    )


@login_required
def members(request: HttpRequest, slug: str) -> HttpResponse:
    membership = staff_membership(user=request.user, slug=slug)
    query = request.GET.get("q", "").strip()
    found = member_find(brand=membership.brand, query=query) if query else []
    return render(
        request,
        "loyalty/members.html",
        {"brand": membership.brand, "membership": membership, "query": query, "found": found},
    )


@login_required
@require_http_methods(["GET", "POST"])
def member_ledger(request: HttpRequest, slug: str, member_id: str) -> HttpResponse:
    membership = staff_membership(user=request.user, slug=slug)
    member = member_get(brand=membership.brand, member_id=member_id)
    form = AdjustForm(request.POST or None)
    if request.method == "POST":
        require_role(membership, ADJUST_POINTS)
        if _apply(
            request,
            form,
            lambda data: services.points_adjust(member=member, actor=_actor(request), **data),
            _("The points were adjusted."),
        ):
            return HttpResponseRedirect(request.path, status=303)
    return render(
        request,
        "loyalty/member.html",
        {
            "brand": membership.brand,
            "membership": membership,
            "member": member,
            "form": form,
            "points": selectors.points_summary(member=member),
            "progress": services.tier_progress(account=member.points),
            "entries": selectors.ledger_page(member=member, limit=100).entries,
            "coupons": selectors.coupon_wallet(member=member),
        },
        status=422 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def referrals(request: HttpRequest, slug: str) -> HttpResponse:
    membership = staff_membership(user=request.user, slug=slug)
    brand = membership.brand
    if request.method == "POST":
        require_role(membership, CHANGE_PROGRAM)
        referral = selectors.referral_get(brand=brand, referral_id=request.POST.get("referral", ""))
        try:
            services.referral_decide(
                referral=referral, approve=request.POST.get("decision") == "approve", actor=_actor(request)
            )
            messages.success(request, _("Decided."))
        except KesherError as refusal:
            messages.error(request, refusal.message)
        return HttpResponseRedirect(reverse("loyalty:referrals", args=[slug]), status=303)
    queue = Referral.objects.filter(brand=brand, status=Referral.Status.REVIEW).select_related(
        "referrer", "friend"
    )
    return render(
        request, "loyalty/referrals.html", {"brand": brand, "membership": membership, "queue": queue}
    )
