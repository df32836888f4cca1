"""Writing audit rows; call inside the transaction of the change being recorded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kesher.core.models import AuditEntry

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from kesher.brands.models import ApiKey, Brand


@dataclass(frozen=True)
class Actor:
    """Who acts: a staff user on the web, an API key, or the system itself (both None)."""

    user: AbstractBaseUser | None = None
    api_key: ApiKey | None = None

    @property
    def label(self) -> str:
        if self.user is not None:
            return f"user:{self.user.pk}"
        if self.api_key is not None:
            return f"key:{self.api_key.prefix}"
        return "system"


SYSTEM = Actor()


def audit_record(
    *, brand: Brand, actor: Actor, action: str, target_type: str, target_id: object, data: dict[str, Any]
) -> AuditEntry:
    return AuditEntry.objects.create(
        brand=brand,
        actor_user=actor.user,  # type: ignore[misc]
        actor_api_key=actor.api_key,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        data=data,
    )
