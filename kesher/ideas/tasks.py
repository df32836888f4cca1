"""The ideas part's background work: the daily sweep of ideas past their stage deadline."""

from __future__ import annotations

from celery import shared_task

from kesher.ideas.services import ideas_expire_due


@shared_task(name="kesher.ideas.tasks.ideas_expire_task")
def ideas_expire_task() -> int:
    return ideas_expire_due()
