"""Opening many cases at once, for what takes customers' words in by the thousand (listening's ingest):
the same rules as `case_open` (idempotent by brand, channel and source; the customer's text is the first
message; an "opened" event, the listeners and `case.opened` for each), with a few queries per batch
instead of a dozen per case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from kesher.brands.models import Brand
from kesher.core.audit import SYSTEM, Actor
from kesher.core.bulk import rows_in
from kesher.core.errors import ValidationFailed
from kesher.core.events import event_emit
from kesher.members.models import Member
from kesher.service.hooks import case_changed
from kesher.service.models import (
    PRIORITY_RANK,
    Case,
    CaseEvent,
    CaseMessage,
    CaseStatus,
    Channel,
    Direction,
    EventKind,
    Priority,
    ServiceSettings,
)
from kesher.service.services.cases import _checked_choice, _checked_text
from kesher.service.types import CASE_OPENED


@dataclass(frozen=True)
class CaseOpening:
    """One case to open, as `case_open` takes it."""

    channel: str
    source_ref: str
    subject: str
    text: str
    member: Member | None = None
    priority: str = Priority.NORMAL
    author_handle: str = ""
    author_name: str = ""
    language: str = "he"
    url: str = ""
    author_email: str = ""
    author_phone: str = ""
    opened_at: datetime | None = None


def _checked(brand: Brand, opening: CaseOpening) -> CaseOpening:
    _checked_choice(opening.channel, Channel, "channel")
    _checked_choice(opening.priority, Priority, "priority")
    if opening.member is not None and opening.member.brand_id != brand.pk:
        raise ValidationFailed("The member is not of this brand", field="member", code="member_not_found")
    return CaseOpening(
        **{
            **opening.__dict__,
            "source_ref": _checked_text(opening.source_ref, "source_ref", limit=255),
            "text": _checked_text(opening.text, "text", empty=True),
        }
    )


def _existing(brand: Brand, keys: set[tuple[str, str]]) -> dict[tuple[str, str], Case]:
    by_channel: dict[str, list[str]] = {}
    for channel, ref in keys:
        by_channel.setdefault(channel, []).append(ref)
    found: dict[tuple[str, str], Case] = {}
    for channel, refs in by_channel.items():
        for case in rows_in(Case, "source_ref", sorted(refs), brand_id=brand.pk, channel=channel):
            found[(case.channel, case.source_ref)] = case
    return found


def _case(brand: Brand, opening: CaseOpening, number: int, now: datetime) -> Case:
    at = opening.opened_at or now
    return Case(
        brand=brand,
        number=number,
        channel=opening.channel,
        source_ref=opening.source_ref,
        subject=(opening.subject or "").strip()[:200] or opening.text[:80] or "—",
        member=opening.member,
        author_handle=(opening.author_handle or "").strip()[:200],
        author_name=(opening.author_name or "").strip()[:200],
        author_email=(opening.author_email or "").strip()[:254],
        author_phone=(opening.author_phone or "").strip()[:20],
        language=(opening.language or "he")[:5],
        url=(opening.url or "")[:500],
        priority=opening.priority,
        priority_rank=PRIORITY_RANK[Priority(opening.priority)],
        status=CaseStatus.NEW,
        opened_at=at,
        last_in_at=at if opening.text else None,
        updated_at=now,
    )


def _announce(brand: Brand, case: Case) -> None:
    case_changed(case, EventKind.OPENED)
    data: dict[str, Any] = {
        "case_id": str(case.pk),
        "number": case.number,
        "channel": case.channel,
        "priority": case.priority,
        "subject": case.subject,
        "member_id": str(case.member_id) if case.member_id else None,
    }
    event_emit(brand_id=brand.pk, type=CASE_OPENED, data=data)


@transaction.atomic
def cases_open_many(
    *, brand: Brand, openings: list[CaseOpening], actor: Actor = SYSTEM
) -> list[tuple[Case, bool]]:
    """Each opening's case and whether it was opened now, in the order given. What was opened before (or
    earlier in the same list) is returned as it is, with False."""
    checked = [_checked(brand, opening) for opening in openings]
    keys = {(opening.channel, opening.source_ref) for opening in checked}
    found = _existing(brand, keys)
    if len(found) < len(keys):
        ServiceSettings.objects.get_or_create(brand=brand)
        # One opening at a time per brand, as case_open: a racing twin committed before this lock was
        # given, so reading again under it sees everything opened meanwhile.
        counter = ServiceSettings.objects.select_for_update().get(brand=brand)
        found.update(_existing(brand, keys - found.keys()))
        fresh: dict[tuple[str, str], CaseOpening] = {}
        for opening in checked:
            key = (opening.channel, opening.source_ref)
            if key not in found:
                fresh.setdefault(key, opening)
        if fresh:
            now = timezone.now()
            ServiceSettings.objects.filter(pk=counter.pk).update(next_number=F("next_number") + len(fresh))
            made = [
                _case(brand, opening, counter.next_number + n, now)
                for n, opening in enumerate(fresh.values())
            ]
            Case.objects.bulk_create(made)
            CaseMessage.objects.bulk_create(
                CaseMessage(
                    case=case,
                    direction=Direction.IN,
                    body=opening.text,
                    channel=case.channel,
                    sent_at=case.opened_at,
                )
                for case, opening in zip(made, fresh.values(), strict=True)
                if opening.text
            )
            CaseEvent.objects.bulk_create(
                CaseEvent(
                    case=case,
                    kind=EventKind.OPENED,
                    to_status=CaseStatus.NEW,
                    at=case.opened_at,
                    actor=actor.user,  # type: ignore[misc]
                    data={},
                )
                for case in made
            )
            for case in made:
                _announce(brand, case)
            opened = {(case.channel, case.source_ref) for case in made}
            found.update({(case.channel, case.source_ref): case for case in made})
            return _in_order(checked, found, opened)
    return _in_order(checked, found, set())


def _in_order(
    checked: list[CaseOpening], found: dict[tuple[str, str], Case], opened: set[tuple[str, str]]
) -> list[tuple[Case, bool]]:
    answers, told = [], set()
    for opening in checked:
        key = (opening.channel, opening.source_ref)
        answers.append((found[key], key in opened and key not in told))
        told.add(key)
    return answers
