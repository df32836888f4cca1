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


@pytest.fixture
def written(monkeypatch):
    got: list[tuple[events.Event, bool]] = []
    monkeypatch.setattr(events, "_writers", [lambda event: got.append((event, transaction.get_autocommit()))])
    monkeypatch.setattr(events, "_listeners", [])
    monkeypatch.setattr(events, "_types", {"thing.done": "A thing was done"})
    return got


@pytest.mark.django_db(transaction=True)
def test_an_in_transaction_listener_runs_at_once_inside_the_announcing_transaction(written):
    with transaction.atomic():
        event = events.event_emit(brand_id=uuid.uuid4(), type="thing.done", data={})
        assert written == [(event, False)]  # heard before the commit, inside the transaction


@pytest.mark.django_db(transaction=True)
def test_a_failing_in_transaction_listener_is_logged_and_the_change_goes_on(written, monkeypatch, caplog):
    def broken(event):
        raise ValueError("writer bug")

    monkeypatch.setattr(events, "_writers", [broken, lambda event: written.append((event, True))])
    with transaction.atomic():
        events.event_emit(brand_id=uuid.uuid4(), type="thing.done", data={})
    assert len(written) == 1 and "event writer failed" in caplog.text


def test_registering_twice_keeps_one_and_the_two_kinds_apart(monkeypatch):
    monkeypatch.setattr(events, "_writers", [])
    monkeypatch.setattr(events, "_listeners", [])

    def fn(event):
        return None

    events.on_event(fn, in_transaction=True)
    events.on_event(fn, in_transaction=True)
    assert events._writers == [fn] and events._listeners == []
