"""Moderation: flags, the queue, hide and restore with an audit row each, spam checks that hold posts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from kesher.activity.models import Activity
from kesher.brands.models import Brand
from kesher.community.models import CommunityProfile, CommunitySettings, Flag, Post, PostRevision, Space
from kesher.community.services import Author, question_ask
from kesher.conftest import ApiClient
from kesher.core.models import AuditEntry
from kesher.members.models import Member

pytestmark = pytest.mark.django_db


def ask(member: Member, space: Space, title: str = "שאלה על המועדון", body: str = "פרטים") -> Post:
    return question_ask(space=space, author=Author(member=member), title=title, body=body)


def test_flags_hold_a_post_and_staff_decide(
    api: ApiClient, general: Space, make_member: Callable[..., Member], make_api: Callable[..., ApiClient]
) -> None:
    author = make_member("A")
    question = ask(author, general)
    newcomer = make_member("N")
    refused = api.post(
        f"/community/posts/{question.pk}/flags", {"member_id": str(newcomer.pk), "reason": "spam"}
    )
    assert refused.status == 403 and refused.body["error"]["code"] == "reputation_too_low"
    flaggers = [make_member(f"F{i}", reputation=20) for i in range(3)]
    for index, flagger in enumerate(flaggers):
        flagged = api.post(
            f"/community/posts/{question.pk}/flags",
            {"member_id": str(flagger.pk), "reason": "spam", "note": "קישורים"},
        )
        assert flagged.status == 201, flagged.body
        question.refresh_from_db()
        assert question.status == ("held" if index == 2 else "published")
        if index == 0:
            twice = api.post(
                f"/community/posts/{question.pk}/flags", {"member_id": str(flagger.pk), "reason": "spam"}
            )
            assert twice.status == 409 and twice.body["error"]["code"] == "already_flagged"
    # A held post is out of view for members: flagging it again finds nothing.
    gone = api.post(
        f"/community/posts/{question.pk}/flags", {"member_id": str(flaggers[0].pk), "reason": "spam"}
    )
    assert gone.status == 404

    queue = api.get("/community/moderation/queue")
    assert [item["post"]["id"] for item in queue.body] == [str(question.pk)]
    assert len(queue.body[0]["flags"]) == 3
    assert make_api(general.brand, "pos").get("/community/moderation/queue").status == 403

    hidden = api.post(
        f"/community/posts/{question.pk}/moderation", {"action": "hide", "spam": True, "reason": "פרסומת"}
    )
    assert hidden.status == 200 and hidden.body["status"] == "hidden"
    assert CommunityProfile.objects.get(member=author).reputation == 1 - 100
    assert set(Flag.objects.values_list("status", flat=True)) == {"upheld"}
    assert api.get("/community/moderation/queue").body == []

    restored = api.post(f"/community/posts/{question.pk}/moderation", {"action": "restore", "reason": "טעות"})
    assert restored.status == 200 and restored.body["status"] == "published"
    assert CommunityProfile.objects.get(member=author).reputation == 1
    actions = list(
        AuditEntry.objects.filter(target_type="post", target_id=str(question.pk))
        .order_by("created_at", "id")
        .values_list("action", flat=True)
    )
    assert actions == ["community.post.hold", "community.post.hide", "community.post.restore"]
    hide = AuditEntry.objects.get(action="community.post.hide")
    assert hide.data == {"before": "held", "after": "hidden", "reason": "פרסומת", "spam": True}
    assert hide.actor_api_key is not None


def test_spam_checks_hold_posts_and_points_wait_for_approval(
    api: ApiClient, general: Space, make_member: Callable[..., Member], brand: Brand
) -> None:
    CommunitySettings.objects.filter(brand=brand).update(min_seconds_between_posts=0)
    newcomer = make_member("N")
    links = "ראו https://a.example https://b.example https://c.example"
    held = ask(newcomer, general, body=links)
    assert (held.status, held.hold_reasons) == ("held", ["too_many_links"])
    assert not Activity.objects.filter(member=newcomer, type="question_asked").exists()
    # A trusted member may post the same links.
    trusted = make_member("T", reputation=60)
    assert ask(trusted, general, title="עוד שאלה", body=f"{links} !").status == "published"

    first = ask(newcomer, general, title="שאלה ראשונה", body="טקסט חוזר")
    again = ask(newcomer, general, title="שאלה שנייה", body="טקסט  חוזר!")
    assert (first.status, again.status, again.hold_reasons) == ("published", "held", ["repeated_text"])

    CommunitySettings.objects.filter(brand=brand).update(min_seconds_between_posts=60)
    fast = ask(newcomer, general, title="שאלה מהירה", body="עוד משהו")
    assert fast.hold_reasons == ["too_fast"]

    approved = api.post(f"/community/posts/{held.pk}/moderation", {"action": "restore"})
    assert approved.body["status"] == "published"
    assert Activity.objects.filter(member=newcomer, type="question_asked").count() == 2
    assert api.get(f"/members/{newcomer.pk}/points").body["balance"] == 2


def test_new_members_have_a_daily_post_limit(
    general: Space, make_member: Callable[..., Member], brand: Brand
) -> None:
    CommunitySettings.objects.filter(brand=brand).update(
        min_seconds_between_posts=0, new_member_posts_per_day=2
    )
    member = make_member("N")
    ask(member, general, title="שאלה אחת", body="א")
    ask(member, general, title="שאלה שתיים", body="ב")
    from kesher.core.errors import Conflict

    with pytest.raises(Conflict) as refused:
        ask(member, general, title="שאלה שלוש", body="ג")
    assert refused.value.code == "post_limit_reached"
    assert Post.objects.filter(author=member).count() == 2


def test_suspended_members_cannot_post_and_the_suspension_is_audited(
    api: ApiClient, general: Space, make_member: Callable[..., Member]
) -> None:
    member = make_member("S")
    until = (timezone.now() + timedelta(days=7)).isoformat()
    suspended = api.post(f"/community/members/{member.pk}/suspension", {"until": until, "reason": "הטרדה"})
    assert suspended.status == 200
    asked = api.post(
        "/community/questions",
        {"member_id": str(member.pk), "space": "general", "title": "אפשר לשאול?", "body": "?"},
    )
    assert asked.status == 403 and asked.body["error"]["code"] == "member_suspended"
    assert not Post.objects.filter(author=member).exists()
    assert AuditEntry.objects.filter(action="community.member.suspend", target_id=str(member.pk)).count() == 1


def test_edits_keep_history_and_question_states(
    api: ApiClient, general: Space, make_member: Callable[..., Member]
) -> None:
    author, other = make_member("A"), make_member("B")
    question = ask(author, general)
    edited = api.patch(
        f"/community/posts/{question.pk}",
        {"member_id": str(author.pk), "body": "פרטים *חדשים*", "tags": ["חדש"], "comment": "תיקון"},
    )
    assert edited.status == 200 and edited.body["body_html"] == "<p>פרטים <em>חדשים</em></p>"
    refused = api.patch(f"/community/posts/{question.pk}", {"member_id": str(other.pk), "body": "שלי עכשיו"})
    assert refused.status == 403
    revisions = PostRevision.objects.filter(post=question).order_by("number")
    assert [(r.number, r.body, r.tags) for r in revisions] == [
        (1, "פרטים", []),
        (2, "פרטים *חדשים*", ["חדש"]),
    ]

    locked = api.post(f"/community/questions/{question.pk}/state", {"action": "lock", "reason": "סוף"})
    assert locked.status == 200 and locked.body["locked"] is True
    answer = api.post(
        f"/community/questions/{question.pk}/answers", {"member_id": str(other.pk), "body": "מאוחר"}
    )
    assert answer.status == 409 and answer.body["error"]["code"] == "question_locked"
    assert AuditEntry.objects.filter(action="community.question.lock").count() == 1


def test_markdown_is_sanitised(general: Space, make_member: Callable[..., Member]) -> None:
    body = "**bold** <script>alert(1)</script> [x](javascript:alert(1)) ![img](https://cdn.example/a.png)"
    question = ask(make_member("A", reputation=100), general, body=body)
    html = question.body_html
    assert "<script" not in html and "javascript:" not in html
    assert "<strong>bold</strong>" in html and '<img alt="img" src="https://cdn.example/a.png">' in html


def test_question_page_view_counts_once_a_day(general: Space, make_member: Callable[..., Member]) -> None:
    from kesher.community.services.questions import (
        VIEW_FLUSH_EVERY,
        question_view_register,
        question_views_flush,
    )

    question = ask(make_member("A"), general)
    assert question_view_register(question=question, viewer="m1") is True
    assert question_view_register(question=question, viewer="m1") is False
    for index in range(VIEW_FLUSH_EVERY - 1):
        question_view_register(question=question, viewer=f"v{index}")
    question.refresh_from_db()
    assert question.view_count == VIEW_FLUSH_EVERY  # written once, in one batch
    question_view_register(question=question, viewer="late")
    assert question_views_flush(question_id=question.pk) == 1
    question.refresh_from_db()
    assert question.view_count == VIEW_FLUSH_EVERY + 1
