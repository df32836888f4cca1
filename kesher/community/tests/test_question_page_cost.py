"""The question page's cost does not grow with its thread: a fixed number of queries for a member reader
too (votes, flags, comments, accept links on every post), and every per-post link still right."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kesher.community.models import CommunitySettings, Post, Space
from kesher.community.services import Author, answer_post, comment_post, question_ask
from kesher.members.models import Member

pytestmark = pytest.mark.django_db


def signed_in(member: Member, name: str) -> Client:
    user = get_user_model().objects.create_user(username=name)
    Member.objects.filter(pk=member.pk).update(user=user)
    client = Client()
    client.force_login(user)
    return client


def test_a_members_question_page_costs_the_same_queries_with_many_answers(
    general: Space, make_member: Callable[..., Member], settings: object
) -> None:
    settings.COMMUNITY_PAGE_CACHE = False  # type: ignore[attr-defined]
    CommunitySettings.objects.filter(brand=general.brand).update(min_seconds_between_posts=0)
    asker = make_member("שואלת", reputation=100)
    question = question_ask(space=general, author=Author(member=asker), title="איך מצטרפים?", body="**?**")
    first = answer_post(question=question, author=Author(member=make_member("עונה")), body="בקופה")
    url = f"/community/cafe/q/{question.pk}/{question.slug}/"
    client = signed_in(asker, "asker")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for index in range(12):
        answer = answer_post(
            question=question, author=Author(member=make_member(f"עונה{index}")), body=f"תשובה {index}"
        )
        comment_post(parent=answer, author=Author(member=asker), body=f"תודה {index}")
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many]

    html = response.content.decode()
    answers = Post.objects.filter(kind="answer").count()
    assert html.count('data-test="answer"') == answers == 13
    # The asker votes and flags on every answer (not on her own question), accepts any, comments anywhere.
    assert html.count('data-test="vote-up"') == answers
    assert html.count('data-test="accept"') == answers
    assert html.count('data-test="comment-form"') == answers + 1
    assert html.count('name="csrfmiddlewaretoken"') == html.count('<form method="post"')
    assert f'action="/community/cafe/p/{first.pk}/vote/"' in html
    assert f'action="/community/cafe/p/{first.pk}/flag/"' in html
    assert f'action="/community/cafe/p/{first.pk}/comment/"' in html
    assert f'action="/community/cafe/a/{first.pk}/accept/"' in html
    assert f'href="/community/cafe/m/{first.author_id}/"' in html
    assert html.count("תודה ") == 12
