"""Recording activities: validate, write once, run the immediate consumers, queue the rest after commit."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from kesher.activity.models import Activity
from kesher.activity.registry import consumers_for, validate_attributes
from kesher.brands.models import Brand
from kesher.core.errors import Conflict, ValidationFailed
from kesher.members.models import Member, MemberStatus

FUTURE_TOLERANCE = timedelta(minutes=10)  # till clocks drift; a purchase dated tomorrow is a mistake


def _existing(
    brand: Brand, source: str, idempotency_key: str | None, external_id: str | None
) -> Activity | None:
    if idempotency_key is not None:
        found = Activity.objects.filter(brand=brand, source=source, idempotency_key=idempotency_key).first()
        if found is not None:
            return found
    if external_id is not None:
        return Activity.objects.filter(brand=brand, source=source, external_id=external_id).first()
    return None


def activity_record(
    *,
    brand: Brand,
    member: Member,
    type: str,
    attributes: dict[str, Any],
    occurred_at: datetime | None = None,
    source: str = "api",
    idempotency_key: str | None = None,
    external_id: str | None = None,
) -> tuple[Activity, bool]:
    """Record one activity. Returns (activity, created); a replay returns the first one unchanged."""
    clean = validate_attributes(type, attributes)
    now = timezone.now()
    occurred_at = occurred_at or now
    if timezone.is_naive(occurred_at):
        raise ValidationFailed("occurred_at must include a time zone offset", field="occurred_at")
    if occurred_at > now + FUTURE_TOLERANCE:
        raise ValidationFailed("occurred_at is in the future", field="occurred_at")
    if member.brand_id != brand.pk:
        raise ValidationFailed("member belongs to another brand", field="member_id")
    if member.status in (MemberStatus.BLOCKED, MemberStatus.ERASED):
        raise Conflict(f"The member is {member.status}", field="member_id", code="member_inactive")

    with transaction.atomic():
        replay = _existing(brand, source, idempotency_key, external_id)
        if replay is not None:
            return replay, False
        try:
            with transaction.atomic():
                activity = Activity.objects.create(
                    brand=brand,
                    member=member,
                    type=type,
                    source=source,
                    idempotency_key=idempotency_key,
                    external_id=external_id,
                    occurred_at=occurred_at,
                    attributes=clean,
                )
        except IntegrityError:
            # A concurrent duplicate committed first (PostgreSQL waited for it): answer with that one.
            replay = _existing(brand, source, idempotency_key, external_id)
            if replay is None:
                raise
            return replay, False
        for _name, handle in consumers_for(type, immediate=True):
            handle(activity)
        Activity.objects.filter(pk=activity.pk).update(
            points_awarded=activity.points_awarded, balance_after=activity.balance_after
        )
        deferred = [name for name, _ in consumers_for(type, immediate=False)]
        if deferred:
            transaction.on_commit(lambda: _queue(activity.pk, deferred))
    return activity, True


def _queue(activity_id: Any, consumer_names: list[str]) -> None:
    from kesher.activity.tasks import activity_dispatch

    for name in consumer_names:
        activity_dispatch.delay(str(activity_id), name)
