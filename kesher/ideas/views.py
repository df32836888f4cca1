"""The ideas pages: the board, an idea with its support button and comments, submitting, the roadmap,
challenges, beta programs (apply, the testers' private page, task feedback), and the staff console
(moderation and statuses, stage settings, the challenge jury, beta applications).

Thin: find the brand and the person, call one selector or service, render. A refusal becomes a message
on the page it came from; what the person may not see is a plain 404."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kesher.brands import access
from kesher.brands.access import staff_membership
from kesher.brands.models import Brand, StaffMembership
from kesher.core.audit import Actor
from kesher.core.errors import KesherError
from kesher.ideas import selectors, services
from kesher.ideas.models import BetaApplication, BetaFeedback, BetaProgram, Idea, IdeaStatus
from kesher.loyalty.models import Reward
from kesher.members.models import Member

# Who works in the ideas console: owners, moderators (ideas and statuses), marketers (challenges, betas).
IDEAS_ROLES = access.RUN_IDEAS

REFUSALS = {
    "own_idea": gettext_lazy("You cannot support your own idea."),
    "idea_expired": gettext_lazy("This idea did not reach its stage in time and has expired."),
    "idea_declined": gettext_lazy("The brand declined this idea."),
    "challenge_closed": gettext_lazy("This challenge takes no more ideas."),
    "challenge_open": gettext_lazy("The challenge is still open; pick winners once it closes."),
    "challenge_judged": gettext_lazy("The winners of this challenge were picked already."),
    "not_eligible": gettext_lazy("This program is for other members."),
    "already_applied": gettext_lazy("You applied already."),
    "program_closed": gettext_lazy("This program takes no more applications."),
    "program_full": gettext_lazy("Every place is taken."),
    "task_done": gettext_lazy("You completed this task already."),
    "status_unchanged": gettext_lazy("The idea has that status already."),
    "member_inactive": gettext_lazy("Your club membership is not active."),
}


def _refused(request: HttpRequest, exc: KesherError) -> None:
    known = REFUSALS.get(exc.code)
    messages.error(
        request, str(known) if known else _("That did not work: %(reason)s") % {"reason": exc.message}
    )


def _brand(slug: str) -> Brand:
    return get_object_or_404(Brand, slug=slug)


def _member(request: HttpRequest, brand: Brand) -> Member | None:
    if not request.user.is_authenticated:
        return None
    return Member.objects.filter(brand=brand, user_id=request.user.pk).first()


def _is_staff(request: HttpRequest, brand: Brand) -> bool:
    if not request.user.is_authenticated:
        return False
    if getattr(request.user, "is_superuser", False):
        return True
    return StaffMembership.objects.filter(brand=brand, user_id=request.user.pk, role__in=IDEAS_ROLES).exists()


def _staff(request: HttpRequest, brand_slug: str) -> tuple[Brand, Actor]:
    """The ideas console's door: a membership of the brand in one of the ideas roles, else 404."""
    membership = staff_membership(user=request.user, slug=brand_slug)
    if membership.role not in IDEAS_ROLES:
        raise Http404("No such page")
    return membership.brand, Actor(user=request.user)  # type: ignore[arg-type]


def _need_member(request: HttpRequest, brand: Brand) -> Member:
    member = _member(request, brand)
    if member is None:
        raise Http404("Join the club to take part")
    return member


def _idea_url(idea: Idea) -> str:
    return reverse("ideas:idea", args=[idea.brand.slug, idea.pk])


def _base(request: HttpRequest, brand: Brand, **extra: Any) -> dict[str, Any]:
    member = _member(request, brand)
    return {
        "brand": brand,
        "member": member,
        "unread": selectors.unread_notices(member=member) if member is not None else 0,
        **extra,
    }


# --- the board and an idea -------------------------------------------------------------------------------


@require_GET
def board(request: HttpRequest, brand_slug: str) -> HttpResponse:
    brand = _brand(brand_slug)
    sort = request.GET.get("sort", "popular")
    sort = sort if sort in selectors.SORTS else "popular"
    status = request.GET.get("status") or None
    found = selectors.idea_list(brand=brand, status=status, sort=sort)
    context = _base(
        request, brand, page=found, sort=sort, status=status, statuses=selectors.statuses(brand=brand)
    )
    context["supported"] = selectors.supported_ids(member=context["member"], ideas=found.ideas)
    context["stages"] = services.settings_of(brand).stages
    return render(request, "ideas/board.html", context)


def _idea_for(request: HttpRequest, brand: Brand, idea_id: Any) -> Idea:
    try:
        return selectors.idea_get(
            brand=brand, idea_id=idea_id, staff=_is_staff(request, brand), member=_member(request, brand)
        )
    except KesherError:
        raise Http404("No such idea") from None


@require_GET
def idea_page(request: HttpRequest, brand_slug: str, idea_id: Any) -> HttpResponse:
    brand = _brand(brand_slug)
    idea = _idea_for(request, brand, idea_id)
    context = _base(request, brand, idea=idea, comments=selectors.idea_comments(idea=idea))
    context["supported"] = bool(selectors.supported_ids(member=context["member"], ideas=[idea]))
    stages = services.settings_of(brand).stages
    context["stages"] = stages
    context["threshold"] = (
        stages[idea.stage - 1]["threshold"]
        if idea.phase == Idea.Phase.GATHERING and idea.stage <= len(stages)
        else None
    )
    return render(request, "ideas/idea.html", context)


@login_required
@require_POST
def support(request: HttpRequest, brand_slug: str, idea_id: Any) -> HttpResponse:
    brand = _brand(brand_slug)
    member = _need_member(request, brand)
    idea = _idea_for(request, brand, idea_id)
    try:
        _supported, added = services.idea_support(idea=idea, member=member)
        messages.success(
            request, _("Thank you for your support!") if added else _("You support this idea already.")
        )
    except KesherError as exc:
        _refused(request, exc)
    return redirect(_idea_url(idea))


@login_required
@require_POST
def comment(request: HttpRequest, brand_slug: str, idea_id: Any) -> HttpResponse:
    brand = _brand(brand_slug)
    member = _need_member(request, brand)
    idea = _idea_for(request, brand, idea_id)
    try:
        services.idea_comment(idea=idea, member=member, body=request.POST.get("body", ""))
    except KesherError as exc:
        _refused(request, exc)
    return redirect(_idea_url(idea) + "#comments")


@login_required
@require_http_methods(["GET", "POST"])
def submit(request: HttpRequest, brand_slug: str) -> HttpResponse:
    brand = _brand(brand_slug)
    member = _member(request, brand)
    now = timezone.now()
    challenges = [c for c in selectors.challenge_list(brand=brand) if services.challenge_is_open(c, now)]
    form = {"title": "", "body": "", "challenge": request.GET.get("challenge", "")}
    if request.method == "POST":
        form = {key: request.POST.get(key, "") for key in form}
        if member is None:
            messages.error(request, _("Join the club to take part"))
        else:
            try:
                challenge = (
                    selectors.challenge_get(brand=brand, challenge_id=form["challenge"])
                    if form["challenge"]
                    else None
                )
                idea = services.idea_submit(
                    member=member, title=form["title"], body=form["body"], challenge=challenge
                )
                messages.success(request, _("Your idea is on the board."))
                return redirect(_idea_url(idea))
            except KesherError as exc:
                _refused(request, exc)
    return render(request, "ideas/submit.html", _base(request, brand, form=form, challenges=challenges))


@require_GET
def roadmap(request: HttpRequest, brand_slug: str) -> HttpResponse:
    brand = _brand(brand_slug)
    return render(
        request, "ideas/roadmap.html", _base(request, brand, columns=selectors.roadmap(brand=brand))
    )


@login_required
@require_GET
def notices(request: HttpRequest, brand_slug: str) -> HttpResponse:
    brand = _brand(brand_slug)
    member = _member(request, brand)
    shown = selectors.notices(member=member) if member is not None else []
    unread_ids = {n.pk for n in shown if n.read_at is None}
    if member is not None:
        services.notices_mark_read(member=member)
    return render(request, "ideas/notices.html", _base(request, brand, notices=shown, unread_ids=unread_ids))


# --- challenges ------------------------------------------------------------------------------------------


@require_GET
def challenges(request: HttpRequest, brand_slug: str) -> HttpResponse:
    brand = _brand(brand_slug)
    now = timezone.now()
    rows = [(c, services.challenge_is_open(c, now)) for c in selectors.challenge_list(brand=brand)]
    programs = [p for p in selectors.program_list(brand=brand) if p.open]
    return render(request, "ideas/challenges.html", _base(request, brand, rows=rows, programs=programs))


@require_GET
def challenge(request: HttpRequest, brand_slug: str, challenge_id: Any) -> HttpResponse:
    brand = _brand(brand_slug)
    try:
        found = selectors.challenge_get(brand=brand, challenge_id=challenge_id)
    except KesherError:
        raise Http404("No such challenge") from None
    ideas = selectors.idea_list(brand=brand, challenge=found, sort="popular").ideas
    winners = {w.idea_id for w in found.winners.all()}
    context = _base(
        request,
        brand,
        challenge=found,
        ideas=ideas,
        winners=winners,
        is_open=services.challenge_is_open(found, timezone.now()),
    )
    return render(request, "ideas/challenge.html", context)


# --- beta programs ---------------------------------------------------------------------------------------


def _program(brand: Brand, program_id: Any) -> BetaProgram:
    try:
        return selectors.program_get(brand=brand, program_id=program_id)
    except KesherError:
        raise Http404("No such program") from None


@require_GET
def beta(request: HttpRequest, brand_slug: str, program_id: Any) -> HttpResponse:
    brand = _brand(brand_slug)
    program = _program(brand, program_id)
    member = _member(request, brand)
    context = _base(
        request,
        brand,
        program=program,
        application=selectors.application_of(program=program, member=member),
        eligible=member is not None and services.beta_eligible(program=program, member=member),
        may_enter=services.beta_tester(program=program, member=member) or _is_staff(request, brand),
    )
    return render(request, "ideas/beta.html", context)


@login_required
@require_POST
def beta_apply(request: HttpRequest, brand_slug: str, program_id: Any) -> HttpResponse:
    brand = _brand(brand_slug)
    program = _program(brand, program_id)
    member = _need_member(request, brand)
    try:
        application = services.beta_apply(
            program=program,
            member=member,
            agreement_accepted=request.POST.get("agreement") == "1",
            motivation=request.POST.get("motivation", ""),
        )
        if application.status == BetaApplication.Status.ACCEPTED:
            messages.success(request, _("Welcome aboard: you are one of the testers."))
        else:
            messages.success(request, _("Thank you: the brand will choose its testers soon."))
    except KesherError as exc:
        if exc.code == "validation_failed" or exc.field == "agreement_accepted":
            messages.error(request, _("Please accept the agreement to apply."))
        else:
            _refused(request, exc)
    return redirect("ideas:beta", brand.slug, program.pk)


@login_required
@require_GET
def beta_space(request: HttpRequest, brand_slug: str, program_id: Any) -> HttpResponse:
    """The testers' private page: only accepted testers and the brand's ideas staff see it."""
    brand = _brand(brand_slug)
    program = _program(brand, program_id)
    member = _member(request, brand)
    if not (services.beta_tester(program=program, member=member) or _is_staff(request, brand)):
        raise Http404("No such page")
    done = (
        {f.task_id: f for f in BetaFeedback.objects.filter(task__program=program, member=member)}
        if member is not None
        else {}
    )
    tasks = [(task, done.get(task.pk)) for task in program.tasks.all()]
    return render(request, "ideas/beta_space.html", _base(request, brand, program=program, tasks=tasks))


@login_required
@require_POST
def beta_feedback(request: HttpRequest, brand_slug: str, program_id: Any, task_id: Any) -> HttpResponse:
    brand = _brand(brand_slug)
    program = _program(brand, program_id)
    member = _need_member(request, brand)
    if not services.beta_tester(program=program, member=member):
        raise Http404("No such page")
    try:
        task = selectors.task_get(program=program, task_id=task_id)
        rating = int(request.POST.get("rating", "0") or 0)
        services.beta_feedback_submit(
            task=task, member=member, rating=rating, text=request.POST.get("text", "")
        )
        messages.success(request, _("Thank you for your feedback."))
    except ValueError:
        messages.error(request, _("Please choose a rating from 1 to 5."))
    except KesherError as exc:
        _refused(request, exc)
    return redirect("ideas:beta_space", brand.slug, program.pk)


# --- the staff console -----------------------------------------------------------------------------------


@require_GET
def console(request: HttpRequest, brand_slug: str) -> HttpResponse:
    brand, _actor = _staff(request, brand_slug)
    sort = request.GET.get("sort", "newest")
    sort = sort if sort in selectors.SORTS else "newest"
    found = selectors.idea_list(brand=brand, staff=True, sort=sort, status=request.GET.get("status") or None)
    return render(
        request,
        "ideas/console.html",
        {"brand": brand, "page": found, "statuses": selectors.statuses(brand=brand), "sort": sort},
    )


@require_POST
def console_status(request: HttpRequest, brand_slug: str, idea_id: Any) -> HttpResponse:
    brand, actor = _staff(request, brand_slug)
    idea = _idea_for_staff(brand, idea_id)
    try:
        status = selectors.status_get(brand=brand, code=request.POST.get("status", ""))
        services.idea_status_set(idea=idea, status=status, reason=request.POST.get("reason", ""), actor=actor)
        messages.success(request, _("Status changed; its supporters are told."))
    except KesherError as exc:
        if exc.field == "reason":
            messages.error(request, _("Declining an idea needs a reason."))
        else:
            _refused(request, exc)
    return redirect("ideas:console", brand.slug)


def _idea_for_staff(brand: Brand, idea_id: Any) -> Idea:
    try:
        return selectors.idea_get(brand=brand, idea_id=idea_id, staff=True)
    except KesherError:
        raise Http404("No such idea") from None


@require_POST
def console_moderate(request: HttpRequest, brand_slug: str, idea_id: Any) -> HttpResponse:
    brand, actor = _staff(request, brand_slug)
    idea = _idea_for_staff(brand, idea_id)
    try:
        services.idea_moderate(
            idea=idea,
            action=request.POST.get("action", ""),
            reason=request.POST.get("reason", ""),
            actor=actor,
        )
    except KesherError as exc:
        _refused(request, exc)
    return redirect("ideas:console", brand.slug)


@require_http_methods(["GET", "POST"])
def console_settings(request: HttpRequest, brand_slug: str) -> HttpResponse:
    brand, actor = _staff(request, brand_slug)
    if request.method == "POST":
        try:
            if request.POST.get("form") == "stages":
                stages = []
                for index in range(8):
                    threshold = request.POST.get(f"threshold_{index}", "").strip()
                    days = request.POST.get(f"days_{index}", "").strip()
                    if threshold and days:
                        stages.append({"threshold": int(threshold), "days": int(days)})
                services.idea_stages_set(brand=brand, stages=stages, actor=actor)
            else:
                services.idea_status_save(
                    brand=brand,
                    code=request.POST.get("code", ""),
                    name=request.POST.get("name", ""),
                    kind=request.POST.get("kind") or None,
                    on_roadmap=request.POST.get("on_roadmap") == "1",
                    actor=actor,
                )
            messages.success(request, _("Saved."))
            return redirect("ideas:console_settings", brand.slug)
        except ValueError:
            messages.error(request, _("Numbers only, please."))
        except KesherError as exc:
            _refused(request, exc)
    stages = services.settings_of(brand).stages
    rows = [(i, stages[i] if i < len(stages) else None) for i in range(max(len(stages) + 1, 4))][:8]
    return render(
        request,
        "ideas/console_settings.html",
        {
            "brand": brand,
            "rows": rows,
            "statuses": selectors.statuses(brand=brand),
            "kinds": IdeaStatus.Kind.choices,
        },
    )


def _when(value: str) -> datetime | None:
    parsed = parse_datetime(value) if value else None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


@require_http_methods(["GET", "POST"])
def console_challenges(request: HttpRequest, brand_slug: str) -> HttpResponse:
    brand, actor = _staff(request, brand_slug)
    if request.method == "POST":
        try:
            starts, ends = _when(request.POST.get("starts_at", "")), _when(request.POST.get("ends_at", ""))
            if starts is None or ends is None:
                raise ValueError
            reward_id = request.POST.get("prize_reward", "")
            reward = Reward.objects.filter(brand=brand, pk=reward_id).first() if reward_id else None
            made = services.challenge_create(
                brand=brand,
                title=request.POST.get("title", ""),
                question=request.POST.get("question", ""),
                starts_at=starts,
                ends_at=ends,
                prize_points=int(request.POST.get("prize_points", "0") or 0),
                prize_reward=reward,
                winners_max=int(request.POST.get("winners_max", "1") or 1),
                actor=actor,
            )
            messages.success(request, _("The challenge is set."))
            return redirect("ideas:console_challenge", brand.slug, made.pk)
        except ValueError:
            messages.error(request, _("Please give the dates and numbers."))
        except KesherError as exc:
            _refused(request, exc)
    now = timezone.now()
    rows = [(c, services.challenge_is_open(c, now)) for c in selectors.challenge_list(brand=brand)]
    rewards = list(Reward.objects.filter(brand=brand).order_by("name"))
    return render(
        request, "ideas/console_challenges.html", {"brand": brand, "rows": rows, "rewards": rewards}
    )


@require_http_methods(["GET", "POST"])
def console_challenge(request: HttpRequest, brand_slug: str, challenge_id: Any) -> HttpResponse:
    """The jury's page: the challenge's ideas, and (once it closed) the winners to pick."""
    brand, actor = _staff(request, brand_slug)
    try:
        found = selectors.challenge_get(brand=brand, challenge_id=challenge_id)
    except KesherError:
        raise Http404("No such challenge") from None
    if request.method == "POST":
        try:
            ideas = [_idea_for_staff(brand, pk) for pk in request.POST.getlist("idea")]
            services.challenge_winners_pick(challenge=found, ideas=ideas, actor=actor)
            messages.success(request, _("The winners have their prize."))
            return redirect("ideas:console_challenge", brand.slug, found.pk)
        except KesherError as exc:
            _refused(request, exc)
    ideas = selectors.idea_list(brand=brand, challenge=found, staff=True).ideas
    context = {
        "brand": brand,
        "challenge": found,
        "ideas": ideas,
        "winners": list(found.winners.select_related("idea")),
        "closed": timezone.now() >= found.ends_at,
    }
    return render(request, "ideas/console_challenge.html", context)


@require_http_methods(["GET", "POST"])
def console_betas(request: HttpRequest, brand_slug: str) -> HttpResponse:
    brand, actor = _staff(request, brand_slug)
    if request.method == "POST":
        try:
            tiers = [t for t in request.POST.get("tiers", "").split(",") if t.strip()]
            made = services.beta_program_create(
                brand=brand,
                title=request.POST.get("title", ""),
                description=request.POST.get("description", ""),
                places=int(request.POST.get("places", "0") or 0),
                agreement=request.POST.get("agreement", ""),
                tiers=tiers,
                selection=request.POST.get("selection", "first_come"),
                private_brief=request.POST.get("private_brief", ""),
                actor=actor,
            )
            messages.success(request, _("The program is open."))
            return redirect("ideas:console_beta", brand.slug, made.pk)
        except ValueError:
            messages.error(request, _("Please give the number of places."))
        except KesherError as exc:
            _refused(request, exc)
    return render(
        request,
        "ideas/console_betas.html",
        {
            "brand": brand,
            "programs": selectors.program_list(brand=brand),
            "selections": BetaProgram.Selection.choices,
        },
    )


@require_http_methods(["GET", "POST"])
def console_beta(request: HttpRequest, brand_slug: str, program_id: Any) -> HttpResponse:
    """One program: its applications (accept, decline, or fill by the rule) and its tasks (add one)."""
    brand, actor = _staff(request, brand_slug)
    program = _program(brand, program_id)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "task":
                services.beta_task_add(
                    program=program,
                    title=request.POST.get("title", ""),
                    description=request.POST.get("description", ""),
                    points=int(request.POST.get("points", "0") or 0),
                    actor=actor,
                )
            elif action == "select":
                count = services.beta_applications_select(program=program, actor=actor)
                messages.success(request, _("%(count)s testers chosen.") % {"count": count})
            elif action in ("accept", "decline"):
                application = selectors.application_get(
                    program=program, application_id=request.POST.get("application")
                )
                services.beta_application_decide(
                    application=application, accept=action == "accept", actor=actor
                )
            return redirect("ideas:console_beta", brand.slug, program.pk)
        except ValueError:
            messages.error(request, _("Numbers only, please."))
        except KesherError as exc:
            _refused(request, exc)
    context = {
        "brand": brand,
        "program": program,
        "applications": selectors.applications(program=program),
        "tasks": list(program.tasks.all()),
        "accepted": sum(1 for a in selectors.applications(program=program) if a.status == "accepted"),
    }
    return render(request, "ideas/console_beta.html", context)
