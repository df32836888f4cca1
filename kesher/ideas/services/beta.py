"""Beta programs: who may apply, the agreement accepted (its text and time kept), testers chosen by rule
(first come within eligibility, or by tier) or by hand, tasks with feedback, points once per task."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from kesher.activity.services import activity_record
from kesher.brands.models import Brand
from kesher.campaigns.models import Segment
from kesher.campaigns.selectors import segment_has_member
from kesher.core.audit import SYSTEM, Actor, audit_record
from kesher.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from kesher.ideas.models import BetaApplication, BetaFeedback, BetaProgram, BetaTask
from kesher.ideas.services._common import ACTIVITY_SOURCE, check_member, clean_text
from kesher.loyalty.models import PointsAccount
from kesher.loyalty.services import points_adjust
from kesher.members.models import Member


def beta_program_create(
    *,
    brand: Brand,
    title: str,
    places: int,
    agreement: str,
    description: str = "",
    tiers: list[str] | None = None,
    segment: Segment | None = None,
    selection: str = BetaProgram.Selection.FIRST_COME,
    private_brief: str = "",
    tasks: list[dict[str, Any]] | None = None,
    actor: Actor,
) -> BetaProgram:
    title = clean_text(title, "title", max_length=200, min_length=3)
    agreement = clean_text(agreement, "agreement", max_length=20_000)
    if not 1 <= places <= 100_000:
        raise ValidationFailed("places is between 1 and 100,000", field="places")
    if selection not in BetaProgram.Selection.values:
        raise ValidationFailed("selection is first_come, by_tier or manual", field="selection")
    if segment is not None and segment.brand_id != brand.pk:
        raise NotFound("No such segment", code="segment_not_found", field="segment_id")
    tier_names = sorted({" ".join(t.split()) for t in tiers or [] if t.strip()})
    with transaction.atomic():
        program = BetaProgram.objects.create(
            brand=brand,
            title=title,
            description=description.strip()[:5000],
            tiers=tier_names,
            segment=segment,
            places=places,
            agreement=agreement,
            selection=selection,
            private_brief=private_brief.strip()[:20_000],
        )
        for task in tasks or []:
            beta_task_add(program=program, actor=SYSTEM, audited=False, **task)
        audit_record(
            brand=brand,
            actor=actor,
            action="ideas.beta_created",
            target_type="beta_program",
            target_id=program.pk,
            data={"title": title, "places": places, "selection": selection, "tiers": tier_names},
        )
    return program


def beta_task_add(
    *,
    program: BetaProgram,
    title: str,
    description: str = "",
    points: int = 0,
    actor: Actor,
    audited: bool = True,
) -> BetaTask:
    title = clean_text(title, "title", max_length=200)
    if not 0 <= points <= 100_000:
        raise ValidationFailed("points is between 0 and 100,000", field="points")
    with transaction.atomic():
        position = BetaTask.objects.filter(program=program).count()
        task = BetaTask.objects.create(
            brand_id=program.brand_id,
            program=program,
            title=title,
            description=description.strip()[:5000],
            points=points,
            position=position,
        )
        if audited:
            audit_record(
                brand=program.brand,
                actor=actor,
                action="ideas.beta_task_added",
                target_type="beta_program",
                target_id=program.pk,
                data={"task_id": str(task.pk), "title": title, "points": points},
            )
    return task


def _tier_of(member: Member) -> tuple[str, Decimal]:
    row = PointsAccount.objects.filter(member=member).values_list("tier__name", "tier__threshold").first()
    if row is None or row[0] is None:
        return "", Decimal(-1)
    return str(row[0]), Decimal(row[1])


def beta_eligible(*, program: BetaProgram, member: Member) -> bool:
    """Each condition the program sets must hold: one of its tiers, its segment."""
    if member.brand_id != program.brand_id:
        return False
    if program.tiers and _tier_of(member)[0] not in program.tiers:
        return False
    return not (program.segment_id is not None and not segment_has_member(program.segment_id, member))


def _accept(application: BetaApplication) -> None:
    application.status = BetaApplication.Status.ACCEPTED
    application.decided_at = timezone.now()
    application.save(update_fields=["status", "decided_at"])
    activity_record(
        brand=application.program.brand,
        member=application.member,
        type="beta_joined",
        attributes={"program_id": str(application.program_id)},
        source=ACTIVITY_SOURCE,
        idempotency_key=f"beta_joined:{application.program_id}:{application.member_id}",
    )


def _accepted_count(program: BetaProgram) -> int:
    return BetaApplication.objects.filter(program=program, status=BetaApplication.Status.ACCEPTED).count()


def beta_apply(
    *, program: BetaProgram, member: Member, agreement_accepted: bool, motivation: str = ""
) -> BetaApplication:
    """The member applies, accepting the agreement (its text and the time are kept). With first-come
    selection they are in at once while places last; otherwise they wait for the brand's choice."""
    check_member(member)
    if not agreement_accepted:
        raise ValidationFailed("the agreement must be accepted", field="agreement_accepted")
    if len(motivation) > 2000:
        raise ValidationFailed("motivation is longer than 2,000 characters", field="motivation")
    with transaction.atomic():
        locked = BetaProgram.objects.select_for_update().select_related("brand").get(pk=program.pk)
        if not locked.open:
            raise Conflict("The program takes no more applications", code="program_closed")
        if not beta_eligible(program=locked, member=member):
            raise PermissionDenied("The member may not apply to this program", code="not_eligible")
        try:
            with transaction.atomic():
                application = BetaApplication.objects.create(
                    brand_id=locked.brand_id,
                    program=locked,
                    member=member,
                    motivation=motivation.strip(),
                    agreement_text=locked.agreement,
                    agreement_accepted_at=timezone.now(),
                )
        except IntegrityError:
            raise Conflict("The member applied already", code="already_applied") from None
        if locked.selection == BetaProgram.Selection.FIRST_COME and _accepted_count(locked) < locked.places:
            _accept(application)
    return application


def beta_applications_select(*, program: BetaProgram, actor: Actor) -> int:
    """Fill the free places by the program's rule: first come, or highest tier first (then first come).
    Returns how many were accepted; audited."""
    with transaction.atomic():
        locked = BetaProgram.objects.select_for_update().select_related("brand").get(pk=program.pk)
        if locked.selection == BetaProgram.Selection.MANUAL:
            raise Conflict("This program's testers are chosen by hand", code="manual_selection")
        free = locked.places - _accepted_count(locked)
        waiting = list(
            BetaApplication.objects.filter(program=locked, status=BetaApplication.Status.APPLIED)
            .select_related("member", "program__brand")
            .order_by("applied_at", "id")
        )
        waiting = [a for a in waiting if beta_eligible(program=locked, member=a.member)]
        if locked.selection == BetaProgram.Selection.BY_TIER:
            waiting.sort(key=lambda a: -_tier_of(a.member)[1])  # stable: first come within a tier
        chosen = waiting[: max(free, 0)]
        for application in chosen:
            _accept(application)
        audit_record(
            brand=locked.brand,
            actor=actor,
            action="ideas.beta_selected",
            target_type="beta_program",
            target_id=locked.pk,
            data={"rule": locked.selection, "accepted": [str(a.member_id) for a in chosen]},
        )
    return len(chosen)


def beta_application_decide(*, application: BetaApplication, accept: bool, actor: Actor) -> BetaApplication:
    """Staff accept or decline one application by hand; audited. No more testers than places."""
    with transaction.atomic():
        program = (
            BetaProgram.objects.select_for_update().select_related("brand").get(pk=application.program_id)
        )
        locked = (
            BetaApplication.objects.select_for_update()
            .select_related("member", "program")
            .get(pk=application.pk)
        )
        if locked.status != BetaApplication.Status.APPLIED:
            raise Conflict("The application was decided already", code="already_decided")
        if accept:
            if _accepted_count(program) >= program.places:
                raise Conflict("Every place is taken", code="program_full")
            _accept(locked)
        else:
            locked.status = BetaApplication.Status.DECLINED
            locked.decided_at = timezone.now()
            locked.save(update_fields=["status", "decided_at"])
        audit_record(
            brand=program.brand,
            actor=actor,
            action="ideas.beta_accepted" if accept else "ideas.beta_declined",
            target_type="beta_application",
            target_id=locked.pk,
            data={"program_id": str(program.pk), "member_id": str(locked.member_id)},
        )
    return locked


def beta_tester(*, program: BetaProgram, member: Member | None) -> bool:
    return (
        member is not None
        and BetaApplication.objects.filter(
            program=program, member=member, status=BetaApplication.Status.ACCEPTED
        ).exists()
    )


def beta_feedback_submit(*, task: BetaTask, member: Member, rating: int, text: str = "") -> BetaFeedback:
    """An accepted tester completes a task with feedback: the task's points once, and the activity."""
    check_member(member)
    program = task.program
    if not beta_tester(program=program, member=member):
        raise PermissionDenied("Only the program's testers send feedback", code="not_a_tester")
    if not 1 <= rating <= 5:
        raise ValidationFailed("rating is 1 to 5", field="rating")
    if len(text) > 5000:
        raise ValidationFailed("text is longer than 5,000 characters", field="text")
    with transaction.atomic():
        try:
            with transaction.atomic():
                feedback = BetaFeedback.objects.create(
                    brand_id=task.brand_id,
                    task=task,
                    member=member,
                    rating=rating,
                    text=text.strip(),
                    points=task.points,
                )
        except IntegrityError:
            raise Conflict("The task is done already", code="task_done") from None
        if task.points:
            points_adjust(member=member, points=task.points, reason=f"Beta task: {task.title}", actor=SYSTEM)
        activity_record(
            brand=program.brand,
            member=member,
            type="beta_task_completed",
            attributes={"program_id": str(program.pk), "task_id": str(task.pk)},
            source=ACTIVITY_SOURCE,
            idempotency_key=f"beta_task_completed:{task.pk}:{member.pk}",
        )
    return feedback
