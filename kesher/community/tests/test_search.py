"""Hebrew-aware search: a table of prefixed forms that must and must not match, in Python and in the
database (the same test runs on SQLite FTS5 and, in the PostgreSQL pass, on PostgreSQL full-text)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kesher.community import textsearch
from kesher.community.access import reader_anonymous
from kesher.community.models import CommunitySettings, Space
from kesher.community.search import highlight, questions_similar, search_posts
from kesher.community.services import Author, answer_post, question_ask
from kesher.members.models import Member

# (what is searched for, a word in a post, whether it must be found)
TABLE: list[tuple[str, str, bool]] = [
    ("נאמנות", "ולנאמנות", True),
    ("נאמנות", "הנאמנות", True),
    ("נאמנות", "לנאמנות", True),
    ("נאמנות", "ונאמנות", True),
    ("נאמנות", "שבנאמנות", True),
    ("נאמנות", "וכשנאמנות", True),
    ("נאמנות", "ומהנאמנות", True),
    ("הנאמנות", "נאמנות", True),
    ("ולנאמנות", "נאמנות", True),
    ("נָאֱמָנוּת", "נאמנות", True),  # niqqud in the query
    ("נאמנות", "נֶאֱמָנוּת", True),  # niqqud in the post
    ("מועדון", "במועדון", True),  # final letters folded on both sides
    ("המלון", "במלון", True),  # both prefixed, the same word
    ("צה״ל", 'צה"ל', True),  # gershayim and a plain quote
    ("questions", "question", True),  # English stemming
    ("asking", "asked", True),
    ("cafe", "Café", True),
    ("נאמנות", "אמנות", False),  # art: א is not a prefix letter
    ("אמנות", "נאמנות", False),
    ("נאמנות", "נאמן", False),  # no suffix stripping
    ("נאמנות", "ננאמנות", False),  # נ is not a prefix letter
    ("נאמנות", "לונאמנות", False),  # ו comes first or not at all
    ("נאמנות", "התנאמנות", False),
    ("ממש", "שמש", False),  # two letters left ("מש") are too few to meet on
    ("שמש", "ממש", False),
    ("ספר", "ספרות", False),
    ("question", "quest", False),
]


@pytest.mark.parametrize(("query", "word", "found"), TABLE)
def test_the_normaliser_matches_prefixed_forms_and_nothing_else(query: str, word: str, found: bool) -> None:
    assert textsearch.matches(textsearch.parse_query(query), f"שלום {word} עולם") is found


def test_forms_of_a_prefixed_word() -> None:
    assert textsearch.hebrew_forms("ולנאמנות") == ("ולנאמנות", "לנאמנות", "נאמנות")
    assert textsearch.hebrew_forms("ומהבית") == ("ומהבית", "מהבית", "הבית", "בית")
    assert textsearch.hebrew_forms("בית") == ("בית",)
    assert textsearch.words("שָׁלוֹם, עולם!") == ["שלומ", "עולמ"]


@pytest.fixture
def posting(general: Space, make_member: Callable[..., Member]) -> Callable[..., Any]:
    CommunitySettings.objects.filter(brand=general.brand).update(min_seconds_between_posts=0)
    author = Author(member=make_member("כותבת", reputation=100))

    def post(title: str, body: str, space: Space = general) -> Any:
        return question_ask(space=space, author=author, title=title, body=body)

    return post


@pytest.mark.django_db
def test_the_database_matches_the_same_table(
    general: Space, posting: Callable[..., Any], db_vendor: str
) -> None:
    words = sorted({word for _query, word, _found in TABLE})
    by_word = {
        word: posting(f"שאלה {index}", f"משפט {index} עם {word} בתוכו") for index, word in enumerate(words)
    }
    reader = reader_anonymous(general.brand)
    for query, word, found in TABLE:
        hits = {hit.question.pk for hit in search_posts(reader=reader, q=query, limit=50)}
        assert (by_word[word].pk in hits) is found, (db_vendor, query, word, found)


@pytest.mark.django_db
def test_ranking_prefers_the_exact_word_votes_and_accepted_answers(
    general: Space, posting: Callable[..., Any], make_member: Callable[..., Member]
) -> None:
    prefixed = posting("על מועדון ולנאמנות", "טקסט ארוך יותר על הנושא")
    exact = posting("מה זו הנאמנות", "הסבר על הנאמנות במועדון")
    reader = reader_anonymous(general.brand)
    hits = search_posts(reader=reader, q="הנאמנות")
    assert [hit.question.pk for hit in hits] == [exact.pk, prefixed.pk]
    assert str(hits[0].title_html) == "מה זו <mark>הנאמנות</mark>"
    assert "<mark>הנאמנות</mark>" in str(hits[0].snippet_html)

    # An answer that matches brings its question; mixed Hebrew and English text works.
    answer_post(
        question=prefixed, author=Author(member=make_member("עונה")), body="Use the app: הנאמנות pays"
    )
    hits = search_posts(reader=reader, q="app הנאמנות")
    assert [hit.question.pk for hit in hits] == [prefixed.pk]
    assert "<mark>app</mark>" in str(hits[0].snippet_html)


@pytest.mark.django_db
def test_already_asked_suggestions_while_typing(general: Space, posting: Callable[..., Any]) -> None:
    question = posting("איך מממשים נקודות בסניף?", "בקופה או באפליקציה")
    hours = posting("שעות פתיחה בשבת", "האם פתוח?")
    reader = reader_anonymous(general.brand)
    # The last word is still being typed: it matches as a prefix, here of "נקודות".
    assert [q.pk for q in questions_similar(reader=reader, title="לממש נקוד")] == [question.pk]
    assert [q.pk for q in questions_similar(reader=reader, title="והנקודות ")] == [question.pk]
    assert [q.pk for q in questions_similar(reader=reader, title="בשעות ה")] == [hours.pk]
    assert questions_similar(reader=reader, title="משלוחים לחו״ל ") == []
    assert questions_similar(reader=reader, title="") == []


def test_highlight_escapes_html() -> None:
    query = textsearch.parse_query("נאמנות")
    assert (
        str(highlight("<b>ולנאמנות</b> & more", query))
        == "&lt;b&gt;<mark>ולנאמנות</mark>&lt;/b&gt; &amp; more"
    )
