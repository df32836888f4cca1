"""Following questions, tags and spaces; notifications in the portal, only about what the member may see."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from kesher.community.models import CommunitySettings, Follow, Notification, Post, Space, Tag
from kesher.community.services import (
    Author,
    answer_accept,
    answer_post,
    follow_remove,
    follow_set,
    post_hide,
    question_ask,
    space_create,
)
from kesher.conftest import ApiClient
from kesher.core.audit import Actor
from kesher.core.errors import NotFound
from kesher.members.models import Member

pytestmark = pytest.mark.django_db


@pytest.fixture
def question(general: Space, make_member: Callable[..., Member]) -> Post:
    CommunitySettings.objects.filter(brand=general.brand).update(min_seconds_between_posts=0)
    return question_ask(
        space=general,
        author=Author(member=make_member("אורי")),
        title="מתי מגיע המשלוח?",
        body="?",
        tags=["משלוח"],
    )


def kinds(member: Member) -> list[str]:
    return list(Notification.objects.filter(member=member).order_by("id").values_list("kind", flat=True))


def test_followers_of_the_question_tag_and_space_and_the_asker_hear_of_a_new_answer(
    question: Post,
    general: Space,
    make_member: Callable[..., Member],
    django_capture_on_commit_callbacks: Any,
) -> None:
    by_question, by_tag, by_space, bystander = (make_member(n) for n in ("שאלה", "תגית", "מרחב", "צופה"))
    follow_set(member=by_question, question=question)
    follow_set(member=by_question, question=question)  # twice is once
    follow_set(member=by_tag, tag=Tag.objects.get(name="משלוח"))
    follow_set(member=by_space, space=general)
    answerer = make_member("עונה")
    follow_set(member=answerer, space=general)
    with django_capture_on_commit_callbacks(execute=True):
        answer = answer_post(question=question, author=Author(member=answerer), body="מחר")
    for member in (question.author, by_question, by_tag, by_space):
        assert kinds(member) == ["new_answer"]
    assert kinds(bystander) == [] and kinds(answerer) == []  # not about one's own answer
    assert Follow.objects.filter(member=by_question).count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        answer_accept(answer=answer, member=question.author)
    assert kinds(answerer) == ["answer_accepted"]

    assert follow_remove(member=by_space, space=general) is True
    with django_capture_on_commit_callbacks(execute=True):
        answer_post(question=question, author=Author(member=make_member("עוד")), body="או מחרתיים")
    assert kinds(by_space) == ["new_answer"]
    assert kinds(by_question) == ["new_answer", "new_answer"]


def test_nobody_hears_of_what_they_may_not_see(
    brand: Any, make_member: Callable[..., Member], django_capture_on_commit_callbacks: Any, general: Space
) -> None:
    staff_user = get_user_model().objects.create_user(username="owner")
    private = space_create(
        brand=brand, slug="vip", name="VIP", kind="qa", visibility="staff", actor=Actor(user=staff_user)
    )
    outsider = make_member("בחוץ")
    with pytest.raises(NotFound):
        follow_set(member=outsider, space=private)
    assert Follow.objects.count() == 0

    CommunitySettings.objects.filter(brand=brand).update(min_seconds_between_posts=0)
    asked = question_ask(
        space=general, author=Author(member=make_member("שואל")), title="שאלה פתוחה", body="x"
    )
    follow_set(member=outsider, question=asked)
    # Now the space turns staff-only: followers no longer hear of it.
    Space.objects.filter(pk=general.pk).update(visibility="staff")
    with django_capture_on_commit_callbacks(execute=True):
        answer_post(question=asked, author=Author(by_brand=True, actor=Actor(user=staff_user)), body="תשובה")
    assert kinds(outsider) == []


def test_hidden_answers_drop_out_of_the_notifications_page(
    question: Post, make_member: Callable[..., Member], django_capture_on_commit_callbacks: Any
) -> None:
    asker = question.author
    assert asker is not None
    user = get_user_model().objects.create_user(username="asker")
    Member.objects.filter(pk=asker.pk).update(user=user)
    client = Client()
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        answers = [
            answer_post(question=question, author=Author(member=make_member(f"ע{i}")), body=f"תשובה {i}")
            for i in range(2)
        ]
    html = client.get("/community/cafe/notifications/").content.decode()
    assert html.count('data-test="notification"') == 2
    assert "2 לא נקראו" in html
    moderator = get_user_model().objects.create_user(username="mod")
    post_hide(post=answers[0], actor=Actor(user=moderator))
    html = client.get("/community/cafe/notifications/").content.decode()
    assert html.count('data-test="notification"') == 1
    assert client.post("/community/cafe/notifications/read/").status_code == 302
    html = client.get("/community/cafe/notifications/").content.decode()
    assert "0 לא נקראו" in html
    assert Client().get("/community/cafe/notifications/").status_code == 302  # sign in first


def test_follow_button_on_the_question_page(question: Post, make_member: Callable[..., Member]) -> None:
    member = make_member("עוקבת")
    user = get_user_model().objects.create_user(username="follower")
    Member.objects.filter(pk=member.pk).update(user=user)
    client = Client()
    client.force_login(user)
    html = client.get(f"/community/cafe/q/{question.pk}/", follow=True).content.decode()
    assert 'data-test="follow"' in html
    assert client.post("/community/cafe/follow/", {"question": str(question.pk)}).status_code == 302
    assert Follow.objects.filter(member=member, question=question).count() == 1
    client.post("/community/cafe/follow/", {"question": str(question.pk), "action": "unfollow"})
    assert Follow.objects.filter(member=member).count() == 0


def test_follow_and_notifications_api(
    api: ApiClient,
    question: Post,
    make_member: Callable[..., Member],
    django_capture_on_commit_callbacks: Any,
) -> None:
    member = make_member("דרך API")
    followed = api.post("/community/follows", {"member_id": str(member.pk), "question_id": str(question.pk)})
    assert followed.status == 200, followed.body
    assert followed.body == {"kind": "question", "question_id": str(question.pk), "tag": None, "space": None}
    missing = api.post("/community/follows", {"member_id": str(member.pk), "tag": "אין כזו"})
    assert missing.status == 404
    with django_capture_on_commit_callbacks(execute=True):
        answer = answer_post(question=question, author=Author(member=make_member("עונה")), body="היום")
    listed = api.get(f"/community/members/{member.pk}/notifications")
    assert listed.status == 200
    assert listed.body["unread"] == 1
    note = listed.body["notifications"][0]
    assert (note["kind"], note["post_id"], note["question_title"], note["read"]) == (
        "new_answer",
        str(answer.pk),
        "מתי מגיע המשלוח?",
        False,
    )
    removed = api.post(
        "/community/follows/remove", {"member_id": str(member.pk), "question_id": str(question.pk)}
    )
    assert (removed.status, removed.body) == (200, {"removed": True})
    assert Follow.objects.filter(member=member).count() == 0
