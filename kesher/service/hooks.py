"""Who hears about a case's change, inside its transaction: the response-time targets (kesher/service/sla)
register here from their AppConfig.ready(), so the inbox never imports them.

`kind` is the CaseEvent kind written with the change: opened, status, assigned, priority, replied, noted,
message_in, csat, made_right. A listener that raises undoes the change (it runs in the same transaction).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kesher.service.models import Case

CaseListener = Callable[["Case", str], object]

_listeners: list[CaseListener] = []


def on_case_changed(fn: CaseListener) -> CaseListener:
    """Call `fn(case, kind)` inside the transaction of every case change from now on."""
    if fn not in _listeners:  # ready() may run again: once is enough
        _listeners.append(fn)
    return fn


def case_changed(case: Case, kind: str) -> None:
    for fn in list(_listeners):
        fn(case, kind)
