"""Splitting a text into words the analyser understands: language, Hebrew prefix letters, repeated letters.

Nothing here needs Django or a subprocess: it is the fast path every text goes through.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# The Hebrew prefix letters (משה וכלב): ו "and", ה "the", ש "that", ב "in", כ "as", ל "to", מ "from".
# They stack (וכשהמשלוח = ו+כש+ה+משלוח); up to four are tried, the word left must keep two letters.
PREFIX_LETTERS = frozenset("והשבכלמ")
MAX_PREFIX = 4
NIQQUD = re.compile(r"[\u0591-\u05c7]")
HEBREW = re.compile(r"[\u05d0-\u05ea]")
LATIN = re.compile(r"[A-Za-z]")
ARABIC = re.compile(r"[\u0600-\u06ff]")
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
# A word: Hebrew or Latin letters and digits, with the geresh/gershayim of abbreviations (עו"ד, ג'ינס)
# and an apostrophe inside English words (don't). Emoji and punctuation are tokens of their own.
TOKEN = re.compile(
    r"""[\u05d0-\u05ea]+(?:["'\u05f3\u05f4][\u05d0-\u05ea]+)*['\u05f3]?"""
    r"""|[A-Za-z0-9]+(?:['\u2019][A-Za-z]+)*"""
    r"""|[!?]+|[.,;:]+|\.\.\.|…"""
    r"""|[\U0001F300-\U0001FAFF\u2600-\u27BF\u2B50\u2764]"""
)
REPEAT3 = re.compile(r"(.)\1{2,}")
FINAL = str.maketrans("ךםןףץ", "כמנפצ")
SENTENCE_END = frozenset({".", ",", ";", ":", "!", "?", "...", "…"})


@dataclass(frozen=True, slots=True)
class Token:
    text: str  # lower-cased, niqqud and geresh normalised, repeated letters kept
    squeezed: str  # letters repeated three times or more cut to one (מעולהההה → מעולה, goood → god)
    elongated: bool  # the writer stretched the word: a sign of emphasis
    hebrew: bool
    kind: str  # "word", "emoji", "punct"
    forms: tuple[str, ...] = ()  # what the word may be read as: prefixes peeled (Hebrew) or stems (English)


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = NIQQUD.sub("", text)
    return text.replace("\u05f4", '"').replace("\u05f3", "'").replace("\u2019", "'").replace("״", '"')


def language_detect(text: str, tokens: list[Token] | None = None) -> str:
    """ "he", "en", "ar", "ru" by the script most of the letters are in; "und" when there are none."""
    if tokens is not None:
        hebrew = sum(len(token.text) for token in tokens if token.hebrew)
        latin = sum(len(token.text) for token in tokens if token.kind == "word" and not token.hebrew)
        if hebrew + latin and not (ARABIC.search(text) or CYRILLIC.search(text)):
            return "he" if hebrew >= latin else "en"
    counts = {
        "he": len(HEBREW.findall(text)),
        "en": len(LATIN.findall(text)),
        "ar": len(ARABIC.findall(text)),
        "ru": len(CYRILLIC.findall(text)),
    }
    language, count = max(counts.items(), key=lambda item: item[1])
    return language if count else "und"


_words: dict[str, Token] = {}


def _word(raw: str) -> Token:
    token = _words.get(raw)
    if token is None:
        word = raw.lower()
        squeezed = REPEAT3.sub(r"\1", word)
        hebrew = bool(HEBREW.match(raw))
        forms = (
            tuple(rest for _prefix, rest in prefix_splits(squeezed)) if hebrew else english_stems(squeezed)
        )
        token = Token(word, squeezed, squeezed != word, hebrew, "word", forms)
        if len(_words) > 500_000:
            _words.clear()
        _words[raw] = token
    return token


def tokens_split(text: str) -> list[Token]:
    out: list[Token] = []
    for raw in TOKEN.findall(normalise(text)):
        first = raw[0]
        if first in "!?.,;:…":
            out.append(Token(raw[0] if raw[0] in "!?" else raw, raw, False, False, "punct"))
            if raw[0] in "!?" and len(raw) > 1:
                out.append(Token("!", "!", True, False, "punct"))  # "!!!" counts for more than one
            continue
        if not (first.isalnum()):
            out.append(Token(raw, raw, False, False, "emoji"))
            continue
        out.append(_word(raw))
    return out


@lru_cache(maxsize=200_000)
def prefix_splits(word: str) -> tuple[tuple[str, str], ...]:
    """Every (prefixes, rest) a Hebrew word may be read as, the word itself first: וכשהגיע → ("", וכשהגיע),
    ("ו", כשהגיע), ("וכ", שהגיע), ("וכש", הגיע). Only letters that are prefixes are peeled off."""
    splits = [("", word)]
    for size in range(1, min(MAX_PREFIX, len(word) - 2) + 1):
        if word[size - 1] not in PREFIX_LETTERS:
            break
        splits.append((word[:size], word[size:]))
    return tuple(splits)


@lru_cache(maxsize=200_000)
def english_stems(word: str) -> tuple[str, ...]:
    """The word and what it may be inflected from: loved → love, lov; delays → delay; rudely → rude."""
    stems = [word]
    if word.endswith("n't"):
        stems.append(word[:-3])
    for suffix, replace in (
        ("iest", "y"),
        ("ies", "y"),
        ("ied", "y"),
        ("ily", "y"),
        ("ness", ""),
        ("ingly", ""),
        ("edly", ""),
        ("ing", ""),
        ("ing", "e"),
        ("ed", ""),
        ("ed", "e"),
        ("d", ""),
        ("ly", ""),
        ("es", ""),
        ("s", ""),
        ("er", ""),
        ("est", ""),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stems.append(word[: -len(suffix)] + replace)
    return tuple(stems)
