"""The community's pages: readable by people and search engines, private spaces hidden, RTL in Hebrew."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kesher.brands.models import Brand
from kesher.community.models import CommunitySettings, Post, Space
from kesher.community.services import Author, answer_accept, answer_post, question_ask, space_create
from kesher.members.models import Member

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(general: Space, make_member: Callable[..., Member]) -> dict[str, Any]:
    CommunitySettings.objects.filter(brand=general.brand).update(min_seconds_between_posts=0)
    asker = make_member("אורי")
    question = question_ask(
        space=general, author=Author(member=asker), title="איך מממשים נקודות?", body="ניסיתי <b>בקופה</b>"
    )
    answers = [
        answer_post(question=question, author=Author(member=make_member(f"עונה{i}")), body=f"תשובה מספר {i}")
        for i in range(3)
    ]
    answer_accept(answer=answers[1], member=asker)
    return {"question": question, "answers": answers, "asker": asker}


def ld_json(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert found is not None
    return dict(json.loads(found.group(1)))


def page(client: Client, url: str) -> tuple[int, str]:
    response = client.get(url, follow=True)
    return response.status_code, response.content.decode()


def test_question_page_is_a_qapage_with_a_canonical_link(conversation: dict[str, Any]) -> None:
    question: Post = conversation["question"]
    status, html = page(Client(), f"/community/cafe/q/{question.pk}/")  # redirects to the readable URL
    assert status == 200
    assert '<html lang="he" dir="rtl">' in html
    assert f'<link rel="canonical" href="http://testserver/community/cafe/q/{question.pk}/' in html
    assert 'name="robots"' not in html
    data = ld_json(html)
    main = data["mainEntity"]
    assert (data["@type"], main["@type"], main["name"], main["answerCount"]) == (
        "QAPage",
        "Question",
        "איך מממשים נקודות?",
        3,
    )
    assert main["acceptedAnswer"]["text"] == "תשובה מספר 1"
    assert [a["text"] for a in main["suggestedAnswer"]] == ["תשובה מספר 0", "תשובה מספר 2"]
    assert main["author"] == {"@type": "Person", "name": "אורי ל."}
    assert "&lt;b&gt;" not in html and "<b>בקופה</b>" in html  # sanitised Markdown, not escaped twice


def test_the_readable_url_has_the_hebrew_slug(conversation: dict[str, Any]) -> None:
    question: Post = conversation["question"]
    response = Client().get(f"/community/cafe/q/{question.pk}/")
    assert response.status_code == 301
    assert response["Location"] == f"/community/cafe/q/{question.pk}/{quote('איך-מממשים-נקודות')}/"
    assert question.slug == "איך-מממשים-נקודות"


def test_private_spaces_are_hidden_from_pages_and_the_sitemap(
    general: Space, conversation: dict[str, Any], signed_in: Callable[..., tuple[Client, Member]]
) -> None:
    club = space_create(brand=general.brand, slug="club", name="מועדון", visibility="members")
    private = question_ask(
        space=club, author=Author(member=conversation["asker"]), title="שאלה לחברים בלבד", body="סוד"
    )
    anonymous = Client()
    assert page(anonymous, f"/community/cafe/q/{private.pk}/")[0] == 404
    assert page(anonymous, "/community/cafe/s/club/")[0] == 404
    assert "שאלה לחברים בלבד" not in page(anonymous, "/community/cafe/")[1]
    assert "שאלה לחברים בלבד" not in page(anonymous, "/community/cafe/search/?q=שאלה")[1]

    member_client, _member = signed_in("חבר")
    status, html = page(member_client, f"/community/cafe/q/{private.pk}/")
    assert status == 200
    assert '<meta name="robots" content="noindex">' in html
    assert "application/ld+json" not in html

    sitemap = anonymous.get("/community/cafe/sitemap.xml")
    assert sitemap["Content-Type"] == "application/xml"
    body = sitemap.content.decode()
    assert (
        body.count("<url>") == 1 and str(conversation["question"].pk) in body and str(private.pk) not in body
    )
    assert page(anonymous, "/community/nobrand/")[0] == 404


def test_english_pages_are_left_to_right(conversation: dict[str, Any]) -> None:
    client = Client(headers={"Accept-Language": "en"})
    client.cookies["django_language"] = "en"
    status, html = page(client, "/community/cafe/")
    assert status == 200 and '<html lang="en" dir="ltr">' in html
    assert "Recent questions" in html


def test_hebrew_pages_are_translated(conversation: dict[str, Any]) -> None:
    status, html = page(Client(), "/community/cafe/")
    assert status == 200
    assert "שאלות אחרונות" in html and "Recent questions" not in html


def test_ask_answer_vote_and_accept_on_the_web(
    general: Space, signed_in: Callable[..., tuple[Client, Member]]
) -> None:
    CommunitySettings.objects.filter(brand=general.brand).update(min_seconds_between_posts=0)
    asker_client, asker = signed_in("שואלת")
    helper_client, helper = signed_in("עוזר")
    assert page(asker_client, "/community/cafe/ask/")[0] == 200
    asked = asker_client.post(
        "/community/cafe/ask/",
        {"space": "general", "title": "מתי נפתח הסניף?", "body": "בשבת?", "tags": "שעות"},
    )
    assert asked.status_code == 302
    question = Post.objects.get(author=asker, kind="question")
    assert asked["Location"].startswith(f"/community/cafe/q/{question.pk}/")

    assert (
        helper_client.post(f"/community/cafe/answer/{question.pk}/", {"body": "ב-9 בבוקר"}).status_code == 302
    )
    answer = Post.objects.get(author=helper, kind="answer")
    assert asker_client.post(f"/community/cafe/p/{answer.pk}/vote/", {"value": "1"}).status_code == 302
    assert (
        helper_client.post(f"/community/cafe/p/{answer.pk}/vote/", {"value": "1"}).status_code == 302
    )  # own
    assert asker_client.post(f"/community/cafe/a/{answer.pk}/accept/").status_code == 302
    answer.refresh_from_db()
    question.refresh_from_db()
    assert (answer.score, question.accepted_answer_id) == (1, answer.pk)
    status, html = page(helper_client, f"/community/cafe/q/{question.pk}/")
    assert status == 200 and 'data-test="accepted"' in html
    assert "אי אפשר לעשות את זה בפוסט שלך." in html

    anonymous = Client()
    assert (
        anonymous.post(f"/community/cafe/answer/{question.pk}/", {"body": "x"}).status_code == 302
    )  # to sign in
    assert Post.objects.filter(kind="answer").count() == 1


def test_already_asked_suggestions_partial(conversation: dict[str, Any]) -> None:
    html = Client().get("/community/cafe/suggest/", {"title": "לממש נקודו"}).content.decode()
    assert "איך מממשים נקודות?" in html


def test_question_page_queries_do_not_grow_with_answers(
    general: Space, conversation: dict[str, Any], make_member: Callable[..., Member], settings: Any
) -> None:
    settings.COMMUNITY_PAGE_CACHE = False  # measure the rendering itself, not the cached page
    question: Post = conversation["question"]
    url = f"/community/cafe/q/{question.pk}/{question.slug}/"
    client = Client()
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for index in range(10):
        answer_post(
            question=question, author=Author(member=make_member(f"עוד{index}")), body=f"עוד תשובה {index}"
        )
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)


def test_question_list_queries_do_not_grow_with_questions(
    general: Space, conversation: dict[str, Any], make_member: Callable[..., Member], brand: Brand
) -> None:
    client = Client()
    with CaptureQueriesContext(connection) as few:
        assert client.get("/community/cafe/s/general/").status_code == 200
    author = Author(member=make_member("רבה", reputation=100))
    for index in range(8):
        question_ask(
            space=general, author=author, title=f"שאלה נוספת {index}", body=f"גוף {index}", tags=["א", "ב"]
        )
    with CaptureQueriesContext(connection) as many:
        assert client.get("/community/cafe/s/general/").status_code == 200
    assert len(many) == len(few)
