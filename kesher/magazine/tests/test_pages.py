"""The magazine in the portal: readable addresses, Hebrew right-to-left and English left-to-right, canonical
and Open Graph tags, drafts never public, and nothing of one brand under another's address."""

from __future__ import annotations

import urllib.parse

import pytest

from kesher.magazine.tests.conftest import write
from kesher.members.models import Member
from kesher.members.tests.factories import MemberFactory
from kesher.web.tests.conftest import make_user

pytestmark = pytest.mark.django_db


def test_hebrew_article_page_is_right_to_left_with_canonical_and_open_graph(client, brand):
    article = write(
        brand,
        "קפה של בוקר",
        summary="איך מכינים אספרסו בבית",
        body="## טיפים\n\nטוחנים **דק**. <script>alert(1)</script>",
        locale="he",
        interests=["coffee"],
    )
    assert article.slug == "קפה-של-בוקר"
    path = "/magazine/cafe/" + urllib.parse.quote("קפה-של-בוקר") + "/"
    response = client.get(path, headers={"Accept-Language": "he"})
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="he" dir="rtl">' in html
    assert '<article class="magazine-article" lang="he" dir="rtl" data-test="article">' in html
    assert f'<link rel="canonical" href="http://testserver{path}">' in html
    assert '<meta property="og:title" content="קפה של בוקר">' in html
    assert '<meta property="og:description" content="איך מכינים אספרסו בבית">' in html
    assert '<meta property="og:type" content="article">' in html
    assert '<meta property="og:locale" content="he_IL">' in html
    assert "<strong>דק</strong>" in html
    assert "<script>alert(1)</script>" not in html  # the body is sanitised
    assert '"@type": "Article"' in html


def test_english_article_page_is_left_to_right_in_english(client, other_brand):
    write(other_brand, "Summer reading", summary="Five books", locale="en")
    client.cookies["django_language"] = "en"
    response = client.get("/magazine/shop/summer-reading/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="en" dir="ltr">' in html
    assert 'lang="en" dir="ltr" data-test="article"' in html
    assert '<meta property="og:locale" content="en_US">' in html
    assert "Other Shop magazine" in html


def test_index_lists_published_articles_newest_first_in_both_languages(client, brand):
    write(brand, "ראשון", locale="he")
    write(brand, "Second", locale="en")
    write(brand, "טיוטה", publish=False)
    hebrew = client.get("/magazine/cafe/", headers={"Accept-Language": "he"}).content.decode()
    assert '<html lang="he" dir="rtl">' in hebrew
    assert "המגזין של קפה טוב" in hebrew
    assert hebrew.index("Second") < hebrew.index("ראשון")
    assert "טיוטה" not in hebrew
    assert 'lang="en" dir="ltr" data-test="article-card"' in hebrew
    assert '<link rel="canonical" href="http://testserver/magazine/cafe/">' in hebrew
    client.cookies["django_language"] = "en"
    english = client.get("/magazine/cafe/").content.decode()
    assert '<html lang="en" dir="ltr">' in english
    assert "קפה טוב magazine" in english


def test_drafts_are_not_public(client, brand):
    draft = write(brand, "Secret plans", publish=False, locale="en")
    assert client.get(f"/magazine/cafe/{draft.slug}/").status_code == 404
    assert "Secret plans" not in client.get("/magazine/cafe/").content.decode()


def test_another_brands_address_shows_nothing(client, brand, other_brand):
    article = write(brand, "Only here", locale="en")
    assert client.get(f"/magazine/cafe/{article.slug}/").status_code == 200
    assert client.get(f"/magazine/shop/{article.slug}/").status_code == 404
    assert client.get("/magazine/nobody/").status_code == 404
    assert "Only here" not in client.get("/magazine/shop/").content.decode()


def test_the_portal_links_to_the_brand_magazine(client, brand):
    member = MemberFactory(brand=brand, email="noa@example.org")
    user = make_user("noa@example.org")
    Member.objects.filter(pk=member.pk).update(user=user)
    client.force_login(user)
    html = client.get("/portal/", headers={"Accept-Language": "he"}).content.decode()
    assert '<a href="/magazine/cafe/" data-test="magazine-link">המגזין של המועדון</a>' in html


def test_the_index_costs_the_same_queries_for_3_or_9_articles(client, brand, django_assert_num_queries):
    for number in range(3):
        write(brand, f"Article {number}", locale="en")
    client.get("/magazine/cafe/")  # warm the session and the translations
    with django_assert_num_queries(3) as few:
        client.get("/magazine/cafe/")
    for number in range(3, 9):
        write(brand, f"Article {number}", locale="en")
    with django_assert_num_queries(len(few.captured_queries)):
        assert client.get("/magazine/cafe/").content.decode().count('data-test="article-card"') == 9
