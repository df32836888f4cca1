"""The staff moderation queue page: owners and moderators of the brand only, every action audited."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from kesher.brands.models import Brand, StaffMembership, StaffRole
from kesher.community.models import CommunityProfile, CommunitySettings, Post, Space
from kesher.community.services import Author, flag_create, question_ask
from kesher.core.models import AuditEntry
from kesher.members.models import Member

pytestmark = pytest.mark.django_db


def staff_client(brand: Brand, role: str, name: str) -> Client:
    user = get_user_model().objects.create_user(username=name)
    StaffMembership.objects.create(brand=brand, user=user, role=role)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def flagged(general: Space, make_member: Callable[..., Member]) -> Post:
    question = question_ask(
        space=general, author=Author(member=make_member("כותב")), title="קנו אצלנו זול", body="פרסומת"
    )
    flag_create(post=question, reporter=make_member("מדווחת", reputation=20), reason="spam", note="קישורים")
    return question


@pytest.fixture
def held(general: Space, make_member: Callable[..., Member]) -> Post:
    CommunitySettings.objects.filter(brand=general.brand).update(
        banned_words=["הימורים"], min_seconds_between_posts=0
    )
    question = question_ask(
        space=general, author=Author(member=make_member("חדש")), title="אתר הימורים", body="בואו"
    )
    assert question.status == "held"
    return question


def test_moderators_and_owners_see_flags_and_held_posts(general: Space, flagged: Post, held: Post) -> None:
    for role, name in ((StaffRole.MODERATOR, "mod"), (StaffRole.OWNER, "owner")):
        response = staff_client(general.brand, role, name).get("/community/cafe/moderation/")
        html = response.content.decode()
        assert response.status_code == 200
        assert html.count('data-test="queue-item"') == 2
        assert "קישורים" in html and 'data-test="approve"' in html
        assert "מילים שהקהילה לא מתירה" in html  # why the held post waits, in Hebrew


def test_everyone_else_finds_no_queue_and_changes_nothing(
    general: Space, other_general: Space, flagged: Post
) -> None:
    marketer = staff_client(general.brand, StaffRole.MARKETER, "marketer")
    other_moderator = staff_client(other_general.brand, StaffRole.MODERATOR, "other")
    for client in (marketer, other_moderator):
        assert client.get("/community/cafe/moderation/").status_code == 404
        refused = client.post(f"/community/cafe/moderation/{flagged.pk}/", {"action": "hide"})
        assert refused.status_code == 404
    anonymous = Client().get("/community/cafe/moderation/")
    assert anonymous.status_code == 302
    flagged.refresh_from_db()
    assert flagged.status == "published"
    assert not AuditEntry.objects.filter(action__startswith="community.post.").exists()


def test_hide_as_spam_costs_reputation_and_is_audited(general: Space, flagged: Post) -> None:
    client = staff_client(general.brand, StaffRole.MODERATOR, "mod")
    response = client.post(
        f"/community/cafe/moderation/{flagged.pk}/", {"action": "hide", "spam": "1", "reason": "פרסומת"}
    )
    assert response.status_code == 302
    flagged.refresh_from_db()
    assert flagged.status == "hidden"
    entry = AuditEntry.objects.get(action="community.post.hide")
    assert (entry.target_id, entry.data["spam"], entry.data["reason"]) == (str(flagged.pk), True, "פרסומת")
    assert CommunityProfile.objects.get(member=flagged.author).reputation == 1 - 100
    html = client.get("/community/cafe/moderation/").content.decode()
    assert 'data-test="queue-empty"' in html


def test_approve_publishes_a_held_post_and_is_audited(general: Space, held: Post) -> None:
    client = staff_client(general.brand, StaffRole.OWNER, "owner")
    assert client.post(f"/community/cafe/moderation/{held.pk}/", {"action": "approve"}).status_code == 302
    held.refresh_from_db()
    assert held.status == "published"
    assert AuditEntry.objects.filter(action="community.post.restore", target_id=str(held.pk)).count() == 1
