"""Who writes a post: a member, or the brand itself."""

from __future__ import annotations

from dataclasses import dataclass

from kesher.core.audit import SYSTEM, Actor
from kesher.members.models import Member


@dataclass(frozen=True)
class Author:
    """Who writes: a member, or the brand itself through a staff user or a manage-scope key."""

    member: Member | None = None
    by_brand: bool = False
    actor: Actor = SYSTEM

    @property
    def is_staff(self) -> bool:
        return self.by_brand
