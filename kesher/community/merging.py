"""Merging duplicate members: posts, edits, votes, flags, reputation, badges, follows and notifications."""

from __future__ import annotations

from kesher.community.models import (
    Badge,
    CommunityProfile,
    DigestSend,
    Flag,
    Follow,
    Notification,
    PointsReversal,
    Post,
    PostRevision,
    ReputationEvent,
    Vote,
)
from kesher.members.hooks import on_members_merge
from kesher.members.merging import MergeRecord, Step
from kesher.members.models import Member

_START_REPUTATION = 1  # every profile starts with 1 (CommunityProfile.reputation's default)


def community_members_merge(*, source: Member, target: Member) -> list[Step]:
    """The duplicate's posts and history become the target's and its reputation is added to the target's
    (each event moves, so a vote taken back later still takes back what it gave). A vote on a post the
    target also voted on, a badge, follow or notification the target already has, stays with the duplicate."""
    record = MergeRecord()
    old, new = source.pk, target.pk
    record.move(Post.objects.filter(author=source), "author_id", old=old, new=new)
    record.move(PostRevision.objects.filter(editor=source), "editor_id", old=old, new=new)
    record.move(Vote.objects.filter(member=source), "member_id", old=old, new=new, unique=("post_id",))
    record.move(
        Flag.objects.filter(reporter=source), "reporter_id", old=old, new=new, unique=("post_id", "status")
    )
    record.move(ReputationEvent.objects.filter(member=source), "member_id", old=old, new=new)
    record.move(PointsReversal.objects.filter(member=source), "member_id", old=old, new=new)
    record.move(
        Badge.objects.filter(member=source), "member_id", old=old, new=new, unique=("code", "awarded_for")
    )
    record.move(
        Follow.objects.filter(member=source),
        "member_id",
        old=old,
        new=new,
        unique=("kind", "question_id", "tag_id", "space_id"),
    )
    record.move(
        Notification.objects.filter(member=source), "member_id", old=old, new=new, unique=("kind", "post_id")
    )
    record.move(DigestSend.objects.filter(member=source), "member_id", old=old, new=new, unique=("period",))
    mine = CommunityProfile.objects.select_for_update().filter(pk=source.pk).first()
    if mine is not None and mine.reputation != _START_REPUTATION:
        theirs = CommunityProfile.objects.select_for_update().filter(pk=target.pk).first()
        if theirs is not None:
            record.add(CommunityProfile, target.pk, reputation=mine.reputation - _START_REPUTATION)
            record.change(mine, reputation=_START_REPUTATION)
    return record.steps


on_members_merge(community_members_merge)  # imported by the part's AppConfig.ready()
