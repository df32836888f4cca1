"""Small helpers of the insights tests: activities a number of days ago."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from kesher.activity.models import Activity
from kesher.activity.services import activity_record


def at(days_ago: float) -> datetime:
    return timezone.now() - timedelta(days=days_ago, hours=1)


def record(member, type, days_ago, **attributes):
    activity_record(
        brand=member.brand, member=member, type=type, attributes=attributes, occurred_at=at(days_ago)
    )


def buy(member, amount, days_ago, store="dizengoff"):
    record(member, "purchase", days_ago, amount=str(amount), currency="ILS", store=store)


def survey(member, nps):
    """survey_answered rows as the surveys part will record them (its type is not registered here)."""
    Activity.objects.create(
        brand=member.brand, member=member, type="survey_answered", occurred_at=at(1), attributes={"nps": nps}
    )
