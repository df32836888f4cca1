"""When a campaign goes out: scheduling it, pausing and resuming it, cancelling it, and starting the
scheduled ones whose time has come. Each change is one conditional UPDATE on the status it starts from,
so two clicks (or a click and the minute's start) never both apply; a refused change is a 409 that
changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from kesher.campaigns.models import Campaign, CampaignStatus, Message, MessageStatus
from kesher.campaigns.services.sending import (
    campaign_finish_if_done,
    campaign_send,
    messages_dispatch,
    queuing_start,
)
from kesher.core.audit import SYSTEM, Actor, audit_record
from kesher.core.errors import Conflict, ValidationFailed

MAX_AHEAD = timedelta(days=366)
PAUSABLE = (CampaignStatus.SCHEDULED, CampaignStatus.QUEUING, CampaignStatus.SENDING)
CANCELLABLE = (*PAUSABLE, CampaignStatus.PAUSED)


def _refuse(campaign: Campaign, doing: str) -> Conflict:
    return Conflict(
        f"A campaign that is {campaign.status} cannot be {doing}",
        field="status",
        code="campaign_status",
    )


def _audit(campaign: Campaign, actor: Actor, action: str, **data: object) -> None:
    audit_record(
        brand=campaign.brand,
        actor=actor,
        action=action,
        target_type="campaign",
        target_id=campaign.pk,
        data={"name": campaign.name, **data},
    )


def _own_campaign(campaign: Campaign) -> None:
    if campaign.journey_id is not None:
        raise Conflict("A journey's step is changed in its journey", field="status", code="journey_step")


def campaign_schedule(*, campaign: Campaign, at: datetime, actor: Actor = SYSTEM) -> Campaign:
    """A draft (or a scheduled campaign, moved) goes out at `at`, which must be ahead and within a year."""
    _own_campaign(campaign)
    now = timezone.now()
    if timezone.is_naive(at):
        raise ValidationFailed("scheduled_for needs a time zone", field="scheduled_for")
    if at <= now:
        raise ValidationFailed("scheduled_for must be in the future", field="scheduled_for")
    if at > now + MAX_AHEAD:
        raise ValidationFailed("scheduled_for is at most a year ahead", field="scheduled_for")
    with transaction.atomic():
        changed = Campaign.objects.filter(
            pk=campaign.pk, status__in=[CampaignStatus.DRAFT, CampaignStatus.SCHEDULED]
        ).update(status=CampaignStatus.SCHEDULED, scheduled_for=at)
        campaign.refresh_from_db()
        if not changed:
            raise _refuse(campaign, "scheduled")
        _audit(campaign, actor, "campaign.schedule", scheduled_for=at.isoformat())
    return campaign


def campaign_pause(*, campaign: Campaign, actor: Actor = SYSTEM) -> Campaign:
    """Hold a scheduled or sending campaign: messages not yet handed to a provider wait (delivery does
    not claim a paused campaign's messages); one already in a provider's hands has left."""
    _own_campaign(campaign)
    with transaction.atomic():
        current = (
            Campaign.objects.select_for_update()
            .filter(pk=campaign.pk)
            .values_list("status", flat=True)
            .first()
        )
        changed = 0
        if current in PAUSABLE:
            changed = Campaign.objects.filter(pk=campaign.pk, status=current).update(
                status=CampaignStatus.PAUSED, paused_from=current
            )
        campaign.refresh_from_db()
        if not changed:
            raise _refuse(campaign, "paused")
        _audit(campaign, actor, "campaign.pause", was=current)
    return campaign


def campaign_resume(*, campaign: Campaign, actor: Actor = SYSTEM) -> Campaign:
    """Go on from where the pause held it: a scheduled one waits for its time (or starts, if it passed),
    a queuing one queues the rest, a sending one hands its waiting messages to delivery."""
    _own_campaign(campaign)
    with transaction.atomic():
        previous = (
            Campaign.objects.select_for_update()
            .filter(pk=campaign.pk, status=CampaignStatus.PAUSED)
            .values_list("paused_from", flat=True)
            .first()
        )
        if previous is None:
            campaign.refresh_from_db()
            raise _refuse(campaign, "resumed")
        Campaign.objects.filter(pk=campaign.pk).update(status=previous, paused_from="")
        campaign.refresh_from_db()
        _audit(campaign, actor, "campaign.resume", to=previous)
        if previous == CampaignStatus.QUEUING:
            transaction.on_commit(lambda: queuing_start(campaign_id=campaign.pk))
        elif previous == CampaignStatus.SENDING:
            waiting = list(
                Message.objects.filter(
                    campaign=campaign, status=MessageStatus.QUEUED, not_before__isnull=True
                ).values_list("pk", flat=True)
            )
            transaction.on_commit(lambda: messages_dispatch(message_ids=waiting, not_before=None))
            transaction.on_commit(lambda: campaign_finish_if_done(campaign_id=campaign.pk))
    if previous == CampaignStatus.SCHEDULED:
        campaigns_start_due()
    return campaign


def campaign_cancel(*, campaign: Campaign, actor: Actor = SYSTEM) -> Campaign:
    """Stop it for good: the messages that have not left are marked cancelled and never sent. A draft is
    not cancelled (it was never going out); a sent campaign has nothing left to stop."""
    _own_campaign(campaign)
    with transaction.atomic():
        now = timezone.now()
        changed = Campaign.objects.filter(pk=campaign.pk, status__in=CANCELLABLE).update(
            status=CampaignStatus.CANCELLED, cancelled_at=now, paused_from=""
        )
        campaign.refresh_from_db()
        if not changed:
            raise _refuse(campaign, "cancelled")
        withheld = Message.objects.filter(campaign=campaign, status=MessageStatus.QUEUED).update(
            status=MessageStatus.CANCELLED
        )
        _audit(campaign, actor, "campaign.cancel", messages_not_sent=withheld)
    return campaign


def campaigns_start_due(*, now: datetime | None = None) -> int:
    """Start every scheduled campaign whose time has come (each once: campaign_send moves a scheduled
    campaign on with a conditional UPDATE). Run from messages_dispatch_due, every minute."""
    now = now or timezone.now()
    due = list(
        Campaign.objects.select_related("brand").filter(
            status=CampaignStatus.SCHEDULED, scheduled_for__lte=now
        )
    )
    started = 0
    for campaign in due:
        started += int(campaign_send(campaign=campaign, scheduled=True).started)
    return started
