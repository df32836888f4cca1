"""Reads for the insights dashboard, from the nightly rollups only (never the activity stream): each figure
is one `Figure` — labels and series — that the page draws as a chart and a table and the CSV export
writes as rows, so the file and the chart always hold the same numbers (issue 17)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _

from kesher.brands.models import Brand
from kesher.insights import rules
from kesher.insights.models import (
    DailyProgram,
    DailySales,
    FunnelDay,
    InsightsCache,
    InsightsFit,
    MemberMonth,
    MemberSummary,
)

TRACK_BUCKETS = ((0, 0), (1, 24), (25, 49), (50, 74), (75, 100))
COHORT_MONTHS = 12


@dataclass(frozen=True)
class Filters:
    start: date
    end: date
    store: str = ""
    tier: uuid.UUID | None = None
    segment: str = ""

    @property
    def first_month(self) -> date:
        return self.start.replace(day=1)

    @property
    def last_month(self) -> date:
        return self.end.replace(day=1)


def filters_default(*, today: date | None = None) -> Filters:
    """The last twelve months, every store, tier and segment."""
    end = today or timezone.localdate()
    start = end.replace(day=1)
    for _month in range(11):
        start = (start - timedelta(days=1)).replace(day=1)
    return Filters(start=start, end=end)


@dataclass
class Series:
    label: str
    data: list[float | int | None]


@dataclass
class Figure:
    key: str
    title: str
    kind: str  # bar, line, stacked, heatmap
    labels: list[str]
    series: list[Series]
    unit: str = ""  # "%" or a currency code, for the reader
    note: str = ""
    empty: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def rows(self) -> list[list[Any]]:
        """The CSV: a header of the series' labels, then one row a label."""
        out: list[list[Any]] = [["", *(s.label for s in self.series)]]
        for i, label in enumerate(self.labels):
            out.append([label, *(s.data[i] for s in self.series)])
        return out

    def chart(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind,
            "labels": self.labels,
            "series": [{"label": s.label, "data": s.data} for s in self.series],
            "unit": self.unit,
        }


def _month_label(month: date) -> str:
    # "F Y" in the active language: Hebrew month names on a Hebrew page.
    return dateformat.format(month, "F Y")


def _months(first: date, last: date) -> list[date]:
    out, month = [], first
    while month <= last:
        out.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return out


def _member_q(filters: Filters, *, tier: str = "tier_id", segment: str = "segment") -> Q:
    q = Q()
    if filters.tier:
        q &= Q(**{tier: filters.tier})
    if filters.segment:
        q &= Q(**{segment: filters.segment})
    return q


def _summaries(brand: Brand, filters: Filters) -> QuerySet[MemberSummary]:
    return MemberSummary.objects.filter(brand=brand).filter(_member_q(filters, segment="rfm_segment"))


def _sales(brand: Brand, filters: Filters) -> QuerySet[DailySales]:
    rows = DailySales.objects.filter(brand=brand, day__gte=filters.start, day__lte=filters.end)
    rows = rows.filter(_member_q(filters))
    return rows.filter(store=filters.store) if filters.store else rows


def _program(brand: Brand, filters: Filters) -> QuerySet[DailyProgram]:
    rows = DailyProgram.objects.filter(brand=brand, day__gte=filters.start, day__lte=filters.end)
    return rows.filter(_member_q(filters))


def _member_months(brand: Brand, filters: Filters) -> QuerySet[MemberMonth]:
    rows = MemberMonth.objects.filter(
        brand=brand, month__gte=filters.first_month, month__lte=filters.last_month
    )
    rows = rows.filter(_member_q(filters))
    return rows.filter(store=filters.store) if filters.store else rows


def _share(part: float, whole: float) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _memo(brand: Brand, filters: Filters, name: str, compute: Any) -> Any:
    """`compute()`'s JSON answer for these filters, kept until the next recomputation."""
    stamp = InsightsFit.objects.filter(brand=brand).values_list("computed_at", flat=True).first()
    if stamp is None:
        return compute()
    raw = f"{name}|{filters.start}|{filters.end}|{filters.store}|{filters.tier or ''}|{filters.segment}"
    key = hashlib.sha256(raw.encode()).hexdigest()
    row = InsightsCache.objects.filter(brand=brand, key=key, computed_at=stamp).first()
    if row is not None:
        return row.data
    data = compute()
    try:
        with transaction.atomic():
            InsightsCache.objects.update_or_create(
                brand=brand, key=key, defaults={"computed_at": stamp, "data": data}
            )
    except IntegrityError:  # another request kept the same numbers first
        pass
    return data


def member_counts(*, brand: Brand, filters: Filters) -> dict[str, dict[str, float]]:
    """By status (member, prospect): members active in the range, buyers, repeat buyers, purchases and
    spend, in one pass over the member months (grouped by member, then by status)."""

    def compute() -> dict[str, dict[str, float]]:
        inner = (
            _member_months(brand, filters)
            .values("member_id", "status")
            .annotate(p=Sum("purchases"), s=Sum("spend"))
            .order_by()
        )
        sql, params = inner.query.sql_with_params()
        outer = (
            "SELECT t.status, COUNT(*), SUM(CASE WHEN t.p > 0 THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN t.p >= 2 THEN 1 ELSE 0 END), SUM(t.p), SUM(t.s) "
            f"FROM ({sql}) t GROUP BY t.status"
        )
        with connection.cursor() as cursor:
            cursor.execute(outer, params)
            rows = cursor.fetchall()
        return {
            str(status): {
                "active": int(active or 0),
                "buyers": int(buyers or 0),
                "repeat": int(repeat or 0),
                "purchases": int(purchases or 0),
                "spend": float(spend or 0),
            }
            for status, active, buyers, repeat, purchases, spend in rows
        }

    return _memo(brand, filters, "members", compute)  # type: ignore[no-any-return]


def _cohort_cells(brand: Brand, filters: Filters, cohorts: list[date]) -> list[list[Any]]:
    def compute() -> list[list[Any]]:
        active = (
            MemberMonth.objects.filter(
                brand=brand, cohort__in=cohorts, purchases__gt=0, month__lte=filters.last_month
            )
            .filter(_member_q(filters))
            .filter(Q(store=filters.store) if filters.store else Q())
            .values("cohort", "month")
            .annotate(n=Count("member_id", distinct=True))
        )
        return [[row["cohort"].isoformat(), row["month"].isoformat(), row["n"]] for row in active]

    return _memo(brand, filters, "cohorts", compute)  # type: ignore[no-any-return]


def dashboard_warm(*, brand: Brand, today: date) -> None:
    """Keep the default view's costly numbers (the recomputation calls it): the first paint reads them."""
    filters = filters_default(today=today)
    member_counts(brand=brand, filters=filters)
    cohorts_figure(brand=brand, filters=filters)


# --- the figures ---------------------------------------------------------------------------------------


def funnel_figure(*, brand: Brand, filters: Filters) -> Figure:
    """Members at each stage on the last recomputation up to the end of the range."""
    days = FunnelDay.objects.filter(brand=brand, day__lte=filters.end)
    last = days.aggregate(day=Max("day"))["day"]
    counts: dict[str, int] = {}
    if last is not None:
        counts = dict(
            days.filter(day=last)
            .filter(_member_q(filters))
            .values("stage")
            .annotate(n=Sum("members"))
            .values_list("stage", "n")
        )
    return Figure(
        key="funnel",
        title=_("Members at each stage of the funnel"),
        kind="bar",
        labels=[str(label) for _key, label in rules.FUNNEL_STAGES],
        series=[Series(_("Members"), [counts.get(key, 0) for key, _label in rules.FUNNEL_STAGES])],
        empty=last is None,
        extra={"day": last},
    )


def conversion_figure(*, brand: Brand, filters: Filters) -> Figure:
    """Each recomputation's members by stage, and the share that has bought (purchase stage or beyond)."""
    rows = (
        FunnelDay.objects.filter(brand=brand, day__gte=filters.start, day__lte=filters.end)
        .filter(_member_q(filters))
        .values("day", "stage")
        .annotate(n=Sum("members"))
        .order_by("day")
    )
    by_day: dict[date, dict[str, int]] = {}
    for row in rows:
        by_day.setdefault(row["day"], {})[row["stage"]] = row["n"]
    days = sorted(by_day)
    bought = ("purchase", "loyalty", "advocacy")
    series = [Series(str(label), [by_day[d].get(key, 0) for d in days]) for key, label in rules.FUNNEL_STAGES]
    series.append(
        Series(
            _("Bought (%)"),
            [_share(sum(by_day[d].get(k, 0) for k in bought), sum(by_day[d].values())) for d in days],
        )
    )
    return Figure(
        key="conversion",
        title=_("The funnel over time"),
        kind="line",
        labels=[dateformat.format(d, "j F Y") for d in days],
        series=series,
        empty=not days,
        note=_("One point a nightly recomputation: members move in and out of each stage."),
    )


def tracks_figure(*, brand: Brand, filters: Filters) -> Figure:
    """How many members score in each band of each engagement track."""
    aggregates: dict[str, Any] = {}
    for rule in rules.TRACKS:
        for low, high in TRACK_BUCKETS:
            aggregates[f"{rule.track}_{low}"] = Count(
                "pk", filter=Q(**{f"{rule.track}__gte": low, f"{rule.track}__lte": high})
            )
    counts = _summaries(brand, filters).aggregate(**aggregates)
    return Figure(
        key="tracks",
        title=_("The five engagement tracks"),
        kind="stacked",
        labels=[str(rule.label) for rule in rules.TRACKS],
        series=[
            Series(f"{low}–{high}" if high else "0", [counts[f"{rule.track}_{low}"] for rule in rules.TRACKS])
            for low, high in TRACK_BUCKETS
        ],
        note=_("Members by their score (0-100) on each track."),
    )


def sales_figure(*, brand: Brand, filters: Filters) -> Figure:
    """Revenue a month, and the part attributed to campaigns (a purchase within N days of a click)."""
    rows = {
        row["month"].date() if hasattr(row["month"], "date") else row["month"]: row
        for row in _sales(brand, filters)
        .annotate(month=TruncMonth("day"))
        .values("month")
        .annotate(revenue=Sum("revenue"), attributed=Sum("attributed_revenue"), purchases=Sum("purchases"))
    }
    months = _months(filters.first_month, filters.last_month)
    return Figure(
        key="sales",
        title=_("Revenue and revenue attributed to campaigns"),
        kind="bar",
        labels=[_month_label(m) for m in months],
        series=[
            Series(_("Revenue"), [float(rows[m]["revenue"]) if m in rows else 0 for m in months]),
            Series(
                _("Attributed to campaigns"),
                [float(rows[m]["attributed"]) if m in rows else 0 for m in months],
            ),
            Series(_("Purchases"), [rows[m]["purchases"] if m in rows else 0 for m in months]),
        ],
        unit=brand.currency,
    )


def points_figure(*, brand: Brand, filters: Filters) -> Figure:
    rows = {
        row["month"].date() if hasattr(row["month"], "date") else row["month"]: row
        for row in _program(brand, filters)
        .annotate(month=TruncMonth("day"))
        .values("month")
        .annotate(earned=Sum("points_earned"), redeemed=Sum("points_redeemed"), expired=Sum("points_expired"))
    }
    months = _months(filters.first_month, filters.last_month)
    return Figure(
        key="points",
        title=_("Points earned, redeemed and expired"),
        kind="bar",
        labels=[_month_label(m) for m in months],
        series=[
            Series(_("Earned"), [rows[m]["earned"] if m in rows else 0 for m in months]),
            Series(_("Redeemed"), [rows[m]["redeemed"] if m in rows else 0 for m in months]),
            Series(_("Expired"), [rows[m]["expired"] if m in rows else 0 for m in months]),
        ],
    )


def buyers_figure(*, brand: Brand, filters: Filters) -> Figure:
    """Purchases and spend per buyer in the range: members against prospects (when there are prospects)."""
    by_status = member_counts(brand=brand, filters=filters)
    groups = [("active", _("Members"))]
    if "prospect" in by_status or MemberSummary.objects.filter(brand=brand, status="prospect").exists():
        groups.append(("prospect", _("Prospects")))

    def ratio(status: str, key: str) -> float | None:
        row = by_status.get(status)
        return round(row[key] / row["buyers"], 2) if row and row["buyers"] else None

    return Figure(
        key="buyers",
        title=_("Purchase frequency and spend per buyer"),
        kind="bar",
        labels=[str(label) for _status, label in groups],
        series=[
            Series(_("Purchases per buyer"), [ratio(s, "purchases") for s, _label in groups]),
            Series(_("Spend per buyer"), [ratio(s, "spend") for s, _label in groups]),
        ],
        unit=brand.currency,
    )


def nps_figure(*, brand: Brand, filters: Filters) -> Figure:
    """NPS from the survey answers (`survey_answered` activities with an `nps` of 0-10)."""
    totals = _program(brand, filters).aggregate(p=Sum("promoters"), n=Sum("passives"), d=Sum("detractors"))
    p, n, d = (totals[k] or 0 for k in ("p", "n", "d"))
    answers = p + n + d
    score = round(100.0 * (p - d) / answers, 1) if answers else None
    return Figure(
        key="nps",
        title=_("Net promoter score"),
        kind="bar",
        labels=[_("Promoters (9-10)"), _("Passives (7-8)"), _("Detractors (0-6)")],
        series=[Series(_("Answers"), [p, n, d])],
        empty=answers == 0,
        extra={"nps": score, "answers": answers},
    )


def cohorts_figure(*, brand: Brand, filters: Filters) -> Figure:
    """Members by join month, and the share of each cohort that bought in each month after joining."""
    sizes = dict(
        _summaries(brand, filters)
        .filter(joined_month__gte=filters.first_month, joined_month__lte=filters.last_month)
        .values("joined_month")
        .annotate(n=Count("pk"))
        .values_list("joined_month", "n")
    )
    cohorts = sorted(sizes)
    cells: dict[tuple[date, int], int] = {}
    for cohort_day, month_day, n in _cohort_cells(brand, filters, cohorts):
        cohort, month = date.fromisoformat(cohort_day), date.fromisoformat(month_day)
        offset = (month.year - cohort.year) * 12 + month.month - cohort.month
        if 0 <= offset < COHORT_MONTHS:
            cells[(cohort, offset)] = n
    last = filters.last_month
    series = []
    for offset in range(COHORT_MONTHS):
        data: list[float | int | None] = []
        for cohort in cohorts:
            reached = (last.year - cohort.year) * 12 + last.month - cohort.month >= offset
            data.append(_share(cells.get((cohort, offset), 0), sizes[cohort]) if reached else None)
        series.append(Series(str(offset), data))
    return Figure(
        key="cohorts",
        title=_("Cohort retention"),
        kind="heatmap",
        labels=[_month_label(c) for c in cohorts],
        series=series,
        unit="%",
        empty=not cohorts,
        extra={"sizes": [sizes[c] for c in cohorts]},
        note=_(
            "Rows: members by the month they joined. Columns: months after joining. "
            "A cell: the share who bought."
        ),
    )


@dataclass(frozen=True)
class Kpis:
    active_members: int
    buyers: int
    repeat_rate: float | None
    points_earned: int
    points_redeemed: int
    points_expired: int
    redemption_rate: float | None
    breakage: float | None
    redemptions: int
    reward_cost: Decimal
    revenue: Decimal
    attributed_revenue: Decimal
    conversion_days: int
    liability_points: int | None
    liability_value: str | None
    currency: str
    nps: float | None
    nps_answers: int


def kpis(*, brand: Brand, filters: Filters, conversion_days: int) -> Kpis:
    counts = member_counts(brand=brand, filters=filters).values()
    active = sum(int(row["active"]) for row in counts)
    buyers = sum(int(row["buyers"]) for row in counts)
    repeat = sum(int(row["repeat"]) for row in counts)
    program = _program(brand, filters).aggregate(
        earned=Sum("points_earned"),
        redeemed=Sum("points_redeemed"),
        expired=Sum("points_expired"),
        redemptions=Sum("redemptions"),
        cost=Sum("reward_cost"),
        p=Sum("promoters"),
        n=Sum("passives"),
        d=Sum("detractors"),
    )
    sales = _sales(brand, filters).aggregate(revenue=Sum("revenue"), attributed=Sum("attributed_revenue"))
    earned = program["earned"] or 0
    fit = InsightsFit.objects.filter(brand=brand).first()
    liability = (fit.liability if fit else {}) or {}
    answers = (program["p"] or 0) + (program["n"] or 0) + (program["d"] or 0)
    return Kpis(
        active_members=active,
        buyers=buyers,
        repeat_rate=_share(repeat, buyers),
        points_earned=earned,
        points_redeemed=program["redeemed"] or 0,
        points_expired=program["expired"] or 0,
        redemption_rate=_share(program["redeemed"] or 0, earned),
        breakage=_share(program["expired"] or 0, earned),
        redemptions=program["redemptions"] or 0,
        reward_cost=Decimal(program["cost"] or 0).quantize(Decimal("0.01")),
        revenue=Decimal(sales["revenue"] or 0).quantize(Decimal("0.01")),
        attributed_revenue=Decimal(sales["attributed"] or 0).quantize(Decimal("0.01")),
        conversion_days=conversion_days,
        liability_points=liability.get("points"),
        liability_value=liability.get("value"),
        currency=liability.get("currency", brand.currency),
        nps=round(100.0 * ((program["p"] or 0) - (program["d"] or 0)) / answers, 1) if answers else None,
        nps_answers=answers,
    )


def kpis_figure(*, values: Kpis) -> Figure:
    """The KPIs as one figure, so they export like the others."""
    rows: list[tuple[str, Any]] = [
        (_("Active members"), values.active_members),
        (_("Buyers"), values.buyers),
        (_("Repeat-purchase rate (%)"), values.repeat_rate),
        (_("Redemption rate (%)"), values.redemption_rate),
        (_("Breakage (%)"), values.breakage),
        (_("Points liability"), values.liability_points),
        (_("Points liability value"), values.liability_value),
        (_("Cost of rewards"), str(values.reward_cost)),
        (_("Revenue"), str(values.revenue)),
        (_("Revenue attributed to campaigns"), str(values.attributed_revenue)),
        (_("NPS"), values.nps),
    ]
    return Figure(
        key="kpis",
        title=_("Program KPIs"),
        kind="table",
        labels=[label for label, _value in rows],
        series=[Series(_("Value"), [value for _label, value in rows])],
    )


_BUILDERS: dict[str, Any] = {
    "funnel": funnel_figure,
    "conversion": conversion_figure,
    "tracks": tracks_figure,
    "sales": sales_figure,
    "points": points_figure,
    "buyers": buyers_figure,
    "nps": nps_figure,
    "cohorts": cohorts_figure,
}
FIGURES = ("kpis", "funnel", "conversion", "tracks", "sales", "points", "buyers", "nps", "cohorts")


def figures(*, brand: Brand, filters: Filters, conversion_days: int) -> dict[str, Figure]:
    """Every figure of the dashboard, from the rollups."""
    return {
        "kpis": kpis_figure(values=kpis(brand=brand, filters=filters, conversion_days=conversion_days)),
        "funnel": funnel_figure(brand=brand, filters=filters),
        "conversion": conversion_figure(brand=brand, filters=filters),
        "tracks": tracks_figure(brand=brand, filters=filters),
        "sales": sales_figure(brand=brand, filters=filters),
        "points": points_figure(brand=brand, filters=filters),
        "buyers": buyers_figure(brand=brand, filters=filters),
        "nps": nps_figure(brand=brand, filters=filters),
        "cohorts": cohorts_figure(brand=brand, filters=filters),
    }


def figure(*, brand: Brand, filters: Filters, key: str, conversion_days: int) -> Figure | None:
    """One figure by its key (the CSV export); None for an unknown key."""
    if key == "kpis":
        return kpis_figure(values=kpis(brand=brand, filters=filters, conversion_days=conversion_days))
    builder = _BUILDERS.get(key)
    return builder(brand=brand, filters=filters) if builder else None


# --- the lists -------------------------------------------------------------------------------------------


def advocates(*, brand: Brand, limit: int = 100) -> list[MemberSummary]:
    """Members ranked by advocacy: referrals that bought, accepted answers, helpful reviews, shares."""
    return list(
        MemberSummary.objects.filter(brand=brand, advocacy_score__gt=0)
        .select_related("member")
        .order_by("-advocacy_score", "-referrals", "member_id")[:limit]
    )


def churn_list(*, brand: Brand, limit: int = 100, threshold: float = 0.0) -> list[MemberSummary]:
    """Buyers whose gap since the last purchase is longest against their own rhythm."""
    return list(
        MemberSummary.objects.filter(brand=brand, churn_risk__gt=threshold)
        .select_related("member")
        .order_by("-churn_risk", "-since_last_days", "member_id")[:limit]
    )
