"""The loyalty console for brand staff: overview with the points liability, rules, rewards, tiers,
a member's ledger with adjustments, and the referral review queue."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from kesher.brands.access import (
    ADJUST_POINTS,
    CHANGE_PROGRAM,
    EXPORT_MEMBERS,
    SEE_MEMBERS,
    may,
    require_role,
    staff_membership,
)
from kesher.brands.models import Brand
from kesher.core.audit import Actor, audit_record
from kesher.core.errors import KesherError, NotFound
from kesher.loyalty import selectors, services
from kesher.loyalty.forms import AdjustForm, EarningRuleForm, RewardForm, TierForm
from kesher.loyalty.models import EarningRule, Referral, Reward, Tier
from kesher.members.labels import activity_label
from kesher.members.models import Member
from kesher.members.selectors import member_get
from kesher.privacy.models import AccessKind  # every staff look at a member is logged (issue 18)
from kesher.privacy.services import PRIVACY_STAFF, access_record
from kesher.web import directory


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
@require_http_methods(["GET", "POST"])
def overview(request: HttpRequest, slug: str) -> HttpResponse:
    membership = staff_membership(user=request.user, slug=slug)
    brand = membership.brand
    if request.method == "POST" and "hebrew_dates" in request.POST:
        require_role(membership, CHANGE_PROGRAM)
        shown = request.POST["hebrew_dates"] == "on"
        services.program_update(brand=brand, changes={"hebrew_dates": shown}, actor=_actor(request))
        messages.success(request, _("Saved."))
        return HttpResponseRedirect(request.path, status=303)
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
            "may_change": may(membership, CHANGE_PROGRAM),
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
    kind: str,
    preview: Callable[[Brand, forms.Form], dict[str, Any]],
) -> HttpResponse:
    """A list of the brand's rules, rewards or tiers with a form that adds one (owners and marketers)."""
    membership = staff_membership(user=request.user, slug=slug)
    brand = membership.brand
    form = form_class(request.POST or None)
    if request.method == "POST":
        require_role(membership, CHANGE_PROGRAM)
        if _apply(request, form, lambda data: create(brand=brand, actor=_actor(request), **data), done):
            return HttpResponseRedirect(request.path, status=303)
    shown = form if form.is_bound else _bound_or_initial(form_class, None, None)
    context = {
        "brand": brand,
        "membership": membership,
        "form": form,
        "rows": rows(brand),
        "may_change": may(membership, CHANGE_PROGRAM),
        "preview": preview(brand, shown),
        "preview_template": f"loyalty/partials/{kind}_preview.html",
        "preview_url": reverse(f"loyalty:{kind}_preview", args=[brand.slug]),
    }
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
        rows=_rule_rows,
        kind="rule",
        preview=lambda brand, form: _rule_preview(brand, form, _sample_amount(request.POST), None),
    )


def _rule_rows(brand: Brand) -> list[EarningRule]:
    rows = list(EarningRule.objects.filter(brand=brand).order_by("activity_type", "priority"))
    for rule in rows:
        rule.activity_label = activity_label(rule.activity_type)  # type: ignore[attr-defined]
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def rewards(request: HttpRequest, slug: str) -> HttpResponse:
    if request.method == "POST" and "toggle" in request.POST:
        membership = staff_membership(user=request.user, slug=slug)
        require_role(membership, CHANGE_PROGRAM)
        reward = _reward_get(membership.brand, request.POST["toggle"])
        services.reward_update(reward=reward, changes={"active": not reward.active}, actor=_actor(request))
        return HttpResponseRedirect(request.path, status=303)
    return _catalog_page(
        request,
        slug,
        form_class=RewardForm,
        create=services.reward_create,
        done=_("The reward was added."),
        template="loyalty/rewards.html",
        rows=lambda brand: Reward.objects.filter(brand=brand).order_by("-active", "cost_points"),
        kind="reward",
        preview=lambda brand, form: _reward_preview(brand, form, None),
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
        kind="tier",
        preview=lambda brand, form: _tier_preview(brand, form, None),
    )


MEMBERS_PER_PAGE = 50


def _directory_options(brand: Brand, query: directory.DirectoryQuery) -> dict[str, Any]:
    from kesher.campaigns.selectors import segment_list

    labels = {"email": _("Email"), "sms": _("SMS"), "push": _("Push")}
    return {
        "tiers": list(Tier.objects.filter(brand=brand).order_by("threshold", "name")),
        "segments": segment_list(brand=brand),
        "windows": directory.PURCHASE_WINDOWS,
        "consent_filters": [
            (channel, labels[channel], query.consent.get(channel, "")) for channel in directory.CHANNELS
        ],
    }


@login_required
def members(request: HttpRequest, slug: str) -> HttpResponse:
    """The brand's members: search, filters, sorting, pages of 50, and the same selection as a CSV file."""
    membership = staff_membership(user=request.user, slug=slug)
    require_role(membership, SEE_MEMBERS)
    brand = membership.brand
    error = None
    try:
        query = directory.DirectoryQuery.from_params(request.GET)
    except KesherError as refusal:
        query, error = directory.DirectoryQuery(), refusal
    found = directory.member_directory(brand=brand, query=query)
    page = Paginator(found, MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
    kept = request.GET.copy()
    kept.pop("page", None)
    sort_links = {}
    for column in ("name", "joined", "points", "last_purchase"):
        flipped = kept.copy()
        flipped["sort"] = f"-{column}" if query.sort == column else column
        sort_links[column] = flipped.urlencode()
    return render(
        request,
        "loyalty/members.html",
        {
            "brand": brand,
            "membership": membership,
            "query": query,
            "error": error,
            "page": page,
            "kept": kept.urlencode(),
            "sort_links": sort_links,
            "may_export": may(membership, EXPORT_MEMBERS),
            **_directory_options(brand, query),
        },
        status=422 if error else 200,
    )


def _day(moment: datetime | None) -> str:
    """A date as spreadsheets read it whatever their language: 2026-12-07, in the brand's time zone."""
    return timezone.localtime(moment).date().isoformat() if moment else ""


class _Echo:
    """csv.writer writes each row to this and the row comes back to be streamed."""

    def write(self, value: str) -> str:
        return value


@login_required
def members_export(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    """The list's selection as CSV, streamed row by row: UTF-8 with a byte-order mark, so Excel opens Hebrew
    names as Hebrew. Audited: it is a file of personal data."""
    membership = staff_membership(user=request.user, slug=slug)
    require_role(membership, EXPORT_MEMBERS)
    brand = membership.brand
    query = directory.DirectoryQuery.from_params(request.GET)
    found = directory.member_directory(brand=brand, query=query)
    audit_record(
        brand=brand,
        actor=_actor(request),
        action="members.export",
        target_type="brand",
        target_id=brand.pk,
        data={key: value for key, value in request.GET.items() if key != "page"},
    )
    header = [
        _("Card number"),
        _("First name"),
        _("Last name"),
        _("Email"),
        _("Phone"),
        _("Tier"),
        _("Points"),
        _("Points earned, all time"),
        _("Last purchase"),
        _("Email consent"),
        _("SMS consent"),
        _("Push consent"),
        _("Joined"),
        _("Status"),
    ]
    yes, no = _("yes"), _("no")

    def rows() -> Any:
        writer = csv.writer(_Echo())
        yield "\ufeff" + writer.writerow(header)
        for member in found.iterator(chunk_size=500):
            points = getattr(member, "points", None)
            yield writer.writerow(
                [
                    member.card_number,
                    member.first_name,
                    member.last_name,
                    member.email or "",
                    member.phone or "",
                    points.tier.name if points is not None and points.tier is not None else "",
                    points.balance if points is not None else 0,
                    points.lifetime_earned if points is not None else 0,
                    _day(getattr(member, "last_purchase_at", None)),
                    yes if member.consent_email else no,
                    yes if member.consent_sms else no,
                    yes if member.consent_push else no,
                    _day(member.joined_at),
                    member.get_status_display(),
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="members-{brand.slug}-{stamp}.csv"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def member_ledger(request: HttpRequest, slug: str, member_id: str) -> HttpResponse:
    membership = staff_membership(user=request.user, slug=slug)
    require_role(membership, SEE_MEMBERS)
    member = member_get(brand=membership.brand, member_id=member_id)
    access_record(brand=membership.brand, actor=_actor(request), member_id=member.pk, kind=AccessKind.CONSOLE)
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
            "record": directory.member_record(member=member),
            "may_adjust": may(membership, ADJUST_POINTS),
            "may_privacy": may(membership, PRIVACY_STAFF),
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


# --- editing the program: one rule, reward or tier, with a live preview of its effect ------------------

SAMPLE_AMOUNT = Decimal(120)
MAX_SAMPLE_AMOUNT = Decimal(1_000_000)


def _row_get(model: type[Any], brand: Brand, row_id: Any) -> Any:
    """The brand's row by id; any other brand's (or a malformed id) is not found."""
    try:
        return model.objects.get(brand=brand, pk=row_id)
    except (model.DoesNotExist, ValueError, TypeError, forms.ValidationError):
        raise NotFound("No such row") from None


def _reward_get(brand: Brand, reward_id: Any) -> Reward:
    found: Reward = _row_get(Reward, brand, reward_id)
    return found


def _sample_amount(params: Any) -> Decimal:
    try:
        amount = Decimal(str(params.get("sample_amount") or SAMPLE_AMOUNT))
    except InvalidOperation:
        return SAMPLE_AMOUNT
    if not amount.is_finite() or amount < 0:
        return SAMPLE_AMOUNT
    return min(amount, MAX_SAMPLE_AMOUNT).quantize(Decimal("0.01"))


def _rule_preview(brand: Brand, form: forms.Form, amount: Decimal, rule_id: Any) -> dict[str, Any]:
    shown: dict[str, Any] = {"amount": amount, "currency": brand.currency}
    if not form.is_valid():
        return {**shown, "incomplete": True}
    data = form.cleaned_data
    try:
        preview = services.earning_rule_preview(brand=brand, values=data, amount=amount, rule_id=rule_id)
    except KesherError as refusal:
        return {**shown, "refusal": refusal.message}
    return {
        **shown,
        "result": preview,
        "purchase": data["activity_type"] == "purchase",
        "activity": activity_label(data["activity_type"]),
        "multiplier": data["effect"] == EarningRule.Effect.MULTIPLIER,
    }


def _tier_preview(brand: Brand, form: forms.Form, tier_id: Any) -> dict[str, Any]:
    if not form.is_valid():
        return {"incomplete": True}
    rows = services.tiers_preview(
        brand=brand, threshold=form.cleaned_data["threshold"], name=form.cleaned_data["name"], tier_id=tier_id
    )
    return {"rows": rows, "top": max((row["members"] for row in rows), default=0) or 1}


def _reward_preview(brand: Brand, form: forms.Form, reward: Reward | None) -> dict[str, Any]:
    if not form.is_valid():
        return {"incomplete": True}
    tiers = [tier.name for tier in reward.tiers.all()] if reward is not None else []
    cost = form.cleaned_data["cost_points"]
    return {
        "cost": cost,
        "affordable": selectors.reward_affordable_count(brand=brand, cost_points=cost, tier_names=tiers),
        "members": Member.objects.filter(brand=brand).count(),
        "tiers": tiers,
    }


def _preview_params(request: HttpRequest) -> Any:
    """What the editor's script sends: the form as typed. A page opened with no values shows the saved
    row's (or the form's first values) instead."""
    return request.GET if request.GET else None


def _row_values(form_class: type[forms.Form], row: Any) -> dict[str, Any]:
    """The saved row's values as the form would send them (its fields' first values for a new row)."""
    if row is None:
        return {name: field.initial for name, field in form_class.base_fields.items()}
    values = {}
    for name, field in form_class.base_fields.items():
        value = getattr(row, name)
        if isinstance(field, forms.BooleanField):
            if value:
                values[name] = "on"
        elif value is not None:
            values[name] = value
    return values


def _bound_or_initial(form_class: type[forms.Form], data: Any, row: Any) -> forms.Form:
    """A form bound to the typed values, or to the saved row's (so its preview can be computed)."""
    return form_class(data if data is not None else _row_values(form_class, row))


def _editor(
    request: HttpRequest,
    membership: Any,
    *,
    kind: str,
    row: Any,
    form: forms.Form,
    save: Callable[[dict[str, Any]], Any],
    done: str,
    preview: dict[str, Any],
    back: str,
) -> HttpResponse:
    if request.method == "POST":
        require_role(membership, CHANGE_PROGRAM)
        if _apply(request, form, save, done):
            return HttpResponseRedirect(back, status=303)
    return render(
        request,
        "loyalty/edit.html",
        {
            "brand": membership.brand,
            "membership": membership,
            "kind": kind,
            "row": row,
            "form": form,
            "preview": preview,
            "preview_template": f"loyalty/partials/{kind}_preview.html",
            "preview_url": reverse(f"loyalty:{kind}_preview", args=[membership.brand.slug]),
            "back": back,
            "may_change": may(membership, CHANGE_PROGRAM),
        },
        status=422 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, slug: str, rule_id: str) -> HttpResponse:
    membership = staff_membership(user=request.user, slug=slug)
    brand = membership.brand
    rule = selectors.rule_get(brand=brand, rule_id=rule_id)
    form = EarningRuleForm(request.POST or None, initial=_row_values(EarningRuleForm, rule))
    shown = form if form.is_bound else _bound_or_initial(EarningRuleForm, None, rule)
    return _editor(
        request,
        membership,
        kind="rule",
        row=rule,
        form=form,
        save=lambda data: services.earning_rule_update(rule=rule, changes=data, actor=_actor(request)),
        done=_("The rule was saved."),
        preview=_rule_preview(brand, shown, _sample_amount(request.POST or request.GET), rule.pk),
        back=reverse("loyalty:rules", args=[slug]),
    )


@login_required
@require_http_methods(["GET", "POST"])
def reward_edit(request: HttpRequest, slug: str, reward_id: str) -> HttpResponse:
    membership = staff_membership(user=request.user, slug=slug)
    brand = membership.brand
    reward = _reward_get(brand, reward_id)
    form = RewardForm(request.POST or None, initial=_row_values(RewardForm, reward))
    shown = form if form.is_bound else _bound_or_initial(RewardForm, None, reward)
    return _editor(
        request,
        membership,
        kind="reward",
        row=reward,
        form=form,
        save=lambda data: services.reward_update(reward=reward, changes=data, actor=_actor(request)),
        done=_("The reward was saved."),
        preview=_reward_preview(brand, shown, reward),
        back=reverse("loyalty:rewards", args=[slug]),
    )


@login_required
@require_http_methods(["GET", "POST"])
def tier_edit(request: HttpRequest, slug: str, tier_id: str) -> HttpResponse:
    membership = staff_membership(user=request.user, slug=slug)
    brand = membership.brand
    tier: Tier = _row_get(Tier, brand, tier_id)
    form = TierForm(request.POST or None, initial=_row_values(TierForm, tier))
    shown = form if form.is_bound else _bound_or_initial(TierForm, None, tier)
    return _editor(
        request,
        membership,
        kind="tier",
        row=tier,
        form=form,
        save=lambda data: services.tier_update(tier=tier, changes=data, actor=_actor(request)),
        done=_("The tier was saved."),
        preview=_tier_preview(brand, shown, tier.pk),
        back=reverse("loyalty:tiers", args=[slug]),
    )


def _preview_answer(request: HttpRequest, template: str, preview: dict[str, Any]) -> HttpResponse:
    """A fragment of the editor (no page of its own): what the editor's script puts in its preview box."""
    return render(request, template, {"preview": preview})


def _row_id(request: HttpRequest) -> str | None:
    return request.GET.get("row") or None


@login_required
@require_GET
def rule_preview(request: HttpRequest, slug: str) -> HttpResponse:
    brand = staff_membership(user=request.user, slug=slug).brand
    row = _row_id(request)
    rule_id = selectors.rule_get(brand=brand, rule_id=row).pk if row is not None else None
    form = _bound_or_initial(EarningRuleForm, _preview_params(request), None)
    preview = _rule_preview(brand, form, _sample_amount(request.GET), rule_id)
    return _preview_answer(request, "loyalty/partials/rule_preview.html", preview)


@login_required
@require_GET
def reward_preview(request: HttpRequest, slug: str) -> HttpResponse:
    brand = staff_membership(user=request.user, slug=slug).brand
    reward_id = _row_id(request)
    reward = _reward_get(brand, reward_id) if reward_id is not None else None
    form = _bound_or_initial(RewardForm, _preview_params(request), None)
    return _preview_answer(
        request, "loyalty/partials/reward_preview.html", _reward_preview(brand, form, reward)
    )


@login_required
@require_GET
def tier_preview(request: HttpRequest, slug: str) -> HttpResponse:
    brand = staff_membership(user=request.user, slug=slug).brand
    row = _row_id(request)
    tier_id = _row_get(Tier, brand, row).pk if row is not None else None
    form = _bound_or_initial(TierForm, _preview_params(request), None)
    return _preview_answer(request, "loyalty/partials/tier_preview.html", _tier_preview(brand, form, tier_id))
