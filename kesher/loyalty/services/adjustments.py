"""Staff add or take points by hand, with a reason, audited."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from kesher.core.audit import Actor, audit_record
from kesher.core.errors import InsufficientPoints, ValidationFailed
from kesher.core.limits import check_points_operation
from kesher.loyalty.models import LedgerEntry
from kesher.loyalty.services._ledger import _earn, _lock_account, _spend
from kesher.loyalty.services.expiry import lot_expiry
from kesher.loyalty.services.program import program_of
from kesher.members.models import Member


@transaction.atomic
def points_adjust(*, member: Member, points: int, reason: str, actor: Actor) -> LedgerEntry:
    """Staff add or take points with a reason; audited."""
    if points == 0:
        raise ValidationFailed("points must not be zero", field="points")
    check_points_operation(points)
    if not reason.strip():
        raise ValidationFailed("a reason is required", field="reason")
    account = _lock_account(member.pk)
    if points > 0:
        program = program_of(member.brand_id)
        entry = _earn(
            account=account,
            points=points,
            activity=None,
            rule=None,
            description=reason.strip(),
            expires_at=lot_expiry(
                program=program, earned_at=timezone.now(), time_zone=member.brand.time_zone
            ),
            kind=LedgerEntry.Kind.ADJUST,
        )
    else:
        try:
            entry = _spend(
                account=account, points=-points, kind=LedgerEntry.Kind.ADJUST, description=reason.strip()
            )
        except InsufficientPoints:
            raise InsufficientPoints(
                f"The balance is {account.balance}; cannot take {-points}", field="points"
            ) from None
    audit_record(
        brand=member.brand,
        actor=actor,
        action="points.adjust",
        target_type="member",
        target_id=member.pk,
        data={"points": points, "reason": reason.strip()},
    )
    return entry
