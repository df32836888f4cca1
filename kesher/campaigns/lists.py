"""Member lists that a higher part keeps and segments may select from (a port wired from above).

A segment rule `{"kind": "list", "source": "rfm", "name": "at_risk"}` selects the members the part that
installed the source `rfm` (the insights part, from its AppConfig.ready()) puts on its list `at_risk`.
Campaigns never imports that part: it only calls what was installed here. An unknown source or list, or
none installed, selects nobody.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet

# (list name) → a query of member ids (`.values("member_id")`); None when the source has no such list.
MemberListQuery = Callable[[str], "QuerySet[Any] | None"]
# () → [(name, label)]: the lists a source offers, for the segment editor.
MemberListNames = Callable[[], list[tuple[str, Any]]]

_sources: dict[str, tuple[MemberListQuery, MemberListNames]] = {}


def member_list_install(source: str, query: MemberListQuery, names: MemberListNames) -> None:
    _sources[source] = (query, names)


def member_list_query(source: str, name: str) -> QuerySet[Any] | None:
    found = _sources.get(source)
    return found[0](name) if found else None


def member_list_sources() -> dict[str, list[tuple[str, Any]]]:
    return {source: names() for source, (_query, names) in sorted(_sources.items())}
