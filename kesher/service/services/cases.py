"""Every change to a case: opening (idempotent by its source), the customer's messages, replies, notes,
assignment, priority and status. Each writes its CaseEvent (and CaseMessage) and tells the registered
listeners (kesher/service/hooks.py) inside the same transaction."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from kesher.brands.models import Brand, StaffMembership
from kesher.core.audit import SYSTEM, Actor, audit_record
from kesher.core.errors import Conflict, NotFound, ValidationFailed
from kesher.core.events import event_emit
from kesher.core.tasks import enqueue
from kesher.members.models import Member
from kesher.service.hooks import case_changed
from kesher.service.models import (
    PRIORITY_RANK,
    Case,
    CaseEvent,
    CaseMessage,
    CaseStatus,
    Channel,
    Delivery,
    Direction,
    EventKind,
    Priority,
    ServiceSettings,
)
from kesher.service.types import CASE_OPENED, CASE_SOLVED

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

MAX_BODY = 20000
# Who may be given a case: the roles that work the inbox (kesher/brands/access.py WORK_INBOX).
_UNSET: Any = object()


def _checked_choice(value: str, choices: type[Any], field: str) -> str:
    if value not in choices.values:
        allowed = ", ".join(choices.values)
        raise ValidationFailed(f"{field} must be one of {allowed}", field=field, code=f"{field}_invalid")
    return value


def _checked_text(value: str, field: str, *, limit: int = MAX_BODY, empty: bool = False) -> str:
    text = (value or "").strip()
    if not text and not empty:
        raise ValidationFailed(f"The {field} is empty", field=field, code=f"{field}_empty")
    if len(text) > limit:
        raise ValidationFailed(
            f"The {field} is longer than {limit} characters", field=field, code=f"{field}_too_long"
        )
    return text


def _event(
    case: Case,
    kind: str,
    *,
    actor: Actor,
    at: datetime,
    from_status: str = "",
    to_status: str = "",
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        at=at,
        actor=actor.user,  # type: ignore[misc]
        data=data or {},
    )


def _locked(case: Case) -> Case:
    try:
        return Case.objects.select_for_update().select_related("brand").get(pk=case.pk)
    except Case.DoesNotExist:
        raise NotFound("No such case", code="case_not_found") from None


def _move(case: Case, to_status: str, *, actor: Actor, at: datetime, why: str = "") -> None:
    """Change the locked case's status, with its event; the caller saves the row."""
    if case.status == to_status:
        return
    from_status = case.status
    case.status = to_status
    if to_status == CaseStatus.SOLVED:
        case.solved_at = at
    elif from_status == CaseStatus.SOLVED:
        case.solved_at = None
        case.csat_asked_at = None
    _event(
        case,
        EventKind.STATUS,
        actor=actor,
        at=at,
        from_status=from_status,
        to_status=to_status,
        data={"why": why} if why else None,
    )


def case_open(
    *,
    brand: Brand,
    channel: str,
    source_ref: str,
    subject: str,
    text: str,
    member: Member | None = None,
    priority: str = "normal",
    author_handle: str = "",
    author_name: str = "",
    language: str = "he",
    url: str = "",
    author_email: str = "",
    author_phone: str = "",
    opened_at: datetime | None = None,
    actor: Actor = SYSTEM,
) -> tuple[Case, bool]:
    """Open a case from something a customer said; the same (brand, channel, source_ref) again returns
    the first case and False. The customer's text is the case's first message."""
    _checked_choice(channel, Channel, "channel")
    _checked_choice(priority, Priority, "priority")
    source_ref = _checked_text(source_ref, "source_ref", limit=255)
    body = _checked_text(text, "text", empty=True)
    title = (subject or "").strip()[:200] or body[:80] or "—"
    if member is not None and member.brand_id != brand.pk:
        raise ValidationFailed("The member is not of this brand", field="member", code="member_not_found")
    found = Case.objects.filter(brand=brand, channel=channel, source_ref=source_ref).first()
    if found is not None:
        return found, False
    now = timezone.now()
    at = opened_at or now
    with transaction.atomic():
        ServiceSettings.objects.get_or_create(brand=brand)
        # One opening at a time per brand: the number is the next, and a racing twin finds the first.
        counter = ServiceSettings.objects.select_for_update().get(brand=brand)
        found = Case.objects.filter(brand=brand, channel=channel, source_ref=source_ref).first()
        if found is not None:
            return found, False
        ServiceSettings.objects.filter(pk=counter.pk).update(next_number=F("next_number") + 1)
        try:
            with transaction.atomic():
                case = Case.objects.create(
                    brand=brand,
                    number=counter.next_number,
                    channel=channel,
                    source_ref=source_ref,
                    subject=title,
                    member=member,
                    author_handle=(author_handle or "").strip()[:200],
                    author_name=(author_name or "").strip()[:200],
                    author_email=(author_email or "").strip()[:254],
                    author_phone=(author_phone or "").strip()[:20],
                    language=(language or "he")[:5],
                    url=(url or "")[:500],
                    priority=priority,
                    priority_rank=PRIORITY_RANK[Priority(priority)],
                    status=CaseStatus.NEW,
                    opened_at=at,
                    last_in_at=at if body else None,
                    updated_at=now,
                )
        except IntegrityError:
            found = Case.objects.filter(brand=brand, channel=channel, source_ref=source_ref).first()
            if found is None:
                raise
            return found, False
        if body:
            CaseMessage.objects.create(
                case=case, direction=Direction.IN, body=body, channel=channel, sent_at=at
            )
        _event(case, EventKind.OPENED, actor=actor, at=at, to_status=CaseStatus.NEW)
        case_changed(case, EventKind.OPENED)
        event_emit(
            brand_id=brand.pk,
            type=CASE_OPENED,
            data={
                "case_id": str(case.pk),
                "number": case.number,
                "channel": channel,
                "priority": priority,
                "subject": case.subject,
                "member_id": str(member.pk) if member is not None else None,
            },
        )
    return case, True


@transaction.atomic
def case_customer_message(
    *, case: Case, text: str, channel: str | None = None, external_id: str = "", at: datetime | None = None
) -> CaseMessage:
    """The customer wrote again (an answer to our email, an SMS): a case waiting or solved opens again."""
    body = _checked_text(text, "text")
    locked = _locked(case)
    now = timezone.now()
    when = at or now
    if external_id and locked.messages.filter(external_id=external_id).exists():
        return locked.messages.get(external_id=external_id)  # the same mail delivered twice
    message = CaseMessage.objects.create(
        case=locked,
        direction=Direction.IN,
        body=body,
        channel=channel or locked.channel,
        sent_at=when,
        external_id=external_id[:255],
    )
    if locked.status in (CaseStatus.WAITING, CaseStatus.SOLVED):
        _move(locked, CaseStatus.OPEN, actor=SYSTEM, at=now, why="customer_wrote")
    locked.last_in_at, locked.updated_at = when, now
    locked.save()
    _event(locked, EventKind.MESSAGE_IN, actor=SYSTEM, at=when, data={"message_id": message.pk})
    case_changed(locked, EventKind.MESSAGE_IN)
    return message


@transaction.atomic
def case_reply(
    *, case: Case, body: str, actor: Actor, status: str | None = None, send: bool = True
) -> CaseMessage:
    """The brand answers the customer in the case's channel. The reply is sent after commit (a task);
    `status` moves the case with it (commonly "waiting", or "solved"), else a new case becomes open."""
    text = _checked_text(body, "body")
    if status is not None:
        _checked_choice(status, CaseStatus, "status")
    locked = _locked(case)
    now = timezone.now()
    message = CaseMessage.objects.create(
        case=locked,
        direction=Direction.OUT,
        author=actor.user,  # type: ignore[misc]
        body=text,
        channel=locked.channel,
        sent_at=now,
        delivery=Delivery.PENDING if send else Delivery.RECORDED,
    )
    if locked.first_reply_at is None:
        locked.first_reply_at = now
    locked.last_out_at = now
    _event(locked, EventKind.REPLIED, actor=actor, at=now, data={"message_id": message.pk})
    target = status or (CaseStatus.OPEN if locked.status == CaseStatus.NEW else None)
    if target is not None:
        _move(locked, target, actor=actor, at=now, why="replied")
    locked.updated_at = now
    locked.save()
    audit_record(
        brand=locked.brand,
        actor=actor,
        action="service.case_reply",
        target_type="case",
        target_id=locked.pk,
        data={"number": locked.number, "message_id": message.pk, "channel": locked.channel},
    )
    case_changed(locked, EventKind.REPLIED)
    if target == CaseStatus.SOLVED:
        _after_solved(locked, ask=True)
    if send:
        message_id = message.pk
        transaction.on_commit(lambda: enqueue("kesher.service.tasks.message_deliver", message_id=message_id))
    return message


@transaction.atomic
def case_note(*, case: Case, body: str, actor: Actor) -> CaseMessage:
    """An internal note: seen by the brand's staff only, never sent."""
    text = _checked_text(body, "body")
    locked = _locked(case)
    now = timezone.now()
    message = CaseMessage.objects.create(
        case=locked,
        direction=Direction.NOTE,
        author=actor.user,  # type: ignore[misc]
        body=text,
        channel=locked.channel,
        sent_at=now,
    )
    locked.updated_at = now
    locked.save(update_fields=["updated_at"])
    _event(locked, EventKind.NOTED, actor=actor, at=now, data={"message_id": message.pk})
    case_changed(locked, EventKind.NOTED)
    return message


def _inbox_staff(brand: Brand, user: AbstractBaseUser) -> None:
    from kesher.brands.access import WORK_INBOX

    if not StaffMembership.objects.filter(brand=brand, user_id=user.pk, role__in=WORK_INBOX).exists():
        raise ValidationFailed(
            "Cases go to the brand's agents and owners only", field="assignee", code="assignee_not_agent"
        )


@transaction.atomic
def case_assign(
    *, case: Case, assignee: AbstractBaseUser | None, actor: Actor, expected: Any = _UNSET
) -> Case:
    """Give the case to an agent (None: back to the queue). `expected` (the assignee id the agent saw, or
    None) refuses the change when someone else took the case meanwhile: two agents taking it at once, one
    wins and the other is told (409 case_taken)."""
    locked = _locked(case)
    if assignee is not None:
        _inbox_staff(locked.brand, assignee)
    if expected is not _UNSET and locked.assignee_id != expected:
        raise Conflict("Someone else took this case meanwhile", code="case_taken")
    new_id = assignee.pk if assignee is not None else None
    if locked.assignee_id == new_id:
        return locked
    now = timezone.now()
    before = locked.assignee_id
    locked.assignee_id = new_id
    if locked.status == CaseStatus.NEW and new_id is not None:
        _move(locked, CaseStatus.OPEN, actor=actor, at=now, why="assigned")
    locked.updated_at = now
    locked.save()
    _event(locked, EventKind.ASSIGNED, actor=actor, at=now, data={"from": before, "to": new_id})
    audit_record(
        brand=locked.brand,
        actor=actor,
        action="service.case_assign",
        target_type="case",
        target_id=locked.pk,
        data={"number": locked.number, "from": before, "to": new_id},
    )
    case_changed(locked, EventKind.ASSIGNED)
    return locked


@transaction.atomic
def case_priority_set(*, case: Case, priority: str, actor: Actor) -> Case:
    _checked_choice(priority, Priority, "priority")
    locked = _locked(case)
    if locked.priority == priority:
        return locked
    now = timezone.now()
    before = locked.priority
    locked.priority, locked.priority_rank = priority, PRIORITY_RANK[Priority(priority)]
    locked.updated_at = now
    locked.save()
    _event(locked, EventKind.PRIORITY, actor=actor, at=now, data={"from": before, "to": priority})
    case_changed(locked, EventKind.PRIORITY)
    return locked


@transaction.atomic
def case_status_set(*, case: Case, status: str, actor: Actor, ask_csat: bool = True) -> Case:
    """Move the case: new, open, waiting (on the customer: the SLA clock pauses), solved. Solving asks the
    customer's satisfaction unless `ask_csat` is False or the brand turned it off."""
    _checked_choice(status, CaseStatus, "status")
    locked = _locked(case)
    if locked.status == status:
        return locked
    if status == CaseStatus.NEW:
        raise Conflict("A case cannot become new again", code="status_invalid")
    now = timezone.now()
    _move(locked, status, actor=actor, at=now)
    locked.updated_at = now
    locked.save()
    case_changed(locked, EventKind.STATUS)
    if status == CaseStatus.SOLVED:
        _after_solved(locked, ask=ask_csat)
    return locked


def _after_solved(case: Case, *, ask: bool) -> None:
    event_emit(
        brand_id=case.brand_id,
        type=CASE_SOLVED,
        data={
            "case_id": str(case.pk),
            "number": case.number,
            "channel": case.channel,
            "member_id": str(case.member_id) if case.member_id else None,
            "first_reply_at": case.first_reply_at.isoformat() if case.first_reply_at else None,
            "solved_at": case.solved_at.isoformat() if case.solved_at else None,
        },
    )
    if not ask:
        return
    settings_of = ServiceSettings.objects.filter(brand_id=case.brand_id)
    wanted = settings_of.values_list("csat_enabled", flat=True).first()
    if wanted is False:
        return
    case_id = case.pk
    transaction.on_commit(lambda: enqueue("kesher.service.tasks.csat_ask", case_id=str(case_id)))
