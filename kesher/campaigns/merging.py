"""Merging duplicate members: their messages (with what happened to them), journey runs and coupons."""

from __future__ import annotations

from kesher.campaigns.models import JourneyRun, Message, MessageCoupon
from kesher.members.hooks import on_members_merge
from kesher.members.merging import MergeRecord, Step
from kesher.members.models import Member


def campaigns_members_merge(*, source: Member, target: Member) -> list[Step]:
    """What the duplicate was sent counts for the target (weekly caps, conversions). A campaign both were
    sent, or a journey occurrence both entered, stays with the duplicate: one per member is the rule."""
    record = MergeRecord()
    old, new = source.pk, target.pk
    record.move(
        JourneyRun.objects.filter(member=source),
        "member_id",
        old=old,
        new=new,
        unique=("journey_id", "occurrence"),
    )
    record.move(
        Message.objects.filter(member=source),
        "member_id",
        old=old,
        new=new,
        unique=("campaign_id", "journey_run_id"),
    )
    record.move(
        MessageCoupon.objects.filter(member=source),
        "member_id",
        old=old,
        new=new,
        unique=("campaign_id", "journey_run_id"),
    )
    return record.steps


on_members_merge(campaigns_members_merge)  # imported by the part's AppConfig.ready()
