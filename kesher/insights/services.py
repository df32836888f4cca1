"""The nightly recomputation of a brand's insights: one SQL pass over its purchases, the quintiles and the
models fitted over the result in pandas (vectorised), kept in `InsightsFit` (issue 17)."""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from django.db import transaction
from django.db.models import Count, DecimalField, Max, Min, QuerySet, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone, translation
from django.utils.translation import gettext

from kesher.activity.models import Activity
from kesher.brands.models import Brand
from kesher.campaigns.models import Segment
from kesher.campaigns.selectors import messaging_settings
from kesher.campaigns.services import segment_create
from kesher.core.errors import ValidationFailed
from kesher.insights import clv, dashboard, personas, rollups, rules
from kesher.insights.models import InsightsCache, InsightsFit, MemberMonth, MemberSummary
from kesher.loyalty.services import points_liability
from kesher.members.merging import MergeRecord, Step
from kesher.members.models import Member

log = logging.getLogger(__name__)

MIN_BUYERS_TO_FIT = 20  # fewer repeat buyers than this and the models are not fitted (null figures)
QUANTILES = (0.2, 0.4, 0.6, 0.8)
PENALIZERS = (0.0, 0.001, 0.01, 0.1)


def purchases_frame(*, brand: Brand, now: datetime) -> pd.DataFrame:
    """One row a buyer: distinct purchase days, count, spend, first and last purchase, in one GROUP BY."""
    amount = Cast(KeyTextTransform("amount", "attributes"), DecimalField(max_digits=14, decimal_places=2))
    rows = (
        Activity.objects.filter(brand=brand, type="purchase", occurred_at__lte=now)
        .values("member_id")
        .annotate(
            days=Count(TruncDate("occurred_at"), distinct=True),
            purchases=Count("id"),
            spend=Sum(amount),
            first=Min("occurred_at"),
            last=Max("occurred_at"),
        )
        .values_list("member_id", "days", "purchases", "spend", "first", "last")
    )
    frame = pd.DataFrame.from_records(
        list(rows), columns=["member_id", "days", "purchases", "spend", "first", "last"]
    )
    if frame.empty:
        return frame.assign(frequency=[], recency=[], T=[], monetary_value=[], since_last=[])
    first = pd.to_datetime(frame["first"], utc=True)
    last = pd.to_datetime(frame["last"], utc=True)
    stamp = pd.Timestamp(now)
    frame["spend"] = frame["spend"].astype(float)
    frame["frequency"] = frame["days"] - 1
    frame["recency"] = (last - first).dt.total_seconds() / 86400.0
    frame["T"] = np.maximum((stamp - first).dt.total_seconds() / 86400.0, frame["recency"])
    frame["since_last"] = (stamp - last).dt.total_seconds() / 86400.0
    frame["monetary_value"] = frame["spend"] / frame["purchases"]
    return frame


def _cuts(series: pd.Series) -> list[float]:
    return [float(v) for v in series.quantile(list(QUANTILES)).to_numpy()]


def _models_fit(frame: pd.DataFrame, brand: Brand) -> tuple[dict[str, float] | None, dict[str, float] | None]:
    """The maximum-likelihood fit; where it does not converge (a young brand whose buyers all still buy
    tells nothing of drop-out), again with the small penalties lifetimes suggests; else none."""
    for penalizer in PENALIZERS:
        try:
            bgnbd = vars(clv.bgnbd_fit(frame=frame, penalizer=penalizer))
            gamma_gamma = vars(clv.gamma_gamma_fit(frame=frame, penalizer=penalizer))
        except (ValidationFailed, ValueError, ArithmeticError) as exc:  # lifetimes: "did not converge"
            log.info("insights: brand %s, penalizer %s: %s", brand.slug, penalizer, str(exc).strip())
            continue
        if all(np.isfinite(list(bgnbd.values()))) and all(np.isfinite(list(gamma_gamma.values()))):
            return bgnbd, gamma_gamma
    log.warning("insights: the models could not be fitted for brand %s", brand.slug)
    return None, None


@transaction.atomic
def insights_refresh(*, brand: Brand, now: datetime | None = None) -> InsightsFit:
    """Recompute the brand's RFM cut points and refit BG/NBD and Gamma-Gamma; safe to run at any time."""
    now = now or timezone.now()
    clock = [time.perf_counter()]

    def lap(step: str) -> None:
        clock.append(time.perf_counter())
        log.info("insights: brand %s, %s in %.2f s", brand.slug, step, clock[-1] - clock[-2])

    frame = purchases_frame(brand=brand, now=now)
    lap("purchases read")
    cuts: dict[str, list[float]] = {}
    bgnbd: dict[str, float] | None = None
    gamma_gamma: dict[str, float] | None = None
    if not frame.empty:
        cuts = {
            "recency": _cuts(frame["since_last"]),
            "frequency": _cuts(frame["purchases"].astype(float)),
            "monetary": _cuts(frame["spend"]),
        }
        if int((frame["frequency"] > 0).sum()) >= MIN_BUYERS_TO_FIT:
            bgnbd, gamma_gamma = _models_fit(frame, brand)
    lap("RFM cut points and the models fitted")
    rollups.rollups_write(
        brand=brand, now=now, cuts=cuts, conversion_days=messaging_settings(brand=brand).conversion_days
    )
    lap("rollups written (INSERT … SELECT)")
    liability = points_liability(brand=brand)
    personas.personas_fit(brand=brand)
    lap("liability and personas")
    rfm_segments_ensure(brand=brand)
    fit, _ = InsightsFit.objects.update_or_create(
        brand=brand,
        defaults={
            "computed_at": now,
            "members": Member.objects.filter(brand=brand).count(),
            "buyers": len(frame),
            "bgnbd": bgnbd,
            "gamma_gamma": gamma_gamma,
            "rfm_cuts": cuts,
            "liability": {
                "points": liability["outstanding_points"],
                "value": liability["value"],
                "currency": liability["currency"],
            },
        },
    )
    InsightsCache.objects.filter(brand=brand).delete()
    dashboard.dashboard_warm(brand=brand, today=timezone.localtime(now).date())
    lap("the dashboard's default view kept")
    return fit


def insights_refresh_all(*, now: datetime | None = None) -> int:
    """Every brand's recomputation (the nightly task and `kesher tick`)."""
    done = 0
    for brand in Brand.objects.order_by("slug"):
        insights_refresh(brand=brand, now=now)
        done += 1
    return done


# --- the RFM named segments, saved as campaigns' segments ------------------------------------------------

RFM_LIST_SOURCE = "rfm"


def rfm_list_query(name: str) -> QuerySet[MemberSummary, Any] | None:
    """The members on an RFM list, for the campaigns part's `list` rule (installed from apps.py)."""
    if name not in dict(rules.RFM_SEGMENTS):
        return None
    return MemberSummary.objects.filter(rfm_segment=name).values("member_id")


def rfm_list_names() -> list[tuple[str, object]]:
    return list(rules.RFM_SEGMENTS)


def rfm_segment_rules(name: str) -> dict[str, Any]:
    return {"match": "all", "conditions": [{"kind": "list", "source": RFM_LIST_SOURCE, "name": name}]}


def rfm_segments_ensure(*, brand: Brand) -> list[Segment]:
    """One saved segment a named RFM segment ("RFM: At risk"), created once in the brand's language,
    which a campaign targets like any other; its members are whoever the last recomputation put there."""
    kept: list[Segment] = []
    existing = {
        segment.rules.get("conditions", [{}])[0].get("name"): segment
        for segment in Segment.objects.filter(brand=brand, rules__conditions__0__kind="list")
        if segment.rules.get("conditions", [{}])[0].get("source") == RFM_LIST_SOURCE
    }
    with translation.override(brand.default_locale):
        for name, label in rules.RFM_SEGMENTS:
            if name == "prospect":
                continue
            if name in existing:
                kept.append(existing[name])
                continue
            title = gettext("RFM: %(segment)s") % {"segment": label}
            if Segment.objects.filter(brand=brand, name=title).exists():
                continue  # a segment of the staff's own has the name: theirs stays
            kept.append(segment_create(brand=brand, name=title, rules=rfm_segment_rules(name)))
    return kept


# --- a member's data: exported, erased with them, recomputed after a merge --------------------------------


def member_insights_export(*, member: Member) -> dict[str, Any]:
    summary = MemberSummary.objects.filter(member_id=member.pk).first()
    if summary is None:
        return {}
    return {
        "computed_at": summary.computed_at.isoformat(),
        "funnel_stage": summary.funnel_stage,
        "rfm": {
            "recency": summary.recency,
            "frequency": summary.frequency,
            "monetary": summary.monetary,
            "segment": summary.rfm_segment,
        },
        "tracks": {name: getattr(summary, name) for name in rules.TRACK_NAMES},
        "advocacy_score": summary.advocacy_score,
        "churn_risk": summary.churn_risk,
        "persona": summary.persona,
    }


def member_insights_erase(*, member: Member) -> None:
    """The derived rows go; the brand's daily totals (no person in them) stay."""
    MemberSummary.objects.filter(member_id=member.pk).delete()
    MemberMonth.objects.filter(member_id=member.pk).delete()


def members_insights_merge(*, source: Member, target: Member) -> list[Step]:
    """The duplicate's derived rows go (their copies kept in the steps, so an undo puts them back); the next
    recomputation counts its activities under the target."""
    record = MergeRecord()
    record.remove(MemberSummary.objects.filter(member_id=source.pk))
    record.remove(MemberMonth.objects.filter(member_id=source.pk))
    return record.steps
