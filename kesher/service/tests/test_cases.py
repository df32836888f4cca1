"""A case's life: opened once per source, replied, noted, assigned, waiting, solved; every status change
leaves an event with from and to, and the listeners hear each change inside its transaction."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from kesher.core.audit import Actor
from kesher.core.errors import Conflict, ValidationFailed
from kesher.core.events import on_event
from kesher.core.models import AuditEntry
from kesher.service import hooks
from kesher.service.models import Case, CaseEvent, CaseMessage
from kesher.service.services.cases import (
    case_assign,
    case_customer_message,
    case_note,
    case_open,
    case_priority_set,
    case_reply,
    case_status_set,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard() -> Any:
    seen: list[tuple[int, str, bool]] = []

    def listen(case: Case, kind: str) -> None:
        seen.append((case.number, kind, transaction.get_connection().in_atomic_block))

    hooks.on_case_changed(listen)
    yield seen
    hooks._listeners.remove(listen)


def test_opening_twice_from_one_source_makes_one_case(
    brand, make_member, heard, django_capture_on_commit_callbacks
):
    member = make_member()
    events: list[Any] = []
    on_event(events.append)
    with django_capture_on_commit_callbacks(execute=True):
        first, created = case_open(
            brand=brand,
            channel="mention",
            source_ref="tw:1",
            subject="",
            text="השירות היה גרוע",
            member=member,
        )
    again, created_again = case_open(brand=brand, channel="mention", source_ref="tw:1", subject="x", text="y")

    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert first.number == 1 and first.status == "new" and first.subject == "השירות היה גרוע"
    assert Case.objects.count() == 1
    assert list(first.messages.values_list("direction", "body")) == [("in", "השירות היה גרוע")]
    assert list(first.events.values_list("kind", "to_status")) == [("opened", "new")]
    assert heard == [(1, "opened", True)]
    opened = [e for e in events if e.type == "case.opened"]
    assert opened[0].data["case_id"] == str(first.pk) and opened[0].data["member_id"] == str(member.pk)


def test_numbers_count_per_brand(brand, other_brand, make_case):
    assert [make_case().number, make_case().number, make_case(of=other_brand).number] == [1, 2, 1]


def test_bad_channel_or_priority_is_refused_and_nothing_is_made(brand):
    with pytest.raises(ValidationFailed) as bad:
        case_open(brand=brand, channel="fax", source_ref="1", subject="s", text="t")
    assert bad.value.code == "channel_invalid"
    with pytest.raises(ValidationFailed) as bad:
        case_open(brand=brand, channel="email", source_ref="1", subject="s", text="t", priority="asap")
    assert bad.value.code == "priority_invalid"
    assert not Case.objects.exists()


def test_a_reply_opens_the_case_and_waiting_then_the_customer_reopens_it(brand, agent, make_case, heard):
    case = make_case()
    reply = case_reply(case=case, body="שלום, בודקים", actor=Actor(user=agent), status="waiting", send=False)
    case.refresh_from_db()
    assert case.status == "waiting" and case.first_reply_at == reply.sent_at
    case_customer_message(case=case, text="עדיין מחכה")
    case.refresh_from_db()

    assert case.status == "open"
    transitions = list(
        CaseEvent.objects.filter(case=case, kind="status").values_list("from_status", "to_status")
    )
    assert transitions == [("new", "waiting"), ("waiting", "open")]
    assert [k for _, k, _ in heard] == ["opened", "replied", "message_in"]
    assert AuditEntry.objects.filter(action="service.case_reply", target_id=str(case.pk)).count() == 1


def test_a_note_is_kept_but_never_sent(brand, agent, make_case):
    case = make_case()
    note = case_note(case=case, body="לקוחה ותיקה, לפצות", actor=Actor(user=agent))
    assert (note.direction, note.delivery, note.author_id) == ("note", "", agent.pk)
    case.refresh_from_db()
    assert case.status == "new" and case.first_reply_at is None


def test_assigning_to_a_marketer_is_refused(brand, make_staff, make_case):
    case = make_case()
    marketer = make_staff("marketer")
    with pytest.raises(ValidationFailed) as refused:
        case_assign(case=case, assignee=marketer, actor=Actor(user=marketer))
    assert refused.value.code == "assignee_not_agent"
    case.refresh_from_db()
    assert case.assignee_id is None and not case.events.filter(kind="assigned").exists()


def test_taking_a_case_someone_took_meanwhile_is_refused(brand, make_staff, make_case):
    case = make_case()
    dana, yossi = make_staff(name="dana"), make_staff(name="yossi")
    case_assign(case=case, assignee=dana, actor=Actor(user=dana), expected=None)
    with pytest.raises(Conflict) as taken:
        case_assign(case=case, assignee=yossi, actor=Actor(user=yossi), expected=None)
    assert taken.value.code == "case_taken"
    case.refresh_from_db()
    assert case.assignee_id == dana.pk and case.status == "open"


def test_solving_asks_satisfaction_unless_told_not_to(
    brand, agent, make_case, django_capture_on_commit_callbacks
):
    asked, quiet = make_case(), make_case()
    with django_capture_on_commit_callbacks() as callbacks:
        case_status_set(case=asked, status="solved", actor=Actor(user=agent))
    assert len(callbacks) == 2  # case.solved to the listeners, and the CSAT question's task
    with django_capture_on_commit_callbacks() as callbacks:
        case_status_set(case=quiet, status="solved", actor=Actor(user=agent), ask_csat=False)
    assert len(callbacks) == 1
    quiet.refresh_from_db()
    assert quiet.solved_at is not None and quiet.status == "solved"


def test_a_case_does_not_become_new_again(brand, agent, make_case):
    case = make_case()
    case_status_set(case=case, status="open", actor=Actor(user=agent))
    with pytest.raises(Conflict):
        case_status_set(case=case, status="new", actor=Actor(user=agent))
    assert Case.objects.get(pk=case.pk).status == "open"


def test_priority_moves_the_rank(brand, agent, make_case):
    case = case_priority_set(case=make_case(), priority="urgent", actor=Actor(user=agent))
    assert (case.priority, case.priority_rank) == ("urgent", 0)


def test_an_empty_reply_is_refused(brand, agent, make_case):
    case = make_case()
    with pytest.raises(ValidationFailed):
        case_reply(case=case, body="   ", actor=Actor(user=agent))
    assert CaseMessage.objects.filter(case=case).count() == 1
