"""The members' privacy rights: the download of all their data, erasure, retention of prospects, and the
log of every staff look at a member's personal data (issue 18).

A member's data is gathered from every part that keeps some (kesher.members.hooks: each part registers its
exporter and eraser), so this part knows none of their tables."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from kesher.brands.models import Brand, StaffRole
from kesher.core.audit import SYSTEM, Actor, audit_record
from kesher.core.errors import ValidationFailed
from kesher.members.hooks import member_export_run
from kesher.members.models import Member, MemberStatus
from kesher.members.sensitive import sensitive_fields_of
from kesher.members.services import member_erase
from kesher.privacy.models import AccessKind, PrivacySettings, StaffAccessLog

EXPORT_FORMAT = "kesher-member-data/1"
# Who produces a member's data on request, corrects and erases it: the owner and the service agents.
PRIVACY_STAFF = {StaffRole.OWNER, StaffRole.SERVICE_AGENT}
MAX_RETENTION_DAYS = 3650


def access_record(
    *, brand: Brand, actor: Actor, member_id: uuid.UUID | str, kind: str, reason: str = ""
) -> None:
    """Log one look at a member's personal data by staff or an integration: a single insert."""
    if actor.user is None and actor.api_key is None:
        return  # the system itself (a task) is not staff looking
    StaffAccessLog.objects.create(
        brand_id=brand.pk,
        user_id=actor.user.pk if actor.user is not None else None,
        api_key_id=actor.api_key.pk if actor.api_key is not None else None,
        member_id=member_id,
        kind=kind,
        reason=reason[:200],
        at=timezone.now(),
    )


def member_data_export(*, member: Member, processor: bool = False) -> dict[str, Any]:
    """Everything every part keeps about the member, by section. A processor's export (an integration's
    API key) leaves out the fields the brand marked highly sensitive, and says which."""
    sections = member_export_run(member=member)
    withheld: list[str] = []
    if processor:
        withheld = sensitive_fields_of(member.brand)
        profile = sections.get("profile")
        if isinstance(profile, dict):
            sections["profile"] = {key: value for key, value in profile.items() if key not in withheld}
    return {
        "format": EXPORT_FORMAT,
        "brand": {"slug": member.brand.slug, "name": member.brand.name},
        "member_id": str(member.pk),
        "exported_at": timezone.now().isoformat(),
        "processor_export": processor,
        "withheld": withheld,
        "sections": sections,
    }


def privacy_erase(*, member: Member, actor: Actor = SYSTEM, staff: bool = True, reason: str = "") -> Member:
    """Erase the member in every part (kesher.members.services.member_erase runs every part's eraser,
    redacts the audit rows and emits member.erased); staff erasures are logged with their reason."""
    with transaction.atomic():
        if staff:
            access_record(
                brand=member.brand, actor=actor, member_id=member.pk, kind=AccessKind.ERASE, reason=reason
            )
        return member_erase(member=member, actor=actor)


# --- retention -------------------------------------------------------------------------------------


def retention_days_of(brand: Brand) -> int | None:
    return (
        PrivacySettings.objects.filter(brand_id=brand.pk)
        .values_list("prospect_retention_days", flat=True)
        .first()
    )


@transaction.atomic
def retention_set(*, brand: Brand, days: int | None, actor: Actor = SYSTEM) -> int | None:
    if days is not None and not 1 <= days <= MAX_RETENTION_DAYS:
        raise ValidationFailed(
            f"Keep prospects between 1 and {MAX_RETENTION_DAYS} days, or leave it empty", field="days"
        )
    before = retention_days_of(brand)
    PrivacySettings.objects.update_or_create(brand=brand, defaults={"prospect_retention_days": days})
    if before != days:
        audit_record(
            brand=brand,
            actor=actor,
            action="privacy.retention",
            target_type="brand",
            target_id=brand.pk,
            data={"before": before, "after": days},
        )
    return days


@dataclass(frozen=True)
class RetentionResult:
    brand: Brand
    days: int | None
    due: list[uuid.UUID]
    erased: int


def retention_run(*, brand: Brand, dry_run: bool = False, now: datetime | None = None) -> RetentionResult:
    """Erase the brand's prospects who never joined and were added longer ago than its retention period
    (nothing when the brand keeps them). With dry_run, only say who is due."""
    days = retention_days_of(brand)
    if days is None:
        return RetentionResult(brand=brand, days=None, due=[], erased=0)
    cutoff = (now or timezone.now()) - timedelta(days=days)
    due = list(
        Member.objects.filter(brand=brand, status=MemberStatus.PROSPECT, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)
    )
    erased = 0
    if not dry_run:
        for member in Member.objects.filter(pk__in=due, status=MemberStatus.PROSPECT).select_related("brand"):
            member_erase(member=member)
            erased += 1
    return RetentionResult(brand=brand, days=days, due=due, erased=erased)


def retention_run_all(*, dry_run: bool = False, now: datetime | None = None) -> list[RetentionResult]:
    brand_ids = PrivacySettings.objects.filter(prospect_retention_days__isnull=False).values_list(
        "brand_id", flat=True
    )
    return [
        retention_run(brand=brand, dry_run=dry_run, now=now)
        for brand in Brand.objects.filter(pk__in=list(brand_ids)).order_by("slug")
    ]
