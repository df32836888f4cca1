"""Search text for Hebrew and English, the same on SQLite FTS5 and PostgreSQL: words in, index terms out.

Both databases receive words already normalised here, so matching means the same thing everywhere:
niqqud and cantillation removed, final letters folded, Latin lower-cased and stemmed (Snowball English).
A Hebrew word is indexed under its surface form and under every form left after removing a valid
sequence of the prefix letters ו ה ב כ ל מ ש, provided at least MIN_STEM letters remain. Two words match
when they share one of these forms, so "נאמנות", "ולנאמנות" and "הנאמנות" meet at "נאמנות" while
"אמנות" (art: א is no prefix letter) and "נאמן" (no suffix stripping) stay apart.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

# A stripped form must keep three letters: Hebrew roots mostly have three, and two-letter remainders
# ("ממש" -> "מש", "שמש" -> "מש") would make unrelated words meet.
MIN_STEM = 3

FINAL_LETTERS = str.maketrans({"ך": "כ", "ם": "מ", "ן": "נ", "ף": "פ", "ץ": "צ"})
HEBREW_LETTER = re.compile(r"[\u05D0-\u05EA]")
# Geresh, gershayim and ASCII quotes inside a word belong to it: צה"ל, ג'ירפה.
INNER_QUOTES = re.compile(r"(?<=[\u05D0-\u05EA])[\"'\u05F3\u05F4](?=[\u05D0-\u05EA])")
WORD = re.compile(r"[^\W_]+")

# Prefix letters in the order Hebrew writes them: and, that/when, a preposition, the. Every non-empty
# combination: "ו", "ה", "וכש", "ומה", "שב", "ולה" ... (59 in all).
PREFIXES: tuple[str, ...] = tuple(
    sorted(
        {
            f"{vav}{that}{preposition}{the}"
            for vav in ("", "ו")
            for that in ("", "ש", "כש")
            for preposition in ("", "מ", "ל", "ב", "כ")
            for the in ("", "ה")
        }
        - {""},
        key=len,
    )
)

# Removed from queries only, and only when something else is left to search for.
STOP_WORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "how",
        "i",
        "in",
        "is",
        "it",
        "my",
        "of",
        "on",
        "or",
        "the",
        "to",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "with",
        "you",
        "your",
        "של",
        "את",
        "על",
        "זה",
        "זו",
        "זאת",
        "מה",
        "איך",
        "לא",
        "כן",
        "יש",
        "אין",
        "עם",
        "הוא",
        "היא",
        "הם",
        "הן",
        "גם",
        "אם",
        "כי",
        "או",
        "אני",
        "אנחנו",
        "אתה",
        "אתם",
        "כל",
        "רק",
        "עוד",
        "אבל",
        "אז",
        "לי",
        "לך",
        "לו",
        "לה",
        "אצל",
        "מי",
        "למה",
        "מתי",
        "איפה",
        "האם",
    }
)


@lru_cache(maxsize=1)
def _english() -> snowballstemmer.Stemmer:  # type: ignore[name-defined]
    return snowballstemmer.stemmer("english")


def fold(text: str) -> str:
    """Lower-case, strip every combining mark (niqqud, cantillation, Latin accents), fold final letters."""
    text = INNER_QUOTES.sub("", text)
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return bare.casefold().translate(FINAL_LETTERS)


# Longer "words" are not words anyone searches for, and PostgreSQL refuses a lexeme over 2,047 bytes.
MAX_WORD_CHARS = 100


def words(text: str) -> list[str]:
    """The folded words of a text, in order (without any longer than MAX_WORD_CHARS)."""
    return [word for word in WORD.findall(fold(text)) if len(word) <= MAX_WORD_CHARS]


def is_hebrew(word: str) -> bool:
    return HEBREW_LETTER.search(word) is not None


@lru_cache(maxsize=50_000)
def hebrew_forms(word: str) -> tuple[str, ...]:
    """The surface form, then each form left by removing a valid prefix sequence (longest stem first)."""
    forms = [word]
    for prefix in PREFIXES:
        stem = word[len(prefix) :]
        if word.startswith(prefix) and len(stem) >= MIN_STEM and is_hebrew(stem) and stem not in forms:
            forms.append(stem)
    return tuple(forms)


@lru_cache(maxsize=50_000)
def english_stem(word: str) -> str:
    return str(_english().stemWord(word))


def forms_of(word: str) -> tuple[str, ...]:
    """Index forms of one folded word: Hebrew surface and de-prefixed forms; English stem; digits as is."""
    if is_hebrew(word):
        return hebrew_forms(word)
    if word.isascii() and word.isalpha():
        return (english_stem(word),)
    return (word,)


@dataclass(frozen=True)
class IndexText:
    """What one post puts in the index: heading terms, body terms, and surface words (for ranking)."""

    head: str
    body: str
    exact: str


def _terms(text: str) -> list[str]:
    terms: list[str] = []
    for word in words(text):
        terms.extend(forms_of(word))
    return terms


def index_text(*, title: str, tags: list[str], body: str) -> IndexText:
    head_words = f"{title} {' '.join(tags)}"
    return IndexText(
        head=" ".join(_terms(head_words)),
        body=" ".join(_terms(body)),
        exact=" ".join(words(f"{head_words} {body}")),
    )


@dataclass(frozen=True)
class ParsedQuery:
    """A query as groups of alternatives: a post matches when it has one term of every group."""

    groups: tuple[tuple[str, ...], ...]
    prefixes: tuple[str, ...] = ()  # the last word as typed so far (suggestions), matched as a prefix

    @property
    def empty(self) -> bool:
        return not self.groups and not self.prefixes

    def all_terms(self) -> frozenset[str]:
        return frozenset(term for group in self.groups for term in group)


def parse_query(text: str, *, last_word_prefix: bool = False) -> ParsedQuery:
    found = words(text)[:12]
    prefixes: tuple[str, ...] = ()
    if last_word_prefix and found and not text[-1:].isspace():
        # Still typing the last word: match it (and its de-prefixed or stemmed forms) as a prefix.
        last = found.pop()
        if len(last) >= 2:
            prefixes = tuple(dict.fromkeys([last, *forms_of(last)]))
    meaningful = [word for word in found if word not in STOP_WORDS] or found
    groups: list[tuple[str, ...]] = []
    for word in meaningful:
        alternatives = tuple(dict.fromkeys([*forms_of(word), word]))
        if alternatives not in groups:
            groups.append(alternatives)
    return ParsedQuery(groups=tuple(groups), prefixes=prefixes)


def fts5_match(query: ParsedQuery, *, any_word: bool = False) -> str:
    """The MATCH expression for SQLite FTS5. Terms are letters and digits only, so quoting is safe."""
    parts = ["(" + " OR ".join(f'"{term}"' for term in group) + ")" for group in query.groups]
    if query.prefixes:
        parts.append("(" + " OR ".join(f'"{prefix}"*' for prefix in query.prefixes) + ")")
    return (" OR " if any_word else " AND ").join(parts)


def pg_tsquery(query: ParsedQuery, *, any_word: bool = False) -> str:
    """The tsquery text for PostgreSQL: quoted lexemes are taken as they are, with no parser in between."""
    parts = ["(" + " | ".join(f"'{term}'" for term in group) + ")" for group in query.groups]
    if query.prefixes:
        parts.append("(" + " | ".join(f"'{prefix}':*" for prefix in query.prefixes) + ")")
    return (" | " if any_word else " & ").join(parts)


def matches(query: ParsedQuery, text: str) -> bool:
    """Whether a text matches a query, computed in Python (highlighting and the database-free check)."""
    present: set[str] = set()
    for word in words(text):
        present.update(forms_of(word))
        present.add(word)
    return all(present.intersection(group) for group in query.groups)


def matching_words(query: ParsedQuery, text: str) -> set[str]:
    """The words of `text` (as written) that a query term hits: what a snippet highlights."""
    terms = query.all_terms()
    hits: set[str] = set()
    for raw in WORD.findall(INNER_QUOTES.sub("", text)):
        folded = fold(raw)
        forms = forms_of(folded)
        prefixed = bool(query.prefixes) and any(form.startswith(query.prefixes) for form in forms)
        if prefixed or folded in terms or terms.intersection(forms):
            hits.add(raw)
    return hits
