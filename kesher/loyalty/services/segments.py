"""Whether a member is in a saved segment: segments belong to the campaigns part, which installs this."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kesher.members.models import Member

# Whether a member is in a saved segment. The campaigns part, which owns segments, installs the answer.
SegmentMatcher = Callable[[Any, Member], bool]


_segment_matchers: list[SegmentMatcher] = []


def segment_matcher_install(matcher: SegmentMatcher) -> None:
    _segment_matchers[:] = [matcher]


def segment_contains(segment_id: Any, member: Member) -> bool:
    return bool(_segment_matchers) and _segment_matchers[0](segment_id, member)
