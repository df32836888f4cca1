"""The surveys part's pages: the member's survey behind their link (/s/<token>/, no sign-in needed) and
the staff console that builds surveys, reads their results (NPS over time, CSAT by store or product,
searchable verbatims, a chart, a CSV file) and follows up detractors."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_http_methods, require_POST

from kesher.activity.registry import registry
from kesher.brands import access
from kesher.brands.access import may, staff_membership
from kesher.brands.models import StaffMembership, StaffRole
from kesher.core.audit import Actor, audit_record
from kesher.core.errors import KesherError
from kesher.surveys import invitations, selectors, services
from kesher.surveys.models import Question, QuestionKind, Survey, SurveyStatus
from kesher.surveys.services import AnswersInvalid

# Who may do what. The console is for the roles that read feedback; the moderator's work is elsewhere.
SEE_SURVEYS = access.SEE_SURVEYS
BUILD_SURVEYS = {StaffRole.OWNER, StaffRole.MARKETER}
EXPORT_RESPONSES = {StaffRole.OWNER, StaffRole.MARKETER, StaffRole.ANALYST}  # a file of answers
FOLLOW_UP = {StaffRole.OWNER, StaffRole.MARKETER, StaffRole.SERVICE_AGENT}

# Ready questions a new survey may start with; the Hebrew comes from the catalogue (kesher/surveys/locale).
STARTERS: dict[str, list[dict[str, Any]]] = {
    "nps": [
        {"kind": "nps", "text": gettext_noop("How likely are you to recommend us to a friend?")},
        {"kind": "text", "required": False, "text": gettext_noop("What is the main reason for your score?")},
    ],
    "csat": [
        {"kind": "csat", "text": gettext_noop("How satisfied were you?")},
        {"kind": "text", "required": False, "text": gettext_noop("What could we do better?")},
    ],
}


def _starter(name: str) -> list[dict[str, Any]]:
    questions = []
    for spec in STARTERS.get(name, []):
        text = spec["text"]
        with translation.override("he"):
            text_he = _(text)
        questions.append(
            {
                "kind": spec["kind"],
                "required": spec.get("required", True),
                "text_he": text_he,
                "text_en": text,
            }
        )
    return questions


def _actor(request: HttpRequest) -> Actor:
    return Actor(user=request.user)  # type: ignore[arg-type]


def _membership(request: HttpRequest, brand_slug: str, roles: set[StaffRole]) -> StaffMembership:
    membership = staff_membership(user=request.user, slug=brand_slug)
    if not may(membership, roles):
        raise PermissionDenied
    return membership


def _context(membership: StaffMembership, **extra: Any) -> dict[str, Any]:
    return {
        "brand": membership.brand,
        "membership": membership,
        "may_build": may(membership, BUILD_SURVEYS),
        "may_export": may(membership, EXPORT_RESPONSES),
        "may_follow_up": may(membership, FOLLOW_UP),
        **extra,
    }


def _survey(membership: StaffMembership, survey_id: object) -> Survey:
    try:
        return selectors.survey_get(brand=membership.brand, survey_id=survey_id)
    except KesherError:
        raise Http404("No such survey") from None


# --- the member's survey -----------------------------------------------------------------------------


def _scale(question: Question) -> list[int]:
    low, high = question.bounds() or (1, 5)
    return list(range(low, high + 1))


def _problem_text(question: Question, problem: str) -> str:
    """The member's page says what is wrong in the page's language (the API's words are English)."""
    if not problem:
        return ""
    if problem == "An answer is required":
        return _("Please answer this question.")
    bounds = question.bounds()
    if bounds is not None:
        return _("Choose a number from %(low)s to %(high)s.") % {"low": bounds[0], "high": bounds[1]}
    return _("Please check this answer.")


def _form_answers(survey: Survey, data: Any) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for question in survey.questions.all():
        key = str(question.pk)
        if question.kind == QuestionKind.MULTIPLE:
            answers[key] = data.getlist(f"q_{key}")
            continue
        raw = data.get(f"q_{key}", "")
        if question.bounds() is not None and raw != "":
            try:
                answers[key] = int(raw)
            except ValueError:
                answers[key] = raw
        else:
            answers[key] = raw
    return answers


@require_http_methods(["GET", "POST"])
def respond(request: HttpRequest, token: str) -> HttpResponse:
    """The survey for the member the link was made for. The language is the page's (the switch), else
    the member's own."""
    invitation = invitations.invitation_by_token(token)
    if invitation is None or invitation.member is None:
        raise Http404("No such survey")
    survey, member = invitation.survey, invitation.member
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) or request.GET.get("lang")
    locale = chosen if chosen in ("he", "en") else (member.locale if member.locale in ("he", "en") else "he")
    with translation.override(locale):
        state, errors, answers = "open", {}, {}
        answered = survey.respondents.filter(member=member).exists()
        if answered:
            state = "answered"
        elif survey.status != SurveyStatus.PUBLISHED:
            state = "closed"
        elif request.method == "POST":
            answers = _form_answers(survey, request.POST)
            try:
                services.response_submit(
                    survey=survey, member=member, answers=answers, locale=locale, invitation=invitation
                )
                state = "thanks"
            except AnswersInvalid as exc:
                errors = exc.problems
            except KesherError as exc:
                state = "answered" if exc.code == "already_answered" else "closed"
        else:
            invitations.invitation_opened(invitation=invitation)
        questions = [
            {
                "question": q,
                "key": str(q.pk),
                "text": q.text(locale),
                "scale": _scale(q) if q.bounds() else [],
                "choices": [
                    {"value": c["value"], "label": c.get(locale) or c.get("he") or c.get("en")}
                    for c in q.choices
                ],
                "error": _problem_text(q, errors.get(str(q.pk), "")),
                "value": answers.get(str(q.pk)),
            }
            for q in survey.questions.all()
        ]
        status = 422 if errors else 200
        return render(
            request,
            "surveys/respond.html",
            {
                "survey": survey,
                "brand": survey.brand,
                "title": survey.title(locale),
                "intro": survey.intro(locale),
                "questions": questions,
                "state": state,
                "has_errors": bool(errors),
                "locale": locale,
            },
            status=status,
        )


# --- the staff console -------------------------------------------------------------------------------


@login_required
def console(request: HttpRequest, brand_slug: str) -> HttpResponse:
    membership = _membership(request, brand_slug, SEE_SURVEYS)
    brand = membership.brand
    return render(
        request,
        "surveys/console.html",
        _context(
            membership,
            surveys=list(selectors.survey_list(brand=brand)),
            open_alerts=len(selectors.alerts_open(brand=brand)),
            settings=services.survey_settings_get(brand=brand),
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
def console_new(request: HttpRequest, brand_slug: str) -> HttpResponse:
    membership = _membership(request, brand_slug, BUILD_SURVEYS)
    error = ""
    if request.method == "POST":
        data = request.POST
        try:
            delay = int(data.get("trigger_delay_hours") or 0)
            survey = services.survey_create(
                brand=membership.brand,
                title_he=data.get("title_he", "")[:200],
                title_en=data.get("title_en", "")[:200],
                intro_he=data.get("intro_he", "")[:2000],
                intro_en=data.get("intro_en", "")[:2000],
                anonymous=data.get("anonymous") == "on",
                trigger_activity=data.get("trigger_activity", ""),
                trigger_delay_hours=max(0, min(delay, 24 * 60)),
                invite_channel=data.get("invite_channel", "email"),
                questions=_starter(data.get("starter", "")),
                actor=_actor(request),
            )
        except ValueError:
            error = _("The delay is a whole number of hours.")
        except KesherError as exc:
            error = exc.message
        else:
            return HttpResponseRedirect(reverse("surveys:console_survey", args=[brand_slug, survey.pk]))
    triggers = sorted(name for name in registry.types if name != "survey_answered")
    return render(
        request,
        "surveys/console_new.html",
        _context(membership, error=error, triggers=triggers, form=request.POST),
        status=422 if error else 200,
    )


@login_required
def console_survey(request: HttpRequest, brand_slug: str, survey_id: Any) -> HttpResponse:
    membership = _membership(request, brand_slug, SEE_SURVEYS)
    survey = _survey(membership, survey_id)
    return render(
        request,
        "surveys/console_survey.html",
        _context(
            membership,
            survey=survey,
            questions=list(survey.questions.all()),
            kinds=QuestionKind.choices,
            invitation_counts=selectors.invitation_counts(survey=survey),
            invitations=selectors.invitations_recent(survey=survey, limit=20),
            api_path=f"/api/v1/surveys/{survey.pk}/invitations",
        ),
    )


def _back(brand_slug: str, survey: Survey) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("surveys:console_survey", args=[brand_slug, survey.pk]))


@login_required
@require_POST
def console_question_add(request: HttpRequest, brand_slug: str, survey_id: Any) -> HttpResponse:
    membership = _membership(request, brand_slug, BUILD_SURVEYS)
    survey = _survey(membership, survey_id)
    data = request.POST
    choices: list[dict[str, str]] = []
    for line in data.get("choices", "").splitlines():
        he, _sep, en = line.partition("|")
        if line.strip():
            label_en = en.strip() or he.strip()
            choices.append({"value": f"c{len(choices) + 1}", "he": he.strip(), "en": label_en})
    spec = {
        "kind": data.get("kind", ""),
        "text_he": data.get("text_he", "")[:500],
        "text_en": data.get("text_en", "")[:500],
        "required": data.get("required") == "on",
        "choices": choices,
        "scale_min": 1,
        "scale_max": 5,
    }
    try:
        services.question_add(survey=survey, spec=spec, actor=_actor(request))
    except KesherError as exc:
        messages.error(request, exc.message)
    return _back(brand_slug, survey)


@login_required
@require_POST
def console_question_move(request: HttpRequest, brand_slug: str, survey_id: Any) -> HttpResponse:
    membership = _membership(request, brand_slug, BUILD_SURVEYS)
    survey = _survey(membership, survey_id)
    order = [str(pk) for pk in survey.questions.values_list("pk", flat=True)]
    moving, step = request.POST.get("question", ""), -1 if request.POST.get("direction") == "up" else 1
    if moving in order:
        index = order.index(moving)
        other = index + step
        if 0 <= other < len(order):
            order[index], order[other] = order[other], order[index]
            try:
                services.questions_reorder(survey=survey, order=order, actor=_actor(request))
            except KesherError as exc:
                messages.error(request, exc.message)
    return _back(brand_slug, survey)


@login_required
@require_POST
def console_status(request: HttpRequest, brand_slug: str, survey_id: Any) -> HttpResponse:
    membership = _membership(request, brand_slug, BUILD_SURVEYS)
    survey = _survey(membership, survey_id)
    try:
        if request.POST.get("action") == "publish":
            services.survey_publish(survey=survey, actor=_actor(request))
        elif request.POST.get("action") == "close":
            services.survey_close(survey=survey, actor=_actor(request))
    except KesherError as exc:
        messages.error(request, exc.message)
    return _back(brand_slug, survey)


@login_required
def console_results(request: HttpRequest, brand_slug: str, survey_id: Any) -> HttpResponse:
    membership = _membership(request, brand_slug, SEE_SURVEYS)
    survey = _survey(membership, survey_id)
    by = "month" if request.GET.get("by") == "month" else "week"
    query = request.GET.get("q", "")[:200]
    trend = selectors.nps_trend(survey=survey, by=by)
    chart = {
        "labels": [point.period for point in trend],
        "nps": [point.nps for point in trend],
        "promoters": [point.promoters for point in trend],
        "passives": [point.passives for point in trend],
        "detractors": [point.detractors for point in trend],
        "names": {
            "nps": _("NPS"),
            "promoters": _("Promoters"),
            "passives": _("Passives"),
            "detractors": _("Detractors"),
        },
    }
    return render(
        request,
        "surveys/console_results.html",
        _context(
            membership,
            survey=survey,
            results=selectors.survey_results(survey=survey),
            trend=trend,
            by=by,
            chart=chart,
            by_store=selectors.csat_by(survey=survey, by="store"),
            by_sku=selectors.csat_by(survey=survey, by="sku"),
            query=query,
            verbatims=selectors.verbatims_search(survey=survey, query=query),
        ),
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


@login_required
def console_export(request: HttpRequest, brand_slug: str, survey_id: Any) -> StreamingHttpResponse:
    membership = _membership(request, brand_slug, EXPORT_RESPONSES)
    survey = _survey(membership, survey_id)
    audit_record(
        brand=membership.brand,
        actor=_actor(request),
        action="survey.export",
        target_type="survey",
        target_id=survey.pk,
        data={},
    )
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff"  # spreadsheets read the Hebrew as UTF-8
        for row in selectors.export_rows(survey=survey):
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="survey-{survey.pk}.csv"'
    return response


@login_required
def console_alerts(request: HttpRequest, brand_slug: str) -> HttpResponse:
    membership = _membership(request, brand_slug, SEE_SURVEYS)
    return render(
        request,
        "surveys/console_alerts.html",
        _context(membership, alerts=selectors.alerts_open(brand=membership.brand)),
    )


@login_required
@require_POST
def console_alert_resolve(request: HttpRequest, brand_slug: str, alert_id: Any) -> HttpResponse:
    membership = _membership(request, brand_slug, FOLLOW_UP)
    try:
        alert = selectors.alert_get(brand=membership.brand, alert_id=alert_id)
    except KesherError:
        raise Http404("No such alert") from None
    try:
        services.alert_resolve(alert=alert, note=request.POST.get("note", "")[:500], actor=_actor(request))
    except KesherError as exc:
        messages.error(request, exc.message)
    return HttpResponseRedirect(reverse("surveys:console_alerts", args=[brand_slug]))


@login_required
@require_http_methods(["GET", "POST"])
def console_settings(request: HttpRequest, brand_slug: str) -> HttpResponse:
    membership = _membership(request, brand_slug, SEE_SURVEYS)
    error = ""
    if request.method == "POST":
        if not may(membership, BUILD_SURVEYS):
            raise PermissionDenied
        try:
            services.survey_settings_update(
                brand=membership.brand,
                contact_interval_days=int(request.POST.get("contact_interval_days", "")),
                actor=_actor(request),
            )
        except (ValueError, KesherError):
            error = _("A whole number of days from 0 to 365.")
        else:
            messages.success(request, _("Saved."))
            return HttpResponseRedirect(reverse("surveys:console_settings", args=[brand_slug]))
    return render(
        request,
        "surveys/console_settings.html",
        _context(membership, settings=services.survey_settings_get(brand=membership.brand), error=error),
        status=422 if error else 200,
    )
