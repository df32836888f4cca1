"""Comments on questions and answers from the question page's form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from kesher.community.models import CommunitySettings, Post, Space
from kesher.community.services import Author, answer_post, question_ask, question_state_set
from kesher.core.audit import Actor
from kesher.members.models import Member

pytestmark = pytest.mark.django_db


@pytest.fixture
def thread(general: Space, make_member: Callable[..., Member]) -> dict[str, Any]:
    CommunitySettings.objects.filter(brand=general.brand).update(min_seconds_between_posts=0)
    question = question_ask(
        space=general, author=Author(member=make_member("אורי")), title="יש חניה ליד הסניף?", body="ברכב"
    )
    answer = answer_post(question=question, author=Author(member=make_member("דנה")), body="כן, בחינם")
    return {"question": question, "answer": answer}


def test_a_member_comments_on_a_question_and_on_an_answer(
    thread: dict[str, Any], signed_in: Callable[..., tuple[Client, Member]]
) -> None:
    client, member = signed_in("רון")
    question, answer = thread["question"], thread["answer"]
    html = client.get(f"/community/cafe/q/{question.pk}/", follow=True).content.decode()
    assert html.count('data-test="comment-form"') == 2
    assert (
        client.post(f"/community/cafe/p/{question.pk}/comment/", {"body": "גם אני רוצה לדעת"}).status_code
        == 302
    )
    assert client.post(f"/community/cafe/p/{answer.pk}/comment/", {"body": "תודה!"}).status_code == 302
    comments = Post.objects.filter(kind="comment", author=member).order_by("created_at")
    assert [(c.parent_id, c.body) for c in comments] == [
        (question.pk, "גם אני רוצה לדעת"),
        (answer.pk, "תודה!"),
    ]
    html = Client().get(f"/community/cafe/q/{question.pk}/", follow=True).content.decode()
    assert "גם אני רוצה לדעת" in html and "תודה!" in html


def test_anonymous_readers_see_no_comment_form_and_cannot_comment(thread: dict[str, Any]) -> None:
    question = thread["question"]
    html = Client().get(f"/community/cafe/q/{question.pk}/", follow=True).content.decode()
    assert 'data-test="comment-form"' not in html
    response = Client().post(f"/community/cafe/p/{question.pk}/comment/", {"body": "שלום"})
    assert response.status_code == 302 and "login" in response["Location"]
    assert Post.objects.filter(kind="comment").count() == 0


def test_a_locked_question_refuses_comments_with_a_message(
    thread: dict[str, Any], signed_in: Callable[..., tuple[Client, Member]]
) -> None:
    question = thread["question"]
    staff = get_user_model().objects.create_user(username="mod")
    question_state_set(question=question, actor=Actor(user=staff), action="lock")
    client, _ = signed_in("רון")
    response = client.post(f"/community/cafe/p/{question.pk}/comment/", {"body": "שלום"}, follow=True)
    assert "השאלה הזאת נעולה." in response.content.decode()
    assert Post.objects.filter(kind="comment").count() == 0
