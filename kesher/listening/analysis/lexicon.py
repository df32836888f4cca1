"""The word lists of the default analyser: polarity words and phrases (data/lexicon_*.tsv) and the rule
words (negation, intensifiers, contrast, sarcasm), with the lookup that understands Hebrew prefixes.

The word lists were written for Kesher (see docs/listening.md, "Understanding"); no third-party
lexicon is copied into them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from kesher.listening.analysis import hspell
from kesher.listening.analysis.text import FINAL, Token, english_stems, prefix_splits

DATA = Path(__file__).resolve().parent / "data"

NEGATORS = {
    "he": {
        "לא": 1.0,
        "אין": 1.0,
        "בלי": 1.0,
        "ללא": 1.0,
        "אינו": 1.0,
        "אינה": 1.0,
        "אינם": 1.0,
        "אינני": 1.0,
        "איני": 1.0,
        "מעולם": 1.0,
        "אף": 1.0,
        "אינך": 1.0,
        "אינכם": 1.0,
        "שום": 1.0,
    },
    "en": {
        "not": 1.0,
        "no": 1.0,
        "never": 1.0,
        "without": 1.0,
        "nothing": 1.0,
        "nobody": 1.0,
        "none": 1.0,
        "neither": 1.0,
        "nor": 1.0,
        "cannot": 1.0,
        "hardly": 0.8,
        "barely": 0.8,
        "isn't": 1.0,
        "wasn't": 1.0,
        "aren't": 1.0,
        "weren't": 1.0,
        "don't": 1.0,
        "doesn't": 1.0,
        "didn't": 1.0,
        "won't": 1.0,
        "can't": 1.0,
        "couldn't": 1.0,
        "wouldn't": 1.0,
        "shouldn't": 1.0,
        "haven't": 1.0,
        "hasn't": 1.0,
        "hadn't": 1.0,
        "dont": 1.0,
        "didnt": 1.0,
        "doesnt": 1.0,
        "isnt": 1.0,
        "wasnt": 1.0,
        "cant": 1.0,
        "wont": 1.0,
        "aint": 1.0,
        "ain't": 1.0,
        "zero": 1.0,
    },
}
# Words that make the next polarity word stronger (> 1) or weaker (< 1).
INTENSIFIERS = {
    "he": {
        "ממש": 1.5,
        "מאוד": 1.5,
        "מאד": 1.5,
        "סופר": 1.6,
        "הכי": 1.5,
        "כך": 1.4,
        "בטירוף": 1.6,
        "לגמרי": 1.3,
        "באמת": 1.3,
        "פשוט": 1.2,
        "מטורף": 1.5,
        "נורא": 1.5,
        "ביותר": 1.4,
        "במיוחד": 1.3,
        "מלא": 1.3,
        "קצת": 0.6,
        "די": 0.8,
        "יחסית": 0.7,
        "דיי": 0.8,
        "ממש-ממש": 1.8,
        "חצי": 0.6,
        "איזה": 1.3,
        "כזה": 1.3,
    },
    "en": {
        "very": 1.5,
        "really": 1.4,
        "so": 1.4,
        "super": 1.6,
        "extremely": 1.7,
        "incredibly": 1.6,
        "totally": 1.4,
        "absolutely": 1.6,
        "completely": 1.5,
        "truly": 1.4,
        "utterly": 1.6,
        "most": 1.3,
        "highly": 1.4,
        "too": 1.3,
        "such": 1.3,
        "just": 1.1,
        "seriously": 1.3,
        "damn": 1.4,
        "pretty": 0.9,
        "quite": 0.9,
        "bit": 0.6,
        "slightly": 0.6,
        "somewhat": 0.7,
        "kinda": 0.7,
        "fairly": 0.8,
        "rather": 0.8,
        "little": 0.7,
        "mostly": 0.8,
        "sooo": 1.6,
        "soo": 1.5,
        "overall": 1.0,
    },
}
# Words that carry polarity of their own but strengthen a polarity word right after them: "נורא טעים".
INTENSIFY_BEFORE_POLARITY = {"נורא", "מטורף"}
# After these, what follows counts for more and what came before for less: "טעים, אבל יקר".
CONTRAST = {"he": {"אבל", "אך", "אולם", "רק", "אלא"}, "en": {"but", "however", "yet", "though", "although"}}
# Phrases that turn praise around: "נו באמת", "yeah right".
SARCASM = {
    "he": (
        "נו באמת",
        "כן בטח",
        "בטח בטח",
        "ממש תודה",
        "איזה מפתיע",
        "כמה מפתיע",
        "ממש שירות",
        "ממש תודה רבה",
        "בהצלחה עם זה",
        "תודה על כלום",
        "איזה כיף לחכות",
        "כל הכבוד באמת",
    ),
    "en": (
        "yeah right",
        "oh great",
        "just great",
        "just perfect",
        "oh wonderful",
        "how nice of",
        "love how",
        "love that they",
        "gotta love",
        "what a surprise",
        "surprise surprise",
        "thanks a lot for",
        "thanks for nothing",
        "great job losing",
        "so helpful not",
        "/s",
        "bravo for",
        "as if",
    ),
}
SARCASM_EMOJI = {"🙄", "🙃"}
EMOJI = {
    "😍": 3.0,
    "🥰": 3.0,
    "❤": 3.0,
    "💕": 2.5,
    "💖": 2.5,
    "💗": 2.5,
    "💙": 2.0,
    "💚": 2.0,
    "😊": 2.0,
    "🙂": 1.0,
    "😀": 2.0,
    "😃": 2.0,
    "😄": 2.0,
    "😁": 2.0,
    "😆": 1.5,
    "👍": 2.0,
    "👏": 2.0,
    "🙏": 1.5,
    "💯": 2.0,
    "🔥": 1.5,
    "⭐": 1.5,
    "🌟": 2.0,
    "🤩": 3.0,
    "😋": 2.0,
    "🎉": 2.0,
    "🥳": 2.5,
    "😎": 1.5,
    "💪": 1.5,
    "👌": 2.0,
    "🤗": 2.0,
    "😘": 2.0,
    "✨": 1.0,
    "🏆": 2.0,
    "🥇": 2.0,
    "😇": 1.5,
    "☺": 2.0,
    "✅": 1.0,
    "😡": -3.0,
    "🤬": -3.0,
    "😠": -2.5,
    "😤": -2.0,
    "😞": -2.0,
    "😢": -2.0,
    "😭": -2.0,
    "👎": -2.5,
    "🤮": -3.0,
    "🤢": -2.5,
    "💩": -2.5,
    "😒": -1.5,
    "😩": -2.0,
    "😫": -2.0,
    "😖": -2.0,
    "😕": -1.0,
    "🙁": -1.5,
    "☹": -1.5,
    "😔": -1.5,
    "💔": -2.5,
    "🤦": -2.0,
    "🙄": -1.5,
    "😣": -1.5,
    "😑": -1.0,
    "😐": -0.5,
    "😬": -1.0,
    "😰": -1.5,
    "😱": -1.5,
    "🤡": -2.0,
    "❌": -1.0,
    "⚠": -1.0,
    "😓": -1.0,
}


@dataclass(frozen=True, slots=True)
class Lexicon:
    language: str
    words: dict[str, float]
    phrases: dict[str, tuple[tuple[tuple[str, ...], float], ...]] = field(default_factory=dict)

    def value(self, word: str) -> float | None:
        """The polarity of a word as written, through its prefixes, stems and (Hebrew) hspell lemmas."""
        return _value(self, word)


def _read(language: str) -> tuple[dict[str, float], dict[str, float]]:
    words: dict[str, float] = {}
    phrases: dict[str, float] = {}
    for line in (DATA / f"lexicon_{language}.tsv").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        text, value = line.split("\t")
        (phrases if " " in text.strip() else words)[text.strip().lower()] = float(value)
    return words, phrases


def hebrew_forms(word: str) -> set[str]:
    """Feminine and plural forms of a Hebrew adjective or noun: מעולה → מעולים, מעולות; מצוין → מצוינת."""
    if len(word) < 3:
        return {word}
    stem = word[:-1] + word[-1].translate(FINAL)
    if word.endswith("ה"):
        base = word[:-1]
        return {word, base + "ים", base + "ות", base + "ת"}
    forms = {word, stem + "ה", stem + "ים", stem + "ות", stem + "ת"}
    if word.endswith("י"):
        forms |= {word + "ת", word + "ים", word + "ות", word + "ה"}
    return forms


@cache
def lexicon_load(language: str) -> Lexicon:
    words, phrases = _read(language)
    if language == "he":
        expanded: dict[str, float] = {}
        for word, value in words.items():
            for form in hebrew_forms(word):
                expanded.setdefault(form, value)
        expanded.update(words)  # a form written in the list wins over a generated one
        words = expanded
    grouped: dict[str, list[tuple[tuple[str, ...], float]]] = {}
    for phrase, value in phrases.items():
        parts = tuple(phrase.split())
        grouped.setdefault(parts[0], []).append((parts, value))
    return Lexicon(
        language=language,
        words=words,
        phrases={
            first: tuple(sorted(items, key=lambda item: -len(item[0]))) for first, items in grouped.items()
        },
    )


_values: dict[tuple[str, str], float | None] = {}


def _value(lexicon: Lexicon, word: str) -> float | None:
    key = (lexicon.language, word)
    if key in _values:
        return _values[key]
    found: float | None = None
    final = True
    if lexicon.language == "he":
        for _prefix, rest in prefix_splits(word):
            if rest in lexicon.words:
                found = lexicon.words[rest]
                break
        if found is None:
            lemmas = hspell.lemmas_cached(word)
            if lemmas is None:
                final = hspell.binary() is None  # ask again once hspell has seen the word
            elif word not in lemmas:  # a word that is a lemma itself (אחרי, איפה) is not read as another
                found = next((lexicon.words[lemma] for lemma in lemmas if lemma in lexicon.words), None)
    else:
        found = next((lexicon.words[stem] for stem in english_stems(word) if stem in lexicon.words), None)
    if final:
        if len(_values) > 500_000:
            _values.clear()
        _values[key] = found
    return found


def rule_word(words: dict[str, float] | set[str], token: Token) -> str | None:
    """The rule word a token is, prefixes peeled: ולא → לא, שממש → ממש; None when it is none."""
    if token.squeezed in words:
        return token.squeezed
    if token.hebrew:
        for rest in token.forms[1:]:
            if rest in words and len(rest) > 1:
                return rest
    return None
