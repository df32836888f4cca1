"""The domain events bus: listeners hear an event only once its transaction commits."""

from __future__ import annotations

import uuid

import pytest
from django.db import transaction

from kesher.core import events


@pytest.fixture
def heard(monkeypatch):
    got: list[events.Event] = []
    monkeypatch.setattr(events, "_listeners", [got.append])
    monkeypatch.setattr(events, "_types", {"thing.done": "A thing was done"})
    return got


@pytest.mark.django_db(transaction=True)
def test_listeners_hear_the_event_after_commit(heard):
    brand_id = uuid.uuid4()
    with transaction.atomic():
        event = events.event_emit(brand_id=brand_id, type="thing.done", data={"n": 1})
        assert heard == []
    assert heard == [event]
    assert event.brand_id == brand_id and event.data == {"n": 1} and event.id.startswith("evt_")


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_is_never_announced(heard):
    with pytest.raises(RuntimeError), transaction.atomic():
        events.event_emit(brand_id=uuid.uuid4(), type="thing.done", data={})
        raise RuntimeError("the change fails")
    assert heard == []


@pytest.mark.django_db(transaction=True)
def test_a_failing_listener_does_not_stop_the_others(heard, monkeypatch):
    def broken(event):
        raise ValueError("listener bug")

    monkeypatch.setattr(events, "_listeners", [broken, heard.append])
    events.event_emit(brand_id=uuid.uuid4(), type="thing.done", data={})
    assert len(heard) == 1


def test_undeclared_and_badly_named_types_are_refused(heard):
    with pytest.raises(LookupError):
        events.event_emit(brand_id=uuid.uuid4(), type="thing.undone", data={})
    with pytest.raises(ValueError):
        events.event_type("ThingDone", "no dot, capitals")
    assert heard == []
