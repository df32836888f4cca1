"""What the parts above members do when one joins: they register here, so members never imports them.

member_create runs the hooks inside its transaction at the two moments it used to call those parts
itself, each in registration order (the order of INSTALLED_APPS, in which Django runs ready()):
- `on_member_created`: right after the member's row is written, before their consents are recorded
  (loyalty opens the points account);
- `on_member_joined`: once their consents are recorded, unless the caller asked for no sign-up
  (activity records the `signup`, which referrals and the welcome journey answer).

And the member's data across every part (`on_member_export`, `on_member_erase`, `on_members_merge`): the
privacy rights and the merging of duplicates call every part that keeps data about a member.
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


# The member's data across every part, for the privacy rights (a download of everything, erasure) and for
# merging duplicates. Each part that keeps data about a member registers its three functions from its
# AppConfig.ready(), so members never imports them.


class MemberExporter(Protocol):
    def __call__(self, *, member: Member) -> object: ...


class MemberEraser(Protocol):
    def __call__(self, *, member: Member) -> object: ...


class MembersMerger(Protocol):
    def __call__(self, *, source: Member, target: Member) -> object: ...


_exporters: dict[str, MemberExporter] = {}
_erasers: list[MemberEraser] = []
_mergers: list[MembersMerger] = []


def on_member_export(section: str, exporter: MemberExporter) -> MemberExporter:
    """`exporter(member=)` returns the JSON-ready data the part keeps about the member, under `section`."""
    _exporters.setdefault(section, exporter)
    return exporter


def on_member_erase(eraser: MemberEraser) -> MemberEraser:
    """`eraser(member=)` removes or anonymises the part's personal data about the member, keeping totals."""
    if eraser not in _erasers:
        _erasers.append(eraser)
    return eraser


def on_members_merge(merger: MembersMerger) -> MembersMerger:
    """`merger(source=, target=)` moves the part's data from the duplicate `source` to `target` and returns
    the steps it took (kesher.members.merging.MergeRecord), which an undo plays backwards."""
    if merger not in _mergers:
        _mergers.append(merger)
    return merger


def member_export_run(*, member: Member) -> dict[str, object]:
    """Every registered part's data about the member, by section, sections sorted by name."""
    return {section: _exporters[section](member=member) for section in sorted(_exporters)}


def member_erase_run(*, member: Member) -> None:
    for eraser in list(_erasers):
        eraser(member=member)


def members_merge_run(*, source: Member, target: Member) -> list[tuple[str, object]]:
    """Run every part's merger; returns each one's name and what it returned (its steps, for an undo)."""
    return [
        (f"{merger.__module__}.{getattr(merger, '__name__', '')}", merger(source=source, target=target))
        for merger in list(_mergers)
    ]
