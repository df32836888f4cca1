"""The insights pages of the staff console, under /insights/<brand slug>/: the dashboard with its charts and
a CSV file of each, the advocates and churn-risk lists, the personas. Owners, marketers and analysts read;
owners and marketers name personas (issue 17)."""

from __future__ import annotations

import csv
import uuid
from datetime import date
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language_bidi
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kesher.brands.access import may, require_role, staff_membership
from kesher.brands.models import Brand, StaffMembership, StaffRole
from kesher.campaigns.selectors import messaging_settings
from kesher.core.audit import Actor, audit_record
from kesher.core.errors import KesherError
from kesher.insights import dashboard, personas, rules
from kesher.insights.models import DailySales, InsightsFit, MemberSummary, Persona
from kesher.loyalty.models import Store, Tier

READERS = {StaffRole.OWNER, StaffRole.MARKETER, StaffRole.ANALYST}
NAMERS = {StaffRole.OWNER, StaffRole.MARKETER}


def _membership(request: HttpRequest, slug: str) -> StaffMembership:
    membership = staff_membership(user=request.user, slug=slug)
    require_role(membership, READERS)
    return membership


def _date(raw: str | None, default: date) -> date:
    try:
        return date.fromisoformat(raw) if raw else default
    except ValueError:
        return default


def _filters(request: HttpRequest, brand: Brand) -> dashboard.Filters:
    """The dashboard's filters from the query string; anything unreadable is left at its default."""
    default = dashboard.filters_default(today=timezone.localdate())
    start = _date(request.GET.get("start"), default.start)
    end = _date(request.GET.get("end"), default.end)
    if start > end:
        start, end = end, start
    tier: uuid.UUID | None = None
    try:
        tier = uuid.UUID(request.GET.get("tier", "")) if request.GET.get("tier") else None
    except ValueError:
        tier = None
    segment = request.GET.get("segment", "")
    if segment not in dict(rules.RFM_SEGMENTS):
        segment = ""
    return dashboard.Filters(
        start=start, end=end, store=request.GET.get("store", "")[:200], tier=tier, segment=segment
    )


def _options(brand: Brand) -> dict[str, Any]:
    stores = {store.code: store.name for store in Store.objects.filter(brand=brand)}
    for seen in (
        DailySales.objects.filter(brand=brand).exclude(store="").values_list("store", flat=True).distinct()
    ):
        stores.setdefault(seen, seen)
    return {
        "stores": sorted(stores.items(), key=lambda item: item[1]),
        "tiers": list(Tier.objects.filter(brand=brand).order_by("threshold", "name")),
        "segments": [(key, label) for key, label in rules.RFM_SEGMENTS],
    }


@login_required
def dashboard_page(request: HttpRequest, slug: str) -> HttpResponse:
    membership = _membership(request, slug)
    brand = membership.brand
    filters = _filters(request, brand)
    conversion_days = messaging_settings(brand=brand).conversion_days
    found = dashboard.figures(brand=brand, filters=filters, conversion_days=conversion_days)
    kpis = dashboard.kpis(brand=brand, filters=filters, conversion_days=conversion_days)
    cohorts = found["cohorts"]
    cohort_rows = [
        {
            "label": label,
            "size": cohorts.extra["sizes"][i],
            "cells": [
                {
                    "value": s.data[i],
                    "band": "none" if s.data[i] is None else min(5, int(s.data[i] or 0) // 20),
                }
                for s in cohorts.series
            ],
        }
        for i, label in enumerate(cohorts.labels)
    ]
    charts = {key: figure.chart() for key, figure in found.items() if figure.kind not in ("table", "heatmap")}
    return render(
        request,
        "insights/dashboard.html",
        {
            "brand": brand,
            "membership": membership,
            "filters": filters,
            "figures": found,
            "kpis": kpis,
            "cohort_rows": cohort_rows,
            "charts": {"rtl": get_language_bidi(), "figures": charts},
            "query": request.GET.urlencode(),
            "fit": InsightsFit.objects.filter(brand=brand).first(),
            **_options(brand),
        },
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv(name: str, rows: list[list[Any]]) -> HttpResponse:
    """UTF-8 with a byte-order mark, so a spreadsheet opens the Hebrew as Hebrew."""
    writer = csv.writer(_Echo())
    body = "\ufeff" + "".join(writer.writerow(["" if cell is None else cell for cell in row]) for row in rows)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}-{timezone.localdate().isoformat()}.csv"'
    return response


@login_required
def figure_csv(request: HttpRequest, slug: str, figure: str) -> HttpResponse:
    membership = _membership(request, slug)
    brand = membership.brand
    filters = _filters(request, brand)
    found = dashboard.figure(
        brand=brand,
        filters=filters,
        key=figure,
        conversion_days=messaging_settings(brand=brand).conversion_days,
    )
    if found is None:
        raise Http404("no such figure")
    return _csv(f"{figure}-{brand.slug}", found.rows())


def _member_name(summary: MemberSummary) -> str:
    member = summary.member
    return f"{member.first_name} {member.last_name}".strip() or member.card_number


def advocate_rows(found: list[MemberSummary]) -> list[list[Any]]:
    header = [
        _("Member"),
        _("Card number"),
        _("Advocacy score"),
        _("Referrals that bought"),
        _("Accepted answers"),
        _("Helpful reviews"),
        _("Shares"),
    ]
    return [header] + [
        [
            _member_name(s),
            s.member.card_number,
            s.advocacy_score,
            s.referrals,
            s.accepted_answers,
            s.helpful_reviews,
            s.shares,
        ]
        for s in found
    ]


def churn_reason(summary: MemberSummary) -> str:
    """Why the member is on the list: the gap since the last purchase against their own rhythm."""
    since = round(summary.since_last_days or 0)
    if summary.mean_gap_days:
        return _("No purchase for %(since)s days; usually buys every %(gap)s days.") % {
            "since": since,
            "gap": max(1, round(summary.mean_gap_days)),
        }
    return _("One purchase, %(since)s days ago (a one-time buyer is measured against 90 days).") % {
        "since": since
    }


def churn_rows(found: list[MemberSummary]) -> list[list[Any]]:
    header = [_("Member"), _("Card number"), _("Churn risk (%)"), _("Reason"), _("Purchases"), _("Spend")]
    return [header] + [
        [
            _member_name(s),
            s.member.card_number,
            round(100 * (s.churn_risk or 0)),
            churn_reason(s),
            s.purchases,
            s.spend,
        ]
        for s in found
    ]


def _audit_export(request: HttpRequest, brand: Brand, what: str) -> None:
    audit_record(
        brand=brand,
        actor=Actor(user=request.user),  # type: ignore[arg-type]
        action=f"insights.{what}_export",
        target_type="brand",
        target_id=brand.pk,
        data={},
    )


@login_required
def advocates_page(request: HttpRequest, slug: str) -> HttpResponse:
    membership = _membership(request, slug)
    found = dashboard.advocates(brand=membership.brand)
    return render(
        request,
        "insights/list.html",
        {
            "brand": membership.brand,
            "membership": membership,
            "title": _("Advocates"),
            "intro": _(
                "Ranked by what they did for the brand: a referral that bought counts 5, an accepted answer "
                "3, a review others found helpful 2, a share 1."
            ),
            "rows": advocate_rows(found),
            "links": [s.member_id for s in found],
            "csv": "insights:advocates_csv",
            "kind": "advocates",
        },
    )


@login_required
def advocates_csv(request: HttpRequest, slug: str) -> HttpResponse:
    membership = _membership(request, slug)
    _audit_export(request, membership.brand, "advocates")
    return _csv(
        f"advocates-{membership.brand.slug}", advocate_rows(dashboard.advocates(brand=membership.brand))
    )


@login_required
def churn_page(request: HttpRequest, slug: str) -> HttpResponse:
    membership = _membership(request, slug)
    found = dashboard.churn_list(brand=membership.brand)
    return render(
        request,
        "insights/list.html",
        {
            "brand": membership.brand,
            "membership": membership,
            "title": _("Churn risk"),
            "intro": _(
                "Buyers whose gap since their last purchase is long against their own rhythm: 0% while "
                "within their usual gap, 100% at three gaps or more."
            ),
            "rows": churn_rows(found),
            "links": [s.member_id for s in found],
            "csv": "insights:churn_csv",
            "kind": "churn",
        },
    )


@login_required
def churn_csv(request: HttpRequest, slug: str) -> HttpResponse:
    membership = _membership(request, slug)
    _audit_export(request, membership.brand, "churn")
    return _csv(f"churn-{membership.brand.slug}", churn_rows(dashboard.churn_list(brand=membership.brand)))


@login_required
@require_http_methods(["GET", "POST"])
def personas_page(request: HttpRequest, slug: str) -> HttpResponse:
    membership = _membership(request, slug)
    brand = membership.brand
    error = ""
    if request.method == "POST":
        require_role(membership, NAMERS)
        try:
            number = int(request.POST.get("number", ""))
            personas.persona_rename(
                brand=brand,
                number=number,
                name=request.POST.get("name", ""),
                actor=Actor(user=request.user),  # type: ignore[arg-type]
            )
            return HttpResponseRedirect(request.path, status=303)
        except ValueError:
            error = _("No such persona.")
        except KesherError as exc:
            error = str(exc)
    found = list(Persona.objects.filter(brand=brand, members__gt=0))
    total = sum(p.members for p in found)
    return render(
        request,
        "insights/personas.html",
        {
            "brand": brand,
            "membership": membership,
            "personas": [
                {
                    "persona": p,
                    "share": round(100 * p.members / total) if total else 0,
                    "traits": personas.persona_describe(p),
                }
                for p in found
            ],
            "may_name": may(membership, NAMERS),
            "error": error,
        },
        status=422 if error else 200,
    )
