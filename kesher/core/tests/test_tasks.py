"""The enqueue port: a task started by its name runs with its arguments, as `.delay()` would."""

from __future__ import annotations

from typing import Any

import pytest
from celery import shared_task

from kesher.core.tasks import enqueue

ran: list[tuple[Any, ...]] = []


@shared_task(name="kesher.core.tests.record")
def record(*args: Any, **kwargs: Any) -> None:
    ran.append((args, kwargs))


def test_a_task_is_started_by_its_name_with_its_arguments() -> None:
    ran.clear()
    enqueue("kesher.core.tests.record", "a", 2, countdown=5, flag=True)
    assert ran == [(("a", 2), {"flag": True})]


def test_a_task_of_every_domain_is_found_by_name() -> None:
    from celery import current_app

    current_app.loader.import_default_modules()
    assert "kesher.loyalty.tasks.referral_pay" in current_app.tasks


def test_an_unknown_name_is_refused_and_nothing_runs() -> None:
    ran.clear()
    with pytest.raises(LookupError, match="kesher.nowhere.task"):
        enqueue("kesher.nowhere.task", 1)
    assert ran == []
