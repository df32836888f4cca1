"""Start background work by the task's name, so a service never imports the module that defines it.

Tasks live in each domain's `tasks.py` and are thin wrappers over services; the services are the
lower floor and must not import them back. `enqueue("kesher.loyalty.tasks.referral_pay", id)` looks the
task up in the Celery app's registry, so it honours the embedded mode (tasks run in-process when no
broker is configured) exactly as calling `.delay()` on the task would.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from celery import current_app


def enqueue(
    name: str,
    /,
    *args: Any,
    countdown: float | None = None,
    eta: datetime | None = None,
    **kwargs: Any,
) -> None:
    """Run the task called `name` in the background with these arguments (after `countdown` or at `eta`)."""
    tasks = current_app.tasks
    if name not in tasks:
        # The web process has not imported every app's tasks module yet (the worker does at start).
        current_app.loader.import_default_modules()
        if name not in tasks:
            raise LookupError(f"No background task is named {name!r}")
    options: dict[str, Any] = {}
    if countdown is not None:
        options["countdown"] = countdown
    if eta is not None:
        options["eta"] = eta
    tasks[name].apply_async(args=args, kwargs=kwargs, **options)
