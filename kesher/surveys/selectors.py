"""Reads of the surveys part: surveys of a brand, results (NPS, CSAT, choices, verbatims), trends over
time, CSAT by store or product, searchable verbatims, open alerts, and the CSV export's rows."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Avg, Count, Q, QuerySet
from django.db.models.functions import TruncMonth, TruncWeek

from kesher.brands.models import Brand
from kesher.community.textsearch import parse_query
from kesher.core.errors import NotFound
from kesher.surveys.models import (
    AlertStatus,
    Question,
    QuestionKind,
    Survey,
    SurveyAlert,
    SurveyAnswer,
    SurveyInvitation,
    SurveyResponse,
)

PROMOTER_MIN, DETRACTOR_MAX = 9, 6
SATISFIED_MIN = 4
VERBATIMS_IN_RESULTS = 50


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def survey_get(*, brand: Brand, survey_id: object) -> Survey:
    """The brand's survey; 404 for another brand's (or a malformed id), never a hint that it exists."""
    wanted = _uuid(survey_id)
    found = Survey.objects.select_related("brand").filter(pk=wanted, brand=brand).first() if wanted else None
    if found is None:
        raise NotFound("No such survey", field="survey_id")
    return found


def survey_list(*, brand: Brand) -> QuerySet[Survey]:
    return (
        Survey.objects.filter(brand=brand)
        .annotate(response_count=Count("responses", distinct=True))
        .order_by("-created_at")
    )


def questions_of(survey: Survey) -> list[Question]:
    return list(survey.questions.all())


def percent(part: int, whole: int) -> float | None:
    """A share in percent with one decimal, halves rounded up (5/8 → 62.5, 2/3 → 66.7); None of nothing."""
    if whole == 0:
        return None
    exact = Fraction(100 * part, whole)
    rounded = (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(Decimal("0.1"), ROUND_HALF_UP)
    return float(rounded)


def nps_score(promoters: int, detractors: int, responses: int) -> float | None:
    """NPS = % promoters − % detractors, from the exact fraction, one decimal (−100 … 100)."""
    if responses == 0:
        return None
    exact = Fraction(100 * (promoters - detractors), responses)
    sign = -1 if exact < 0 else 1
    magnitude = (Decimal(abs(exact.numerator)) / Decimal(exact.denominator)).quantize(
        Decimal("0.1"), ROUND_HALF_UP
    )
    return float(sign * magnitude)


def _nps_counts() -> dict[str, Any]:
    return {
        "promoters": Count("id", filter=Q(number__gte=PROMOTER_MIN)),
        "passives": Count("id", filter=Q(number__gt=DETRACTOR_MAX, number__lt=PROMOTER_MIN)),
        "detractors": Count("id", filter=Q(number__lte=DETRACTOR_MAX)),
        "responses": Count("id"),
    }


def _answers(question: Question, *, store: str = "", sku: str = "") -> QuerySet[SurveyAnswer]:
    found = SurveyAnswer.objects.filter(question=question)
    if store:
        found = found.filter(response__store=store)
    if sku:
        found = found.filter(response__sku=sku)
    return found


def question_result(question: Question, *, store: str = "", sku: str = "") -> dict[str, Any]:
    answers = _answers(question, store=store, sku=sku)
    base: dict[str, Any] = {
        "question_id": str(question.pk),
        "kind": question.kind,
        "text_he": question.text_he,
        "text_en": question.text_en,
    }
    if question.kind == QuestionKind.NPS:
        counts = answers.aggregate(**_nps_counts())
        return {
            **base,
            **counts,
            "nps": nps_score(counts["promoters"], counts["detractors"], counts["responses"]),
        }
    if question.kind in (QuestionKind.CSAT, QuestionKind.SCALE):
        low, high = question.bounds() or (1, 5)
        rows = dict(answers.values_list("number").annotate(n=Count("id")).values_list("number", "n"))
        total = sum(rows.values())
        average = answers.aggregate(avg=Avg("number"))["avg"]
        out = {
            **base,
            "responses": total,
            "average": round(float(average), 2) if average is not None else None,
            "distribution": {str(value): rows.get(value, 0) for value in range(low, high + 1)},
        }
        if question.kind == QuestionKind.CSAT:
            satisfied = sum(n for value, n in rows.items() if value is not None and value >= SATISFIED_MIN)
            out.update({"satisfied": satisfied, "csat": percent(satisfied, total)})
        return out
    if question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        counts = {choice["value"]: 0 for choice in question.choices}
        total = 0
        for chosen in answers.values_list("choices", flat=True):
            total += 1
            for value in chosen:
                if value in counts:
                    counts[value] += 1
        return {
            **base,
            "responses": total,
            "choices": [
                {**choice, "count": counts[choice["value"]], "share": percent(counts[choice["value"]], total)}
                for choice in question.choices
            ],
        }
    texts = answers.exclude(text="").select_related("response").order_by("-response__created_at", "-id")
    return {
        **base,
        "responses": texts.count(),
        "verbatims": [_verbatim(answer) for answer in texts[:VERBATIMS_IN_RESULTS]],
    }


def _verbatim(answer: SurveyAnswer) -> dict[str, Any]:
    response = answer.response
    return {
        "text": answer.text,
        "store": response.store,
        "sku": response.sku,
        "nps": response.nps,
        "answered_on": response.created_at.date().isoformat(),
    }


def survey_results(*, survey: Survey, store: str = "", sku: str = "") -> dict[str, Any]:
    responses = SurveyResponse.objects.filter(survey=survey)
    if store:
        responses = responses.filter(store=store)
    if sku:
        responses = responses.filter(sku=sku)
    return {
        "survey_id": str(survey.pk),
        "responses": responses.count(),
        "questions": [question_result(q, store=store, sku=sku) for q in questions_of(survey)],
    }


@dataclass(frozen=True)
class TrendPoint:
    period: str  # 2026-11-30 (the week's Monday) or 2026-11 (the month)
    promoters: int
    passives: int
    detractors: int
    responses: int
    nps: float | None


def nps_trend(*, survey: Survey, by: str = "week") -> list[TrendPoint]:
    """NPS per week or month (in the brand's time zone) from each response's first NPS answer."""
    zone = ZoneInfo(survey.brand.time_zone or "Asia/Jerusalem")
    trunc = TruncMonth("created_at", tzinfo=zone) if by == "month" else TruncWeek("created_at", tzinfo=zone)
    rows = (
        SurveyResponse.objects.filter(survey=survey, nps__isnull=False)
        .annotate(period=trunc)
        .values("period")
        .annotate(
            promoters=Count("id", filter=Q(nps__gte=PROMOTER_MIN)),
            passives=Count("id", filter=Q(nps__gt=DETRACTOR_MAX, nps__lt=PROMOTER_MIN)),
            detractors=Count("id", filter=Q(nps__lte=DETRACTOR_MAX)),
            responses=Count("id"),
        )
        .order_by("period")
    )
    points = []
    for row in rows:
        period: datetime = row["period"]
        label = period.strftime("%Y-%m") if by == "month" else period.date().isoformat()
        points.append(
            TrendPoint(
                period=label,
                promoters=row["promoters"],
                passives=row["passives"],
                detractors=row["detractors"],
                responses=row["responses"],
                nps=nps_score(row["promoters"], row["detractors"], row["responses"]),
            )
        )
    return points


@dataclass(frozen=True)
class CsatGroup:
    name: str
    responses: int
    satisfied: int
    csat: float | None


def csat_by(*, survey: Survey, by: str = "store") -> list[CsatGroup]:
    """CSAT (share of 4–5) per store or per product, from each response's first CSAT answer."""
    column = "sku" if by == "sku" else "store"
    rows = (
        SurveyResponse.objects.filter(survey=survey, csat__isnull=False)
        .values(column)
        .annotate(responses=Count("id"), satisfied=Count("id", filter=Q(csat__gte=SATISFIED_MIN)))
        .order_by("-responses", column)
    )
    return [
        CsatGroup(
            name=row[column],
            responses=row["responses"],
            satisfied=row["satisfied"],
            csat=percent(row["satisfied"], row["responses"]),
        )
        for row in rows
    ]


def verbatims_search(*, survey: Survey, query: str = "", limit: int = 50) -> list[dict[str, Any]]:
    """Text answers, newest first; with a query, those having every word of it in one of its Hebrew-aware
    forms ("ולשירות" and "השירות" both find "שירות")."""
    found = SurveyAnswer.objects.filter(response__survey=survey).exclude(text="").select_related("response")
    parsed = parse_query(query) if query.strip() else None
    if parsed is not None:
        for group in parsed.groups:
            alternatives = Q()
            for term in group:
                alternatives |= Q(terms__contains=f" {term} ")
            found = found.filter(alternatives)
    return [_verbatim(answer) for answer in found.order_by("-response__created_at", "-id")[:limit]]


def alerts_open(*, brand: Brand, limit: int = 100) -> list[SurveyAlert]:
    return list(
        SurveyAlert.objects.filter(brand=brand, status=AlertStatus.OPEN)
        .select_related("survey", "member", "response")
        .order_by("-created_at")[:limit]
    )


def alert_get(*, brand: Brand, alert_id: object) -> SurveyAlert:
    wanted = _uuid(alert_id)
    found = SurveyAlert.objects.filter(brand=brand, pk=wanted).first() if wanted else None
    if found is None:
        raise NotFound("No such alert")
    return found


def invitations_recent(*, survey: Survey, limit: int = 50) -> list[SurveyInvitation]:
    return list(
        SurveyInvitation.objects.filter(survey=survey)
        .select_related("member")
        .order_by("-created_at")[:limit]
    )


def invitation_counts(*, survey: Survey) -> dict[str, int]:
    rows = SurveyInvitation.objects.filter(survey=survey).values("status", "reason").annotate(n=Count("id"))
    counts: dict[str, int] = {}
    for row in rows:
        key = row["status"] if row["status"] == "sent" else f"skipped:{row['reason']}"
        counts[key] = counts.get(key, 0) + row["n"]
    return counts


def export_rows(*, survey: Survey) -> Iterator[list[str]]:
    """The CSV export: a header, then one row per response (no member column for anonymous surveys)."""
    questions = questions_of(survey)
    named = not survey.anonymous
    yield [
        "response_id",
        "answered_at",
        *(["member_id"] if named else []),
        "store",
        "sku",
        "locale",
        *[q.text_en or q.text_he for q in questions],
    ]
    responses = (
        SurveyResponse.objects.filter(survey=survey).prefetch_related("answers").order_by("created_at", "id")
    )
    for response in responses.iterator(chunk_size=500):
        by_question = {answer.question_id: answer for answer in response.answers.all()}
        cells = []
        for question in questions:
            answer = by_question.get(question.pk)
            if answer is None:
                cells.append("")
            elif answer.number is not None:
                cells.append(str(answer.number))
            elif answer.choices:
                cells.append(";".join(answer.choices))
            else:
                cells.append(answer.text)
        yield [
            str(response.pk),
            response.created_at.isoformat(),
            *([str(response.member_id or "")] if named else []),
            response.store,
            response.sku,
            response.locale,
            *cells,
        ]


def verbatims_after(
    *, brand: Brand, since: datetime | None, after_id: int | None = None, limit: int = 500
) -> list[SurveyAnswer]:
    """The brand's text answers in the order their responses came, from a cursor (the response's time, and
    the answer's id after `after_id` at that time), each with its response. For the listening part."""
    answers = SurveyAnswer.objects.filter(response__brand=brand).exclude(text="")
    if since is not None:
        later = Q(response__created_at__gt=since)
        if after_id is not None:
            later |= Q(response__created_at=since, id__gt=after_id)
        else:
            later |= Q(response__created_at=since)
        answers = answers.filter(later)
    return list(answers.select_related("response").order_by("response__created_at", "id")[:limit])
