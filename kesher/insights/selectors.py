"""Reads: a member's insights, figured from their own activities and the brand's nightly fit (issue 17)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.db.models import Count, DecimalField, Max, Min, Q, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone

from kesher.activity.models import Activity
from kesher.insights import clv, rules
from kesher.insights.models import InsightsFit
from kesher.members.models import Member


@dataclass(frozen=True)
class Buying:
    days: int
    purchases: int
    spend: float
    first: datetime | None
    last: datetime | None


def _buying(member: Member, now: datetime) -> Buying:
    amount = Cast(KeyTextTransform("amount", "attributes"), DecimalField(max_digits=14, decimal_places=2))
    row = Activity.objects.filter(member=member, type="purchase", occurred_at__lte=now).aggregate(
        days=Count(TruncDate("occurred_at"), distinct=True),
        purchases=Count("id"),
        spend=Sum(amount),
        first=Min("occurred_at"),
        last=Max("occurred_at"),
    )
    return Buying(
        days=row["days"] or 0,
        purchases=row["purchases"] or 0,
        spend=float(row["spend"] or 0),
        first=row["first"],
        last=row["last"],
    )


def _score(value: float, cuts: list[float], *, lower_is_better: bool = False) -> int:
    """The quintile (1-5, 5 best) of `value` against the four cuts; a value tied with a cut scores the
    better side of it, so the best value of a brand scores 5 even when many members share it."""
    if lower_is_better:
        return 5 - sum(1 for cut in cuts if value > cut)
    return 1 + sum(1 for cut in cuts if value >= cut)


def member_insights(*, member: Member, now: datetime | None = None) -> dict[str, Any]:
    """The figures of `GET /members/{id}/insights` and of the member's console page."""
    now = now or timezone.now()
    year_ago = now - timedelta(days=rules.LOYALTY_WINDOW_DAYS)
    counts = dict(
        Activity.objects.filter(member=member, occurred_at__lte=now)
        .values("type")
        .annotate(n=Count("id"))
        .values_list("type", "n")
    )
    recent = Activity.objects.filter(member=member, occurred_at__gt=year_ago, occurred_at__lte=now).aggregate(
        purchases=Count("id", filter=Q(type="purchase")),
        advocacy=Count("id", filter=Q(type__in=list(rules.ADVOCACY_WEIGHTS))),
    )
    buying = _buying(member, now)
    engaged = sum(n for name, n in counts.items() if name not in rules.NOT_ENGAGEMENT)
    stage = rules.funnel_stage(
        purchases_in_window=recent["purchases"],
        purchases_ever=buying.purchases,
        advocacy_in_window=recent["advocacy"],
        engaged=engaged,
    )
    fit = InsightsFit.objects.filter(brand_id=member.brand_id).first()
    rfm: dict[str, Any] = {"recency": 0, "frequency": 0, "monetary": 0, "segment": "prospect"}
    clv_out: dict[str, float | None] = {"p_alive": None, "expected_purchases_90d": None, "value_12m": None}
    churn_risk: float | None = None
    if buying.purchases and buying.first and buying.last:
        since_last = (now - buying.last).total_seconds() / 86400.0
        cuts = (fit.rfm_cuts if fit else {}) or {}
        scores = {
            "recency": _score(since_last, cuts.get("recency", []), lower_is_better=True) if cuts else 3,
            "frequency": _score(buying.purchases, cuts.get("frequency", [])) if cuts else 3,
            "monetary": _score(buying.spend, cuts.get("monetary", [])) if cuts else 3,
        }
        rfm = {**scores, "segment": rules.rfm_segment(**scores)}
        frequency = np.array([buying.days - 1], dtype=float)
        recency = np.array([(buying.last - buying.first).total_seconds() / 86400.0])
        age = np.maximum(np.array([(now - buying.first).total_seconds() / 86400.0]), recency)
        monetary = np.array([buying.spend / buying.purchases])
        if fit and fit.bgnbd:
            bgnbd = clv.BgNbd(**fit.bgnbd)
            gg = clv.GammaGamma(**fit.gamma_gamma) if fit.gamma_gamma else None
            alive = float(clv.p_alive(model=bgnbd, frequency=frequency, recency=recency, T=age)[0])
            expected = clv.expected_purchases(
                model=bgnbd, days=90.0, frequency=frequency, recency=recency, T=age
            )
            value = clv.value_12m(
                bgnbd=bgnbd, gamma_gamma=gg, frequency=frequency, recency=recency, T=age, monetary=monetary
            )
            clv_out = {
                "p_alive": round(alive, 4),
                "expected_purchases_90d": clv.finite(round(float(expected[0]), 4)),
                "value_12m": clv.finite(round(float(value[0]), 2)),
            }
            churn_risk = round(1.0 - alive, 4)
        else:
            churn_risk = round(
                rhythm_risk(frequency=buying.days - 1, recency=recency[0], since_last=since_last), 4
            )
    return {
        "funnel_stage": stage,
        "tracks": rules.track_scores(counts=counts),
        "rfm": rfm,
        "clv": clv_out,
        "churn_risk": churn_risk,
    }


def rhythm_risk(*, frequency: int, recency: float, since_last: float) -> float:
    """Without a fitted model: the gap since the last purchase against the member's own mean gap
    (0 while within it, 1 at three gaps or more); a one-time buyer is measured against 90 days."""
    rhythm = recency / frequency if frequency > 0 else 90.0
    rhythm = max(rhythm, 1.0)
    return float(min(1.0, max(0.0, (since_last / rhythm - 1.0) / 2.0)))
