"""Merging duplicate members: the duplicate's activities become the target's."""

from __future__ import annotations

from kesher.activity.models import Activity
from kesher.members.hooks import on_members_merge
from kesher.members.merging import MergeRecord, Step
from kesher.members.models import Member


def activity_members_merge(*, source: Member, target: Member) -> list[Step]:
    record = MergeRecord()
    record.move(Activity.objects.filter(member=source), "member_id", old=source.pk, new=target.pk)
    return record.steps


on_members_merge(activity_members_merge)  # imported by the part's AppConfig.ready()
