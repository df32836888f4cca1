"""Signed-in readers get the question page's posts from the cache, with only their own state laid over them:
every change shows on the next request, and nobody's votes, follows or controls reach anyone else."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kesher.brands.models import StaffMembership, StaffRole
from kesher.community.models import CommunitySettings, Post, Space
from kesher.community.services import (
    Author,
    answer_post,
    comment_post,
    follow_set,
    post_edit,
    post_hide,
    question_ask,
    vote_cast,
)
from kesher.core.audit import Actor
from kesher.members.models import Member

pytestmark = pytest.mark.django_db

SignIn = Callable[..., tuple[Client, Member]]


@pytest.fixture
def thread(general: Space, make_member: Callable[..., Member]) -> dict[str, Any]:
    CommunitySettings.objects.filter(brand=general.brand).update(min_seconds_between_posts=0)
    asker = make_member("אורי", reputation=100)  # posts without the new members' daily limit
    question = question_ask(
        space=general, author=Author(member=asker), title="איפה הסניף בחיפה?", body="מחפש **סניף**"
    )
    first = answer_post(question=question, author=Author(member=make_member("דנה")), body="ברחוב הרצל")
    second = answer_post(question=question, author=Author(member=make_member("יואב")), body="גם בנמל")
    return {
        "question": question,
        "asker": asker,
        "first": first,
        "second": second,
        "url": f"/community/cafe/q/{question.pk}/{question.slug}/",
    }


def html_of(client: Client, url: str, **headers: str) -> str:
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    assert "X-Community-Cache" not in response  # a signed-in reader's page is never the shared one
    return response.content.decode()


def article(html: str, post: Post) -> str:
    """The HTML of one post on the page."""
    kind = "question" if post.kind == "question" else "answer"
    found = re.search(rf'<article [^>]*id="{kind}-{post.pk}".*?</article>', html, re.S)
    assert found is not None, f"{kind} {post.pk} is not on the page"
    return found.group(0)


def pressed(html: str, post: Post) -> tuple[bool, bool]:
    """Whether the reader's up and down buttons on the post show as pressed."""
    one = article(html, post)
    up = re.search(r'class="vote up( on)?"[^>]*aria-pressed="(\w+)"', one)
    down = re.search(r'class="vote down( on)?"[^>]*aria-pressed="(\w+)"', one)
    assert up is not None and down is not None
    assert bool(up.group(1)) == (up.group(2) == "true") and bool(down.group(1)) == (down.group(2) == "true")
    return bool(up.group(1)), bool(down.group(1))


def score(html: str, post: Post) -> str:
    found = re.search(r'data-test="score">(-?\d+)<', article(html, post))
    assert found is not None
    return found.group(1)


def post_queries(queries: CaptureQueriesContext) -> int:
    return sum('FROM "community_post"' in query["sql"] for query in queries.captured_queries)


def staff_client(brand: Any, role: str = StaffRole.MODERATOR) -> Client:
    user = get_user_model().objects.create_user(username=f"staff-{role}")
    StaffMembership.objects.create(brand=brand, user=user, role=role)
    client = Client()
    client.force_login(user)
    return client


def moderator() -> Actor:
    user, _ = get_user_model().objects.get_or_create(username="mod-actor")
    return Actor(user=user)


def test_a_second_member_gets_the_kept_posts_with_fewer_queries_flat_in_answers(
    thread: dict[str, Any], signed_in: SignIn, make_member: Callable[..., Member]
) -> None:
    url = thread["url"]
    noa, _ = signed_in("נועה")
    ben, _ = signed_in("בן")
    with CaptureQueriesContext(connection) as rendering:
        html_of(noa, url)  # renders the thread's posts and keeps them
    with CaptureQueriesContext(connection) as kept:
        html = html_of(ben, url)
    # Counted now: the next request empties the connection's query log these read from.
    assert post_queries(rendering) == 3  # the question, its answers, its comments (and the tags)
    assert post_queries(kept) == 1  # only the question itself, for who may see it and its state
    kept_count = len(kept)
    assert kept_count < len(rendering)
    assert "ברחוב הרצל" in html and "גם בנמל" in html and "<strong>סניף</strong>" in html

    for index in range(10):
        author = Author(member=make_member(f"עונה{index}"))
        answer = answer_post(question=thread["question"], author=author, body=f"עוד {index}")
        comment_post(parent=answer, author=Author(member=thread["asker"]), body=f"תודה {index}")
    html_of(noa, url)
    with CaptureQueriesContext(connection) as many:
        html = html_of(ben, url)
    assert len(many) == kept_count
    assert html.count('data-test="answer"') == 12 and html.count("תודה ") == 10
    assert html.count('data-test="vote-up"') == 13  # Ben votes on everything: none of it is his


def test_the_kept_page_is_the_page_rendered_afresh(
    thread: dict[str, Any], signed_in: SignIn, settings: Any
) -> None:
    noa, member = signed_in("נועה")
    vote_cast(post=thread["first"], member=member, value=1)
    comment_post(parent=thread["first"], author=Author(member=member), body="תודה רבה")
    html_of(noa, thread["url"])
    kept = html_of(noa, thread["url"])
    settings.COMMUNITY_PAGE_CACHE = False
    fresh = html_of(noa, thread["url"])

    def without_token(html: str) -> str:
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)

    assert without_token(kept) == without_token(fresh)


def test_a_member_sees_their_own_vote_at_once_after_voting(thread: dict[str, Any], signed_in: SignIn) -> None:
    url, first, second = thread["url"], thread["first"], thread["second"]
    noa, _ = signed_in("נועה", reputation=200)  # enough to vote down
    ben, _ = signed_in("בן")
    html_of(ben, url)
    assert pressed(html_of(noa, url), first) == (False, False)

    voted = noa.post(f"/community/cafe/p/{first.pk}/vote/", {"value": "1"})
    assert voted.status_code == 302
    html = html_of(noa, url)
    assert (pressed(html, first), score(html, first)) == ((True, False), "1")
    assert pressed(html, second) == (False, False)
    # Pressing it again withdraws the vote: the form sends 0 while the vote is on.
    assert 'name="value" value="0"' in article(html, first).split('data-test="vote-up"')[0]

    noa.post(f"/community/cafe/p/{first.pk}/vote/", {"value": "-1"})
    html = html_of(noa, url)
    assert (pressed(html, first), score(html, first)) == ((False, True), "-1")


def test_no_members_state_reaches_another_member(
    thread: dict[str, Any], signed_in: SignIn, general: Space
) -> None:
    url, question, first = thread["url"], thread["question"], thread["first"]
    CommunitySettings.objects.filter(brand=general.brand).update(banned_words=["קזינו"])
    noa, noa_member = signed_in("נועה", reputation=200)  # enough to vote down
    ben, _ = signed_in("בן")
    vote_cast(post=first, member=noa_member, value=1)
    vote_cast(post=question, member=noa_member, value=-1)
    follow_set(member=noa_member, question=question)
    own = answer_post(question=question, author=Author(member=noa_member), body="אני ממליצה על הסניף")
    held = answer_post(question=question, author=Author(member=noa_member), body="בקזינו ליד הסניף")
    assert held.status == "held"

    noas = html_of(noa, url)  # Noa's view renders the kept posts first
    assert pressed(noas, first) == (True, False) and pressed(noas, question) == (False, True)
    assert 'data-test="follow">מעקב' not in noas and "הפסקת מעקב" in noas
    assert 'data-test="vote-up"' not in article(noas, own)  # no voting on one's own answer
    assert "בקזינו ליד הסניף" in noas  # her own held answer, waiting for a moderator
    structured = noas.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
    assert "בקזינו ליד הסניף" not in structured  # search engines' data holds published answers only

    bens = html_of(ben, url)
    assert pressed(bens, first) == (False, False) and pressed(bens, question) == (False, False)
    assert "מעקב אחרי השאלה" in bens and "הפסקת מעקב" not in bens
    assert 'data-test="vote-up"' in article(bens, own)
    assert "בקזינו ליד הסניף" not in bens and str(held.pk) not in bens
    assert bens.count('data-test="answer"') == 3
    assert 'data-test="accept"' not in bens  # only the asker (or staff) accepts
    assert 'data-test="merge"' not in bens

    anonymous = Client().get(url).content.decode()
    assert "בקזינו ליד הסניף" not in anonymous and 'data-test="vote-up"' not in anonymous
    assert 'data-test="follow"' not in anonymous and 'data-test="comment-form"' not in anonymous


def test_an_authors_edit_shows_at_once_for_other_members(thread: dict[str, Any], signed_in: SignIn) -> None:
    url, first = thread["url"], thread["first"]
    noa, _ = signed_in("נועה")
    ben, _ = signed_in("בן")
    html_of(noa, url)
    assert "ברחוב הרצל" in html_of(ben, url)
    post_edit(post=first, editor=Author(member=first.author), body="ברחוב הרצל 12, *ליד הבנק*")
    for client in (noa, ben):
        html = article(html_of(client, url), first)
        assert "ברחוב הרצל 12, <em>ליד הבנק</em>" in html
        assert "<span>נערכה</span>" in html  # "edited"


def test_a_new_comment_shows_at_once_and_a_held_one_only_to_its_author(
    thread: dict[str, Any], signed_in: SignIn, general: Space
) -> None:
    url, first = thread["url"], thread["first"]
    CommunitySettings.objects.filter(brand=general.brand).update(banned_words=["קזינו"])
    noa, noa_member = signed_in("נועה")
    ben, _ = signed_in("בן")
    html_of(ben, url)
    noa.post(f"/community/cafe/p/{first.pk}/comment/", {"body": "תודה, מצאתי"})
    held = comment_post(parent=first, author=Author(member=noa_member), body="יש קזינו ליד")
    assert held.status == "held"
    assert "תודה, מצאתי" in article(html_of(ben, url), first)
    assert "יש קזינו ליד" not in html_of(ben, url)
    assert "יש קזינו ליד" in article(html_of(noa, url), first)


def test_a_hidden_answer_disappears_for_members_and_moderators_still_see_it_with_their_controls(
    thread: dict[str, Any], signed_in: SignIn, brand: Any
) -> None:
    url, first, second = thread["url"], thread["first"], thread["second"]
    noa, _ = signed_in("נועה")
    mod = staff_client(brand)
    html_of(noa, url)
    assert 'data-test="merge"' in html_of(mod, url)  # the kept posts, the moderator's controls
    post_hide(post=first, actor=moderator(), reason="פרסומת")

    members = html_of(noa, url)
    assert "ברחוב הרצל" not in members and str(first.pk) not in members
    assert "גם בנמל" in members and members.count('data-test="answer"') == 1
    assert 'data-test="merge"' not in members and 'data-test="accept"' not in members
    assert 'data-test="answer-count">תשובה אחת<' in members  # "1 answer"

    moderators = html_of(mod, url)
    assert "ברחוב הרצל" in article(moderators, first)
    assert 'class="warn"' in article(moderators, first)  # marked as hidden, for staff only
    assert 'data-test="merge"' in moderators and 'data-test="merge-submit"' in moderators
    assert 'data-test="accept"' in article(moderators, second)  # staff may accept
    assert 'data-test="vote-up"' not in moderators  # staff without a member card do not vote

    assert "ברחוב הרצל" not in Client().get(url).content.decode()


@pytest.mark.parametrize(
    ("language", "direction", "vote_up", "answered_by"),
    [("he", "rtl", "הצבעה בעד", "נענתה על ידי"), ("en", "ltr", "Vote up", "answered by")],
)
def test_each_language_gets_its_own_kept_posts(
    thread: dict[str, Any],
    signed_in: SignIn,
    language: str,
    direction: str,
    vote_up: str,
    answered_by: str,
) -> None:
    noa, _ = signed_in("נועה")
    other = "en" if language == "he" else "he"
    html_of(noa, thread["url"], **{"Accept-Language": other})  # the other language's posts are kept first
    html = html_of(noa, thread["url"], **{"Accept-Language": language})
    assert f'dir="{direction}"' in html.split(">", 2)[1]
    assert f'aria-label="{vote_up}"' in html
    assert answered_by in article(html, thread["first"])
    assert '<h1 dir="auto">איפה הסניף בחיפה?</h1>' in html
