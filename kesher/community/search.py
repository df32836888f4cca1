"""Ranked search over what a reader may see, and "already asked" suggestions for a title being typed.

The database finds and ranks by text (FTS5 bm25 on SQLite, ts_rank on PostgreSQL) among the reader's
visible spaces; the ranking then lifts questions with votes and accepted answers. Snippets and their
highlights are cut in Python with the same normaliser that built the index.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from html import escape
from typing import Any

from django.db import connection
from django.utils.safestring import SafeString, mark_safe

from kesher.community import textsearch
from kesher.community.access import Reader, visible_spaces_q
from kesher.community.models import Post, SearchDocument, Space
from kesher.core.markup import plain_text

CANDIDATES = 200
# Ranking every match of a very common word costs time in proportion to the archive. Beyond this many
# matches only the newest (SQLite) or the first found (PostgreSQL) are ranked; rarer words are unaffected.
SCAN_LIMIT = 3000
SNIPPET_CHARS = 220


@dataclass(frozen=True)
class SearchHit:
    question: Post
    matched: Post
    title_html: SafeString
    snippet_html: SafeString
    score: float


def _db_value(field_name: str, value: Any) -> Any:
    field: Any = SearchDocument._meta.get_field(field_name)
    target: Any = getattr(field, "target_field", field)
    return target.get_db_prep_value(value, connection)


def _candidates(
    *,
    reader: Reader,
    query: textsearch.ParsedQuery,
    space_ids: list[uuid.UUID],
    any_word: bool,
    questions_only: bool,
    limit: int,
) -> list[tuple[uuid.UUID, uuid.UUID, float]]:
    """(post id, question id, text score) of the best-matching visible documents, best first."""
    if not space_ids or query.empty:
        return []
    placeholders = ", ".join(["%s"] * len(space_ids))
    scope_params = [_db_value("brand", reader.brand.pk), *[_db_value("space", pk) for pk in space_ids]]
    only_questions = " AND d.post_id = d.question_id" if questions_only else ""
    if connection.vendor == "postgresql":
        sql = (
            "SELECT m.post_id, m.question_id, ts_rank(m.document, CAST(%s AS tsquery)) AS rank FROM ("
            "SELECT d.post_id, d.question_id, d.document FROM community_searchdocument d "
            f"WHERE d.document @@ CAST(%s AS tsquery) AND d.brand_id = %s AND d.space_id IN ({placeholders}) "
            f"AND d.visible{only_questions} LIMIT %s) m ORDER BY rank DESC LIMIT %s"
        )
        tsquery = textsearch.pg_tsquery(query, any_word=any_word)
        params = [tsquery, tsquery, *scope_params, SCAN_LIMIT, limit]
        sign = 1.0
    else:
        sql = (
            "SELECT post_id, question_id, rank FROM ("
            "SELECT d.post_id, d.question_id, bm25(community_search_fts, 5.0, 1.0, 2.0) AS rank "
            "FROM community_search_fts JOIN community_searchdocument d ON d.id = community_search_fts.rowid "
            f"WHERE community_search_fts MATCH %s AND d.brand_id = %s AND d.space_id IN ({placeholders}) "
            f"AND d.visible{only_questions} ORDER BY community_search_fts.rowid DESC LIMIT %s"
            ") ORDER BY rank LIMIT %s"
        )
        params = [textsearch.fts5_match(query, any_word=any_word), *scope_params, SCAN_LIMIT, limit]
        sign = -1.0  # bm25: lower is better
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [
        (uuid.UUID(str(post)), uuid.UUID(str(question)), sign * float(rank)) for post, question, rank in rows
    ]


def _visible_space_ids(reader: Reader, space: Space | None) -> list[uuid.UUID]:
    spaces = Space.objects.filter(visible_spaces_q(reader))
    if space is not None:
        spaces = spaces.filter(pk=space.pk)
    return list(spaces.values_list("pk", flat=True))


def highlight(text: str, query: textsearch.ParsedQuery, *, window: int | None = None) -> SafeString:
    """Escape `text` and wrap the words the query matched in <mark>; with `window`, cut around the first."""
    hits = textsearch.matching_words(query, text)
    matches = list(textsearch.WORD.finditer(text))
    start, end = 0, len(text)
    if window is not None and len(text) > window:
        first = next((m.start() for m in matches if m.group(0) in hits), 0)
        start = max(0, first - window // 3)
        end = min(len(text), start + window)
        if start > 0:
            space = text.find(" ", start)
            start = space + 1 if 0 <= space < first else start
        if end < len(text):
            space = text.rfind(" ", start, end)
            end = space if space > start else end
    pieces: list[str] = ["…"] if start > 0 else []
    cursor = start
    for match in matches:
        if match.start() < start or match.end() > end:
            continue
        pieces.append(escape(text[cursor : match.start()]))
        word = escape(match.group(0))
        pieces.append(f"<mark>{word}</mark>" if match.group(0) in hits else word)
        cursor = match.end()
    pieces.append(escape(text[cursor:end]))
    if end < len(text):
        pieces.append("…")
    # Every piece is escaped above.
    return mark_safe("".join(pieces))


def _rank(text_score: float, question: Post, matched: Post) -> float:
    """Text relevance first, lifted by the question's votes and by an accepted answer."""
    lift = 1.0 + 0.1 * math.log1p(max(question.score, 0) + max(matched.score, 0))
    if question.accepted_answer_id is not None:
        lift += 0.15
    if matched.pk == question.accepted_answer_id:
        lift += 0.15
    return text_score * lift


def search_posts(*, reader: Reader, q: str, space: Space | None = None, limit: int = 20) -> list[SearchHit]:
    query = textsearch.parse_query(q)
    rows = _candidates(
        reader=reader,
        query=query,
        space_ids=_visible_space_ids(reader, space),
        any_word=False,
        questions_only=False,
        limit=CANDIDATES,
    )
    if not rows:
        return []
    posts = Post.objects.in_bulk(
        {pk for row in rows for pk in row[:2]}, field_name="pk"
    )  # questions and matched answers, in one query
    # Rank every candidate, keep the best document per question, and cut snippets for the winners only.
    best: dict[uuid.UUID, tuple[float, Post, Post]] = {}
    for post_id, question_id, text_score in rows:
        question, matched = posts.get(question_id), posts.get(post_id)
        if question is None or matched is None:
            continue
        score = _rank(text_score, question, matched)
        if question_id not in best or best[question_id][0] < score:
            best[question_id] = (score, question, matched)
    winners = sorted(best.values(), key=lambda entry: -entry[0])[:limit]
    return [
        SearchHit(
            question=question,
            matched=matched,
            title_html=highlight(question.title, query),
            snippet_html=highlight(plain_text(matched.body_html), query, window=SNIPPET_CHARS),
            score=score,
        )
        for score, question, matched in winners
    ]


def questions_similar(
    *, reader: Reader, title: str, exclude: Post | None = None, limit: int = 5
) -> list[Post]:
    """Already asked? Questions whose words meet the title being typed (its last word as a prefix)."""
    query = textsearch.parse_query(title, last_word_prefix=True)
    rows = _candidates(
        reader=reader,
        query=query,
        space_ids=_visible_space_ids(reader, None),
        any_word=True,
        questions_only=True,
        limit=limit + 1,
    )
    ids = [post_id for post_id, _question, _score in rows if exclude is None or post_id != exclude.pk]
    found = Post.objects.in_bulk(ids[:limit])
    return [found[pk] for pk in ids[:limit] if pk in found]
