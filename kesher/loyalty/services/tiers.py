"""Tiers: creating them, putting members in the one they qualify for, the yearly review and progress."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_noop

from kesher.activity.models import Activity
from kesher.brands.models import Brand
from kesher.core.audit import SYSTEM, Actor, audit_record
from kesher.core.errors import Conflict, ValidationFailed
from kesher.core.limits import check_bounds
from kesher.loyalty.models import LedgerEntry, LoyaltyProgram, PointsAccount, Tier, TierChange
from kesher.loyalty.services._rule_cache import rules_changed
from kesher.loyalty.services.program import program_of


def tier_create(
    *,
    brand: Brand,
    name: str,
    threshold: Decimal,
    multiplier: Decimal = Decimal(1),
    perks: str = "",
    texts: dict[str, str] | None = None,
    actor: Actor = SYSTEM,
) -> Tier:
    check_bounds({"threshold": threshold, "multiplier": multiplier})
    if threshold < 0:
        raise ValidationFailed("threshold must not be negative", field="threshold")
    if multiplier < 1:
        raise ValidationFailed("multiplier must be at least 1", field="multiplier")
    if Tier.objects.filter(brand=brand, name=name).exists():
        raise Conflict(f"A tier named {name!r} exists", field="name")
    with transaction.atomic():
        tier = Tier.objects.create(
            brand=brand, name=name, threshold=threshold, multiplier=multiplier, perks=perks, texts=texts or {}
        )
        rules_changed(brand_id=brand.pk)
        audit_record(
            brand=brand,
            actor=actor,
            action="tier.create",
            target_type="tier",
            target_id=tier.pk,
            data={"name": name, "threshold": str(threshold)},
        )
    return tier


def _period_start(program: LoyaltyProgram, now: datetime, time_zone: str) -> datetime:
    if program.tier_period == LoyaltyProgram.TierPeriod.CALENDAR_YEAR:
        return datetime(
            now.astimezone(zoneinfo.ZoneInfo(time_zone)).year, 1, 1, tzinfo=zoneinfo.ZoneInfo(time_zone)
        )
    return now - timedelta(days=365)


def tier_qualifying_value(*, account: PointsAccount, now: datetime | None = None) -> Decimal:
    """Points earned, or money spent, in the brand's tier period up to `now`."""
    now = now or timezone.now()
    program = program_of(account.brand_id)
    brand = Brand.objects.get(pk=account.brand_id)
    start = _period_start(program, now, brand.time_zone)
    if program.tier_basis == LoyaltyProgram.TierBasis.SPEND:
        purchases = Activity.objects.filter(
            member_id=account.member_id, type="purchase", occurred_at__gte=start, occurred_at__lte=now
        ).values_list("attributes", flat=True)
        spent = sum((Decimal(str(a.get("amount", "0"))) for a in purchases), Decimal(0))
        returns = Activity.objects.filter(
            member_id=account.member_id, type="return", occurred_at__gte=start, occurred_at__lte=now
        ).values_list("attributes", flat=True)
        return spent - sum((Decimal(str(a.get("amount") or 0)) for a in returns), Decimal(0))
    earned = (
        LedgerEntry.objects.filter(
            account=account,
            kind__in=[LedgerEntry.Kind.EARN, LedgerEntry.Kind.REVERSE],
            created_at__gte=start,
        )
        .exclude(activity__isnull=True)
        .aggregate(total=Sum("points"))["total"]
        or 0
    )
    return Decimal(earned)


def tier_for_value(*, brand_id: Any, value: Decimal) -> Tier | None:
    return Tier.objects.filter(brand_id=brand_id, threshold__lte=value).order_by("-threshold").first()


def tier_evaluate(
    *,
    account: PointsAccount,
    upgrade_only: bool,
    now: datetime | None = None,
    reason: str = gettext_noop("Qualified"),
) -> Tier | None:
    """Put the member in the tier they qualify for. Upgrades happen at once; downgrades only when asked."""
    if not Tier.objects.filter(brand_id=account.brand_id).exists():
        return None
    value = tier_qualifying_value(account=account, now=now)
    qualified = tier_for_value(brand_id=account.brand_id, value=value)
    current = account.tier
    if qualified == current:
        return current
    going_up = current is None or (qualified is not None and qualified.threshold > current.threshold)
    if upgrade_only and not going_up:
        return current
    PointsAccount.objects.filter(pk=account.pk).update(tier=qualified, tier_since=now or timezone.now())
    TierChange.objects.create(
        account=account, brand_id=account.brand_id, from_tier=current, to_tier=qualified, reason=reason
    )
    account.tier = qualified
    return qualified


def tiers_review(*, brand: Brand, now: datetime | None = None) -> int:
    """At the period end: downgrade who no longer qualifies (after the grace period). Safe to run twice."""
    now = now or timezone.now()
    program = program_of(brand.pk)
    changed = 0
    for member_id in PointsAccount.objects.filter(brand=brand, tier__isnull=False).values_list(
        "member_id", flat=True
    ):
        with transaction.atomic():
            account = (
                PointsAccount.objects.select_for_update(of=("self",))
                .select_related("tier")
                .get(member_id=member_id)
            )
            if account.tier_since and account.tier_since > now - timedelta(days=program.tier_grace_days):
                continue
            before = account.tier
            after = tier_evaluate(
                account=account, upgrade_only=False, now=now, reason=gettext_noop("Yearly review")
            )
            changed += before != after
    return changed


def tier_progress(*, account: PointsAccount) -> dict[str, Any]:
    """What the portal shows: the current tier, the next one and how far it is."""
    value = tier_qualifying_value(account=account)
    upcoming = (
        Tier.objects.filter(brand_id=account.brand_id, threshold__gt=value).order_by("threshold").first()
    )
    return {
        "tier": account.tier,
        "value": value,
        "next_tier": upcoming,
        "to_next": (upcoming.threshold - value) if upcoming else None,
    }


TIER_FIELDS = {"name", "threshold", "multiplier", "perks", "texts"}


@transaction.atomic
def tier_update(*, tier: Tier, changes: dict[str, Any], actor: Actor) -> Tier:
    """Change a tier's name, threshold, multiplier or perks. Members move at their next purchase or the
    yearly review, as they would for a new tier."""
    unknown = set(changes) - TIER_FIELDS
    if unknown:
        raise ValidationFailed(f"Unknown tier field {sorted(unknown)[0]!r}", field=sorted(unknown)[0])
    check_bounds({name: changes[name] for name in ("threshold", "multiplier") if name in changes})
    if "threshold" in changes and changes["threshold"] < 0:
        raise ValidationFailed("threshold must not be negative", field="threshold")
    if "multiplier" in changes and changes["multiplier"] < 1:
        raise ValidationFailed("multiplier must be at least 1", field="multiplier")
    tier = Tier.objects.select_for_update().get(pk=tier.pk)
    if (
        "name" in changes
        and Tier.objects.filter(brand_id=tier.brand_id, name=changes["name"]).exclude(pk=tier.pk).exists()
    ):
        raise Conflict(f"A tier named {changes['name']!r} exists", field="name")
    before = {name: str(getattr(tier, name)) for name in changes}
    for name, value in changes.items():
        setattr(tier, name, value)
    tier.save()
    rules_changed(brand_id=tier.brand_id)
    audit_record(
        brand=tier.brand,
        actor=actor,
        action="tier.update",
        target_type="tier",
        target_id=tier.pk,
        data={"before": before, "after": {k: str(v) for k, v in changes.items()}},
    )
    return tier


def _qualifying_values(brand: Brand, now: datetime) -> dict[Any, Decimal]:
    """Every member's qualifying value in the current tier period, in two queries (members with none: 0)."""
    program = program_of(brand.pk)
    start = _period_start(program, now, brand.time_zone)
    values: dict[Any, Decimal] = {
        member_id: Decimal(0)
        for member_id in PointsAccount.objects.filter(brand=brand).values_list("member_id", flat=True)
    }
    if program.tier_basis == LoyaltyProgram.TierBasis.SPEND:
        moves = Activity.objects.filter(
            brand=brand, type__in=["purchase", "return"], occurred_at__gte=start, occurred_at__lte=now
        ).values_list("member_id", "type", "attributes")
        for member_id, kind, attributes in moves:
            if member_id not in values:
                continue
            amount = Decimal(str(attributes.get("amount") or 0))
            values[member_id] += amount if kind == "purchase" else -amount
        return values
    earned = (
        LedgerEntry.objects.filter(
            brand=brand,
            kind__in=[LedgerEntry.Kind.EARN, LedgerEntry.Kind.REVERSE],
            created_at__gte=start,
            activity__isnull=False,
        )
        .values("account_id")
        .annotate(total=Sum("points"))
    )
    for row in earned:
        if row["account_id"] in values:
            values[row["account_id"]] = Decimal(row["total"] or 0)
    return values


def tiers_preview(
    *, brand: Brand, threshold: Decimal, name: str, tier_id: Any = None, now: datetime | None = None
) -> list[dict[str, Any]]:
    """How many members would be in each tier today if the tier `tier_id` (or a new one) had this threshold:
    one row per tier, lowest first, and a first row (tier None) for members below every threshold. Members
    are counted by what they qualify with now; their tiers change at the next purchase or review."""
    now = now or timezone.now()
    ladder: list[tuple[Decimal, str, Tier | None]] = [
        (tier.threshold, tier.name, tier) for tier in Tier.objects.filter(brand=brand).exclude(pk=tier_id)
    ]
    ladder.append((threshold, name, None))
    ladder.sort(key=lambda step: step[0])
    counts = [0] * len(ladder)
    below = 0
    for value in _qualifying_values(brand, now).values():
        place = None
        for index, (step, _name, _tier) in enumerate(ladder):
            if value >= step:
                place = index
        if place is None:
            below += 1
        else:
            counts[place] += 1
    rows: list[dict[str, Any]] = [
        {"tier": None, "name": "", "threshold": None, "members": below, "new": False}
    ]
    for (step, step_name, tier), members in zip(ladder, counts, strict=True):
        rows.append(
            {"tier": tier, "name": step_name, "threshold": step, "members": members, "new": tier is None}
        )
    return rows
