"""The community's share of a member's data: their posts, votes and follows, for their download and for
erasure (registered from CommunityConfig.ready() with kesher.members.hooks).

Erasure deletes what the member wrote (their questions, answers and comments become deleted posts with
no title or body, their revisions and search entries go) and what they followed or were told; their
votes stay, anonymous, so the scores others earned are unchanged; flags they raised no longer name them."""

from __future__ import annotations

from typing import Any

from kesher.community.models import (
    Flag,
    Follow,
    Notification,
    Post,
    PostRevision,
    SearchDocument,
    Vote,
)
from kesher.members.models import Member


def member_community_export(*, member: Member) -> dict[str, Any]:
    posts = Post.objects.filter(brand_id=member.brand_id, author=member).order_by("created_at")
    votes = Vote.objects.filter(brand_id=member.brand_id, member=member).order_by("created_at")
    follows = Follow.objects.filter(brand_id=member.brand_id, member=member).order_by("created_at")
    return {
        "posts": [
            {
                "id": str(post.pk),
                "kind": post.kind,
                "title": post.title,
                "body": post.body,
                "status": post.status,
                "created_at": post.created_at.isoformat(),
            }
            for post in posts
        ],
        "votes": [
            {"post": str(vote.post_id), "value": vote.value, "at": vote.created_at.isoformat()}
            for vote in votes
        ],
        "follows": [
            {
                "kind": follow.kind,
                "question": str(follow.question_id) if follow.question_id else None,
                "tag": follow.tag_id,
                "space": follow.space_id,
                "since": follow.created_at.isoformat(),
            }
            for follow in follows
        ],
    }


def member_community_erase(*, member: Member) -> None:
    posts = Post.objects.filter(brand_id=member.brand_id, author=member)
    SearchDocument.objects.filter(post__in=posts).delete()
    PostRevision.objects.filter(post__in=posts).delete()
    posts.update(title="", body="", body_html="", status=Post.Status.DELETED)
    PostRevision.objects.filter(post__brand_id=member.brand_id, editor=member).update(editor=None)
    Follow.objects.filter(brand_id=member.brand_id, member=member).delete()
    Notification.objects.filter(brand_id=member.brand_id, member=member).delete()
    Flag.objects.filter(brand_id=member.brand_id, reporter=member).update(reporter=None, note="")
