"""The service part's domain events (registered from ServiceConfig.ready())."""

from __future__ import annotations

from kesher.core.events import event_type

CASE_OPENED = event_type(
    "case.opened",
    "A service case was opened: case_id, number, channel, priority, subject, member_id (null when unknown)",
)
CASE_SOLVED = event_type(
    "case.solved", "A service case was solved: case_id, number, channel, member_id, first_reply_at, solved_at"
)
