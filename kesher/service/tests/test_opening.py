"""Opening a batch of cases (what listening's ingest does) keeps case_open's rules: one case per source,
numbers in a row, the customer's text as the first message, an "opened" event, the listeners and
`case.opened` for each case opened now and for none found again; a bad opening changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from kesher.core.errors import ValidationFailed
from kesher.core.events import _listeners, on_event
from kesher.service import hooks
from kesher.service.models import Case, CaseEvent, CaseMessage
from kesher.service.services.cases import case_open
from kesher.service.services.opening import CaseOpening, cases_open_many

pytestmark = pytest.mark.django_db


def _opening(ref: str, text: str = "המשלוח לא הגיע", **kw: Any) -> CaseOpening:
    return CaseOpening(channel="mention", source_ref=ref, subject="", text=text, **kw)


@pytest.fixture
def heard() -> Any:
    seen: list[tuple[str, str, bool]] = []

    def listen(case: Case, kind: str) -> None:
        seen.append((case.source_ref, kind, transaction.get_connection().in_atomic_block))

    hooks.on_case_changed(listen)
    yield seen
    hooks._listeners.remove(listen)


def test_a_batch_opens_one_case_per_source_in_order(
    brand, make_member, heard, django_capture_on_commit_callbacks
):
    first, _ = case_open(brand=brand, channel="mention", source_ref="m:0", subject="", text="ישן")
    member = make_member()
    events: list[Any] = []
    on_event(events.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            answers = cases_open_many(
                brand=brand,
                openings=[
                    _opening("m:1", member=member, priority="high"),
                    _opening("m:0"),  # opened before
                    _opening("m:2", text=""),
                    _opening("m:1", text="again"),  # twice in the same batch
                ],
            )
    finally:
        _listeners.remove(events.append)

    assert [(case.source_ref, new) for case, new in answers] == [
        ("m:1", True),
        ("m:0", False),
        ("m:2", True),
        ("m:1", False),
    ]
    assert answers[1][0].pk == first.pk and answers[3][0].pk == answers[0][0].pk
    assert [answers[0][0].number, answers[2][0].number] == [first.number + 1, first.number + 2]
    one = Case.objects.get(source_ref="m:1")
    assert (one.member_id, one.priority, one.status) == (member.pk, "high", "new")
    assert list(CaseMessage.objects.filter(case=one).values_list("direction", "body")) == [
        ("in", "המשלוח לא הגיע")
    ]
    assert not CaseMessage.objects.filter(case__source_ref="m:2").exists()  # no text, no message
    assert CaseEvent.objects.filter(case__source_ref__in=["m:1", "m:2"], kind="opened").count() == 2
    assert heard == [("m:0", "opened", True), ("m:1", "opened", True), ("m:2", "opened", True)]
    assert [e.data["case_id"] for e in events if e.type == "case.opened"] == [
        str(answers[0][0].pk),
        str(answers[2][0].pk),
    ]
    # A later single opening goes on counting after the batch.
    later, _ = case_open(brand=brand, channel="mention", source_ref="m:3", subject="", text="x")
    assert later.number == first.number + 3


def test_a_bad_opening_in_a_batch_opens_nothing(brand, make_member, other_brand):
    stranger = make_member(of=other_brand)
    for bad in (_opening("m:9", priority="whenever"), _opening(" "), _opening("m:9", member=stranger)):
        with pytest.raises(ValidationFailed):
            cases_open_many(brand=brand, openings=[_opening("m:8"), bad])
    assert not Case.objects.filter(brand=brand).exists()
    assert not CaseEvent.objects.exists() and not CaseMessage.objects.exists()
