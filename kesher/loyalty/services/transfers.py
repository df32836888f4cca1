"""A member gives points to another member of the same club, where the club allows it."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_noop

from kesher.core.audit import SYSTEM, Actor, audit_record
from kesher.core.errors import NotFound, PermissionDenied, ValidationFailed
from kesher.core.limits import check_points_credit
from kesher.loyalty.models import LedgerEntry, PointsAccount, PointsLot
from kesher.loyalty.services._ledger import _lock_accounts, _refresh, _spend
from kesher.loyalty.services.program import program_of
from kesher.members.models import Member


@transaction.atomic
def points_transfer(*, sender: Member, receiver: Member, points: int, actor: Actor = SYSTEM) -> LedgerEntry:
    """Move points between two members of one brand, where the brand allows it. Expiry dates travel along."""
    if sender.brand_id != receiver.brand_id:
        raise NotFound("No such member", field="to_member_id", code="member_not_found")
    if sender.pk == receiver.pk:
        raise ValidationFailed("A member cannot transfer to themselves", field="to_member_id")
    if points <= 0:
        raise ValidationFailed("points must be positive", field="points")
    if not program_of(sender.brand_id).allow_transfers:
        raise PermissionDenied("This club does not allow transfers", code="transfers_disabled")
    accounts = _lock_accounts([sender.pk, receiver.pk])
    check_points_credit(
        balance=accounts[receiver.pk].balance, pending=accounts[receiver.pk].pending, points=points
    )
    out = _spend(
        account=accounts[sender.pk],
        points=points,
        kind=LedgerEntry.Kind.TRANSFER,
        description=gettext_noop("Transferred to another member"),
    )
    receiving = accounts[receiver.pk]
    for consumption in out.consumptions.select_related("lot"):
        PointsLot.objects.create(
            account=receiving,
            brand_id=receiving.brand_id,
            points=consumption.points,
            remaining=consumption.points,
            earned_at=timezone.now(),
            expires_at=consumption.lot.expires_at,
        )
    PointsAccount.objects.filter(pk=receiving.pk).update(balance=F("balance") + points)
    _refresh(receiving)
    incoming = LedgerEntry.objects.create(
        account=receiving,
        brand_id=receiving.brand_id,
        kind=LedgerEntry.Kind.TRANSFER,
        points=points,
        balance_after=receiving.balance,
        description=gettext_noop("Transferred from another member"),
    )
    audit_record(
        brand=sender.brand,
        actor=actor,
        action="points.transfer",
        target_type="member",
        target_id=sender.pk,
        data={"to": str(receiver.pk), "points": points},
    )
    return incoming
