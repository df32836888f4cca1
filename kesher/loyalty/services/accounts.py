"""Opening a member's points account."""

from __future__ import annotations

from kesher.loyalty.models import PointsAccount
from kesher.loyalty.services.program import program_of
from kesher.members.models import Member


def account_open(*, member: Member) -> PointsAccount:
    program = program_of(member.brand_id)
    account, _ = PointsAccount.objects.get_or_create(
        member=member, defaults={"brand_id": member.brand_id, "allow_debt": program.allow_debt}
    )
    return account
