"""Saved segments as loyalty uses them: they belong to the campaigns part, above loyalty, which installs
here how to tell who is in one (for earning rules limited to a segment, and surprises to a segment)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet

from kesher.brands.models import Brand
from kesher.core.errors import NotFound
from kesher.members.models import Member

# Whether a member is in a saved segment. The campaigns part, which owns segments, installs the answer.
SegmentMatcher = Callable[[Any, Member], bool]
# A saved segment's members (every status but erased); NotFound(code="segment_not_found") when unknown.
SegmentAudience = Callable[[Brand, Any], QuerySet[Member]]


_segment_matchers: list[SegmentMatcher] = []
_segment_audiences: list[SegmentAudience] = []


def segment_matcher_install(matcher: SegmentMatcher) -> None:
    _segment_matchers[:] = [matcher]


def segment_contains(segment_id: Any, member: Member) -> bool:
    return bool(_segment_matchers) and _segment_matchers[0](segment_id, member)


def segment_audience_install(audience: SegmentAudience) -> None:
    _segment_audiences[:] = [audience]


def segment_members(*, brand: Brand, segment_id: Any) -> QuerySet[Member]:
    """The members of the brand's saved segment `segment_id`; with no campaigns part, no segment exists."""
    if not _segment_audiences:
        raise NotFound(f"No segment with id {segment_id}", code="segment_not_found")
    return _segment_audiences[0](brand, segment_id)
