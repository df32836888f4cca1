"""What the parts above members do when one joins: they register here, so members never imports them.

member_create runs the hooks inside its transaction at the two moments it used to call those parts
itself, each in registration order (the order of INSTALLED_APPS, in which Django runs ready()):
- `on_member_created`: right after the member's row is written, before their consents are recorded
  (loyalty opens the points account);
- `on_member_joined`: once their consents are recorded, unless the caller asked for no sign-up
  (activity records the `signup`, which referrals and the welcome journey answer).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from kesher.members.models import Member


class MemberCreatedHook(Protocol):
    def __call__(self, *, member: Member) -> object: ...


class MemberJoinedHook(Protocol):
    def __call__(self, *, member: Member, source: str, at: datetime, referrer: Member | None) -> object: ...


_created: list[MemberCreatedHook] = []
_joined: list[MemberJoinedHook] = []


def on_member_created(hook: MemberCreatedHook) -> MemberCreatedHook:
    """Run `hook(member=...)` as soon as each new member's row exists."""
    if hook not in _created:  # ready() may run again: once is enough
        _created.append(hook)
    return hook


def on_member_joined(hook: MemberJoinedHook) -> MemberJoinedHook:
    """Run `hook(member=, source=, at=, referrer=)` when a new member has joined, consents recorded."""
    if hook not in _joined:
        _joined.append(hook)
    return hook


def member_created_run(*, member: Member) -> None:
    for hook in list(_created):
        hook(member=member)


def member_joined_run(*, member: Member, source: str, at: datetime, referrer: Member | None) -> None:
    for hook in list(_joined):
        hook(member=member, source=source, at=at, referrer=referrer)
