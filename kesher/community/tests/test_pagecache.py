"""Anonymous readers get cached pages, and every change to a thread shows on the very next request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kesher.community.models import CommunitySettings, Post, Space
from kesher.community.pagecache import CSRF_PLACEHOLDER
from kesher.community.services import (
    Author,
    answer_accept,
    answer_post,
    post_edit,
    post_hide,
    post_restore,
    question_ask,
    vote_cast,
)
from kesher.core.audit import Actor
from kesher.members.models import Member

pytestmark = pytest.mark.django_db


@pytest.fixture
def thread(general: Space, make_member: Callable[..., Member]) -> dict[str, Any]:
    CommunitySettings.objects.filter(brand=general.brand).update(min_seconds_between_posts=0)
    asker = make_member("אורי")
    question = question_ask(
        space=general, author=Author(member=asker), title="איפה הסניף בחיפה?", body="מחפש סניף"
    )
    first = answer_post(question=question, author=Author(member=make_member("דנה")), body="ברחוב הרצל")
    return {"question": question, "asker": asker, "first": first, "url": f"/community/cafe/q/{question.pk}/"}


def get(client: Client, url: str, **headers: str) -> tuple[str, str]:
    response = client.get(url, follow=True, headers=headers)
    assert response.status_code == 200
    return response.get("X-Community-Cache", ""), response.content.decode()


def staff() -> Actor:
    user, _ = get_user_model().objects.get_or_create(username="mod")
    return Actor(user=user)


def test_second_anonymous_read_is_served_from_the_cache_with_few_queries(thread: dict[str, Any]) -> None:
    assert get(Client(), thread["url"])[0] == "miss"
    client = Client()
    client.get(thread["url"])  # follows the redirect to the readable URL once
    readable = f"{thread['url']}{thread['question'].slug}/"
    with CaptureQueriesContext(connection) as queries:
        state, html = get(client, readable)
    assert state == "hit"
    assert "ברחוב הרצל" in html
    assert len(queries) == 1  # the brand; the page itself comes from the cache


def test_a_new_answer_appears_at_once_on_a_cached_page(
    thread: dict[str, Any], make_member: Callable[..., Member]
) -> None:
    get(Client(), thread["url"])
    assert get(Client(), thread["url"])[0] == "hit"
    answer_post(question=thread["question"], author=Author(member=make_member("יעל")), body="גם בנמל")
    state, html = get(Client(), thread["url"])
    assert state == "miss"
    assert "גם בנמל" in html
    assert get(Client(), thread["url"])[0] == "hit"


def test_votes_edits_acceptance_and_moderation_each_show_at_once(
    thread: dict[str, Any], make_member: Callable[..., Member]
) -> None:
    url, question, first = thread["url"], thread["question"], thread["first"]
    get(Client(), url)
    vote_cast(post=first, member=make_member("רון"), value=1)
    assert get(Client(), url)[0] == "miss"

    post_edit(post=first, editor=Author(member=first.author), body="ברחוב הרצל 12")
    state, html = get(Client(), url)
    assert (state, "ברחוב הרצל 12" in html) == ("miss", True)

    answer_accept(answer=first, member=thread["asker"])
    assert get(Client(), url)[0] == "miss"

    post_hide(post=question, actor=staff(), reason="בדיקה")
    assert Client().get(url, follow=True).status_code == 404
    post_restore(post=Post.objects.get(pk=question.pk), actor=staff(), reason="טעות")
    assert get(Client(), url)[0] == "miss"


def test_question_list_and_space_list_show_a_new_question_at_once(
    thread: dict[str, Any], general: Space, make_member: Callable[..., Member]
) -> None:
    for url in ("/community/cafe/s/general/", "/community/cafe/"):
        get(Client(), url)
        assert get(Client(), url)[0] == "hit"
    question_ask(space=general, author=Author(member=make_member("מיכל")), title="מה שעות הפתיחה?", body="?")
    for url in ("/community/cafe/s/general/", "/community/cafe/"):
        state, html = get(Client(), url)
        assert (state, "מה שעות הפתיחה?" in html) == ("miss", True)


def test_each_language_has_its_own_cached_page(thread: dict[str, Any]) -> None:
    assert 'dir="rtl"' in get(Client(), thread["url"], **{"Accept-Language": "he"})[1]
    state, html = get(Client(), thread["url"], **{"Accept-Language": "en"})
    assert (state, 'dir="ltr"' in html) == ("miss", True)
    assert get(Client(), thread["url"], **{"Accept-Language": "en"})[0] == "hit"


def test_a_cached_page_carries_each_readers_own_csrf_token(thread: dict[str, Any]) -> None:
    get(Client(), thread["url"])
    client = Client(enforce_csrf_checks=True)
    state, html = get(client, thread["url"])
    assert state == "hit"
    assert CSRF_PLACEHOLDER not in html
    token = html.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    switched = client.post("/i18n/setlang/", {"language": "en", "csrfmiddlewaretoken": token, "next": "/"})
    assert switched.status_code == 302


def test_signed_in_readers_are_never_served_the_shared_page(thread: dict[str, Any]) -> None:
    get(Client(), thread["url"])
    user = get_user_model().objects.create_user(username="reader")
    Member.objects.filter(pk=thread["asker"].pk).update(user=user)
    client = Client()
    client.force_login(user)
    response = client.get(thread["url"], follow=True)
    assert response.status_code == 200
    assert "X-Community-Cache" not in response


def test_search_results_are_cached_and_a_new_question_is_found_at_once(
    thread: dict[str, Any], general: Space, make_member: Callable[..., Member]
) -> None:
    url = "/community/cafe/search/?q=סניף"
    get(Client(), url)
    assert get(Client(), url)[0] == "hit"
    question_ask(space=general, author=Author(member=make_member("גל")), title="סניף חדש בעכו?", body="?")
    state, html = get(Client(), url)
    assert (state, "חדש בעכו" in html) == ("miss", True)  # the matched word itself is highlighted
