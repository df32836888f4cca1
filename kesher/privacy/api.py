"""The privacy part's API operations (mounted at /api/v1 by kesher/api/api.py).

`GET /members/{id}/export` answers everything Kesher keeps about the member, as the member's own download
does, except the fields the brand marked highly sensitive: an integration is a processor (Amendment 13).
Erasure over the API is `POST /members/{id}/erase` (kesher/members/api.py), which runs every part's eraser.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from kesher.api.auth import actor_of, brand_of, require_scope
from kesher.api.common import ERRORS
from kesher.members.selectors import member_get
from kesher.privacy import services
from kesher.privacy.models import AccessKind

router = Router()


@router.get(
    "/members/{member_id}/export",
    response={200: dict[str, Any], **ERRORS},
    summary="Everything kept about a member, as JSON (manage; highly sensitive fields withheld)",
)
def export_member(request: HttpRequest, member_id: str) -> dict[str, Any]:
    require_scope(request, "manage")
    brand = brand_of(request)
    member = member_get(brand=brand, member_id=member_id)
    services.access_record(
        brand=brand, actor=actor_of(request), member_id=member.pk, kind=AccessKind.API_EXPORT
    )
    return services.member_data_export(member=member, processor=True)
