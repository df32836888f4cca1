"""Coupons after they are issued: a cashier burns one, staff cancel one, unused ones expire."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_noop

from kesher.brands.models import Brand
from kesher.core.audit import SYSTEM, Actor, audit_record
from kesher.core.errors import Conflict, NotFound
from kesher.core.events import event_emit, event_type
from kesher.loyalty.models import Coupon, LedgerEntry, PointsAccount, Reward
from kesher.loyalty.services._ledger import _earn, _lock_account
from kesher.loyalty.services.expiry import lot_expiry
from kesher.loyalty.services.program import program_of

COUPON_BURNED = event_type("coupon.burned", "A cashier used a member's coupon")


def _lock_coupon(brand: Brand, code: str) -> Coupon:
    coupon = (
        Coupon.objects.select_for_update(of=("self",))
        .select_related("reward", "member")
        .filter(brand=brand, code=code.strip().upper().replace("-", ""))
        .first()
    )
    if coupon is None:
        raise NotFound("No coupon with this code", field="code", code="coupon_not_found")
    return coupon


@transaction.atomic
def coupon_redeem(*, brand: Brand, code: str, store: str = "", actor: Actor = SYSTEM) -> Coupon:
    """A cashier burns a coupon. Unknown: 404; used, cancelled or expired: 409."""
    coupon = _lock_coupon(brand, code)
    now = timezone.now()
    if coupon.status == Coupon.Status.USED:
        raise Conflict("This coupon was already used", field="code", code="coupon_used")
    if coupon.status == Coupon.Status.VOID:
        raise Conflict("This coupon was cancelled", field="code", code="coupon_void")
    if coupon.status == Coupon.Status.EXPIRED or coupon.expires_at <= now:
        raise Conflict("This coupon has expired", field="code", code="coupon_expired")
    coupon.status = Coupon.Status.USED
    coupon.used_at = now
    coupon.used_at_store = store[:200]
    coupon.save(update_fields=["status", "used_at", "used_at_store"])
    audit_record(
        brand=brand,
        actor=actor,
        action="coupon.redeem",
        target_type="coupon",
        target_id=coupon.pk,
        data={"store": store[:200]},
    )
    event_emit(
        brand_id=brand.pk,
        type=COUPON_BURNED,
        data={
            "coupon_id": str(coupon.pk),
            "coupon_code": coupon.code,
            "member_id": str(coupon.member_id),
            "reward_id": str(coupon.reward_id),
            "store": coupon.used_at_store,
            "used_at": now.isoformat(),
        },
    )
    return coupon


def _refund_coupon(coupon: Coupon, *, description: str) -> LedgerEntry:
    account = _lock_account(coupon.member_id)
    program = program_of(coupon.brand_id)
    now = timezone.now()
    brand = Brand.objects.get(pk=coupon.brand_id)
    entry = _earn(
        account=account,
        points=coupon.cost_points,
        activity=None,
        rule=None,
        description=description,
        expires_at=lot_expiry(program=program, earned_at=now, time_zone=brand.time_zone),
        kind=LedgerEntry.Kind.REVERSE,
    )
    # Giving back redeemed points is not new earning.
    PointsAccount.objects.filter(pk=account.pk).update(
        lifetime_earned=F("lifetime_earned") - coupon.cost_points,
        lifetime_redeemed=F("lifetime_redeemed") - coupon.cost_points,
    )
    if coupon.reward.stock is not None:
        Reward.objects.filter(pk=coupon.reward_id).update(stock=F("stock") + 1)
    coupon.refund_entry = entry
    return entry


@transaction.atomic
def coupon_void(*, brand: Brand, code: str, reason: str, actor: Actor) -> Coupon:
    """Cancel an unused coupon; its points come back to the member. Audited."""
    coupon = _lock_coupon(brand, code)
    if coupon.status != Coupon.Status.ISSUED:
        raise Conflict(
            f"Only an unused coupon can be cancelled; this one is {coupon.status}",
            field="code",
            code=f"coupon_{coupon.status}",
        )
    _refund_coupon(coupon, description=gettext_noop("A cancelled coupon's points came back"))
    coupon.status = Coupon.Status.VOID
    coupon.save(update_fields=["status", "refund_entry"])
    audit_record(
        brand=brand,
        actor=actor,
        action="coupon.void",
        target_type="coupon",
        target_id=coupon.pk,
        data={"reason": reason[:300], "points": coupon.cost_points},
    )
    return coupon


def coupons_expire_due(*, now: datetime | None = None) -> int:
    """Expire unused coupons past their date; refund points where the brand's program says so. Safe twice."""
    now = now or timezone.now()
    done = 0
    due = Coupon.objects.filter(status=Coupon.Status.ISSUED, expires_at__lte=now).values_list("pk", flat=True)
    for coupon_id in list(due[:10_000]):
        with transaction.atomic():
            coupon = Coupon.objects.select_for_update(of=("self",)).select_related("reward").get(pk=coupon_id)
            if coupon.status != Coupon.Status.ISSUED:
                continue
            if program_of(coupon.brand_id).coupon_expiry_refund:
                _refund_coupon(coupon, description=gettext_noop("An expired coupon's points came back"))
            coupon.status = Coupon.Status.EXPIRED
            coupon.save(update_fields=["status", "refund_entry"])
            done += 1
    return done
