"""The campaigns' share of a member's data: the messages they were sent and their journeys, for their
download and for erasure (registered from CampaignsConfig.ready() with kesher.members.hooks).

Erasure keeps each message's row (the campaign's counts, opens and clicks add up as before) without its
address, subject, body or provider reference; tracking events lose their details (addresses, browsers);
forwards to a friend's address are deleted; the member's address leaves the suppression list, so a
person who comes back with it starts clean."""

from __future__ import annotations

from typing import Any

from kesher.campaigns.models import EmailSuppression, JourneyRun, Message, MessageEvent, MessageForward
from kesher.members.models import Member


def member_campaigns_export(*, member: Member) -> dict[str, Any]:
    messages = Message.objects.filter(brand_id=member.brand_id, member=member).select_related("campaign")
    runs = JourneyRun.objects.filter(brand_id=member.brand_id, member=member).select_related("journey")
    return {
        "messages": [
            {
                "campaign": message.campaign.name,
                "channel": message.channel,
                "to": message.to,
                "subject": message.subject,
                "body": message.body,
                "advertising": message.advertising,
                "status": message.status,
                "sent_at": message.sent_at.isoformat() if message.sent_at else None,
                "events": [
                    {"kind": event.kind, "at": event.occurred_at.isoformat()}
                    for event in message.events.all()
                ],
            }
            for message in messages.prefetch_related("events").order_by("created_at")
        ],
        "journey_runs": [
            {
                "journey": run.journey.name,
                "status": run.status,
                "step": run.step,
                "started_at": run.created_at.isoformat(),
                "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            }
            for run in runs.order_by("created_at")
        ],
    }


def member_campaigns_erase(*, member: Member) -> None:
    messages = Message.objects.filter(brand_id=member.brand_id, member=member)
    MessageForward.objects.filter(message__in=messages).delete()
    MessageEvent.objects.filter(message__in=messages).update(data={})
    messages.update(to="", subject="", body="", provider_ref="", error="")
    if member.email:
        EmailSuppression.objects.filter(brand_id=member.brand_id, email=member.email).delete()
