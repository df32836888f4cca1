"""A/B tests: choosing the winning variant once the test group's wait is over."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone

from kesher.campaigns import selectors
from kesher.campaigns.models import (
    AbMetric,
    AbState,
    Campaign,
    CampaignStatus,
)
from kesher.campaigns.services.sending import queuing_start
from kesher.core.audit import SYSTEM, audit_record


def ab_tests_decide(*, now: datetime | None = None) -> int:
    """Every A/B test whose wait is over: choose the variant with the best open (or click) rate in its
    test group (a tie goes to the earlier variant) and queue the winner for the rest of the audience.
    Run every few minutes (Celery beat; cron in the embedded mode). Returns how many were decided."""
    now = now or timezone.now()
    decided = 0
    due = Campaign.objects.filter(ab_state=AbState.TESTING, ab_test_queued_at__isnull=False)
    for campaign in due:
        started = campaign.ab_test_queued_at
        if started is None or started + timedelta(hours=campaign.ab_wait_hours) > now:
            continue
        stats = selectors.campaign_variant_stats(campaign=campaign)
        if not stats:
            continue
        key = "open_rate" if campaign.ab_metric == AbMetric.OPENED else "click_rate"
        winner = max(stats, key=lambda row: (row[key], -stats.index(row)))
        with transaction.atomic():
            # The state change is the claim: a second decider running at once changes nothing.
            claimed = Campaign.objects.filter(pk=campaign.pk, ab_state=AbState.TESTING).update(
                ab_state=AbState.DECIDED,
                ab_winner_id=winner["id"],
                ab_decided_at=now,
                status=CampaignStatus.QUEUING,
            )
            if not claimed:
                continue
            audit_record(
                brand=campaign.brand,
                actor=SYSTEM,
                action="campaign.ab_winner",
                target_type="campaign",
                target_id=campaign.pk,
                data={
                    "winner": winner["name"],
                    "metric": campaign.ab_metric,
                    "rates": {row["name"]: row[key] for row in stats},
                },
            )
            transaction.on_commit(partial(queuing_start, campaign_id=campaign.pk))
        decided += 1
    return decided
