"""The default sentiment analyser: word lists and rules, Hebrew first.

Each polarity word or phrase adds its value (-3 .. 3). A negation ("לא", "אין", "בלי", "not") turns the
next polarity word within three words around and weakens it ("לא טוב" is bad, "לא רע" is fairly good);
"ממש לא" turns it around at full strength; "לא ממש" only weakens. Intensifiers multiply the next
polarity word, stretched letters ("מעולהההה", "sooo good") and exclamation marks add strength, what
follows "אבל"/"but" counts for more than what came before, and a sarcasm marker ("נו באמת", "yeah
right", 🙄, praise in quotes) turns praise into a complaint. The sum becomes a score in [-1, 1] as VADER
does (x / sqrt(x² + 15)).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from kesher.listening.analysis import hspell
from kesher.listening.analysis.lexicon import (
    CONTRAST,
    EMOJI,
    INTENSIFIERS,
    INTENSIFY_BEFORE_POLARITY,
    NEGATORS,
    SARCASM,
    SARCASM_EMOJI,
    Lexicon,
    lexicon_load,
    rule_word,
)
from kesher.listening.analysis.text import SENTENCE_END, Token, normalise, tokens_split

NEGATION_SCOPE = 3
NEGATED = -0.75  # "not good" is bad, but less bad than "bad"
NEGATED_STRONG = -1.0
NEGATED_SOFT = -0.5  # "לא ממש טוב", "not really good"
# Small words that do not use up a negation's reach: "couldn't find a single flaw", "לא היה לי שום".
TRANSPARENT = frozenset(
    {
        "a",
        "an",
        "the",
        "any",
        "single",
        "my",
        "your",
        "to",
        "be",
        "been",
        "it",
        "this",
        "that",
        "even",
        "at",
        "all",
        "את",
        "של",
        "זה",
        "היה",
        "הייתה",
        "היו",
        "לי",
        "לנו",
        "כל",
        "שום",
        "אף",
        "בכלל",
        "עם",
    }
)
NEGATION_ALONE = -0.8
SOFT_NEGATORS = frozenset(
    {"בלי", "ללא", "without", "hardly", "barely"}
)  # "לא תיקנו", "didn't arrive": a negation with no polarity word is a failure told
BEFORE_CONTRAST = 0.5
AFTER_CONTRAST = 1.5
ELONGATED = 1.3
EXCLAMATION = 0.3
ALPHA = 15.0
THRESHOLD = 0.1
QUOTED = re.compile(r'(?:^|\s)["“”]([^"“”]{2,30})["“”]')


@dataclass(frozen=True, slots=True)
class Polarity:
    label: str
    score: float


def label_of(score: float, threshold: float = THRESHOLD) -> str:
    if score >= threshold:
        return "positive"
    if score <= -threshold:
        return "negative"
    return "neutral"


@dataclass(frozen=True, slots=True)
class WordInfo:
    """What the rules need to know about a word, worked out once per word as written."""

    value: float | None
    negator: bool
    negator_alone: bool  # a negation that tells a failure without a polarity word: לא, אין, not (not בלי)
    intensifier: float | None  # the multiplier when the word is (or may be) an intensifier
    before_polarity_only: bool  # "נורא": an intensifier only right before a polarity word
    contrast: bool
    contrast_after_punct: bool  # "רק": contrast only at the start of a clause
    phrases: tuple[tuple[tuple[str, ...], float], ...]


_infos: dict[tuple[str, bool], WordInfo] = {}


def word_info(token: Token) -> WordInfo:
    key = (token.squeezed, token.hebrew)
    info = _infos.get(key)
    if info is not None:
        return info
    language = "he" if token.hebrew else "en"
    lexicon = _lexicons()[language]
    value = lexicon.value(token.squeezed)
    intensifier = rule_word(INTENSIFIERS[language], token)
    contrast = rule_word(CONTRAST[language], token)
    negator = rule_word(NEGATORS[language], token)
    firsts = token.forms if token.hebrew else (token.squeezed,)
    info = WordInfo(
        value=value,
        negator=negator is not None,
        negator_alone=negator is not None and negator not in SOFT_NEGATORS,
        intensifier=INTENSIFIERS[language][intensifier] if intensifier is not None else None,
        before_polarity_only=intensifier in INTENSIFY_BEFORE_POLARITY
        or (intensifier is not None and value is not None),
        contrast=contrast is not None,
        contrast_after_punct=contrast in {"רק", "yet", "though"},
        phrases=tuple(entry for first in firsts for entry in lexicon.phrases.get(first, ())),
    )
    if (
        token.hebrew
        and value is None
        and hspell.binary() is not None
        and hspell.lemmas_cached(token.squeezed) is None
    ):
        return info  # hspell may still know it: do not keep the answer
    if len(_infos) > 500_000:
        _infos.clear()
    _infos[key] = info
    return info


def _phrase(info: WordInfo, tokens: Sequence[Token], i: int) -> tuple[float, int] | None:
    """A phrase of the word list starting at tokens[i] (its first word may carry prefixes)."""
    for parts, value in info.phrases:
        end = i + len(parts)
        if end <= len(tokens) and all(tokens[i + k].squeezed == parts[k] for k in range(1, len(parts))):
            return value, len(parts)
    return None


def _sarcastic(text: str) -> bool:
    lowered = " " + normalise(text).lower() + " "
    for markers in SARCASM.values():
        for marker in markers:
            if marker in lowered:
                return True
    if '"' in lowered or "“" in lowered:
        for quoted in QUOTED.findall(lowered):
            for token in tokens_split(quoted):
                if token.kind == "word":
                    value = word_info(token).value
                    if value is not None and value > 0:
                        return True
    return False


def polarity(text: str, tokens: Sequence[Token]) -> Polarity:
    values: list[float] = []
    contrast_at = -1
    negation_left = 0
    negation = 0.0
    boost = 1.0
    boost_left = 0
    exclamations = 0
    sarcasm = False
    unanswered = 0  # negations in this clause that met no polarity word
    i = 0
    count = len(tokens)
    while i < count:
        token = tokens[i]
        kind = token.kind
        if kind == "punct":
            if token.text == "!":
                exclamations += 1
            if token.text in SENTENCE_END:
                if unanswered and token.text != "?":
                    values.append(NEGATION_ALONE)
                unanswered = 0
                negation_left = 0
                boost_left = 0
            i += 1
            continue
        if kind == "emoji":
            if token.text in SARCASM_EMOJI:
                sarcasm = True
            values.append(EMOJI.get(token.text, 0.0))
            i += 1
            continue
        info = word_info(token)
        found = _phrase(info, tokens, i) if info.phrases else None
        if found is None:
            if info.negator:
                strength = NEGATED
                if boost_left and boost > 1.2:  # "ממש לא", "really not"
                    strength = NEGATED_STRONG
                if i + 1 < count and tokens[i + 1].kind == "word":
                    following = word_info(tokens[i + 1]).intensifier
                    if following is not None and following > 1:
                        strength = NEGATED_SOFT  # "לא ממש", "not really": the intensifier is used up here
                        i += 1
                negation = strength
                negation_left = NEGATION_SCOPE
                if info.negator_alone:
                    unanswered += 1
                boost, boost_left = 1.0, 0
                i += 1
                continue
            if info.intensifier is not None and (not info.before_polarity_only or _polar_next(tokens, i)):
                boost = boost * info.intensifier if boost_left else info.intensifier
                boost_left = 2
                i += 1
                continue
            if info.contrast and (not info.contrast_after_punct or i == 0 or tokens[i - 1].kind == "punct"):
                contrast_at = len(values)
                negation_left = 0
                i += 1
                continue
            if info.value is None:
                if negation_left and token.squeezed not in TRANSPARENT:
                    negation_left -= 1
                if boost_left:
                    boost_left -= 1
                i += 1
                continue
            found = (info.value, 1)
        value, length = found
        if token.elongated:
            value *= ELONGATED
        if boost_left:
            value *= boost
            boost, boost_left = 1.0, 0
        if negation_left:
            value *= negation
            negation_left = 0
            unanswered = max(0, unanswered - 1)
        values.append(value)
        i += length
    if unanswered:
        values.append(NEGATION_ALONE)
    if _praise_then_complaint(tokens, values):
        values[0] = -values[0] / 2  # the praise was ironic
    if contrast_at >= 0:
        values = [v * (BEFORE_CONTRAST if k < contrast_at else AFTER_CONTRAST) for k, v in enumerate(values)]
    total = sum(values)
    if total and exclamations:
        total += math.copysign(min(exclamations, 4) * EXCLAMATION, total)
    if sarcasm or _sarcastic(text):
        total = -abs(total) * 0.8 if total > 0 else total - 1.0
    score = total / math.sqrt(total * total + ALPHA) if total else 0.0
    return Polarity(label_of(score), round(score, 4))


@cache
def _lexicons() -> dict[str, Lexicon]:
    return {"he": lexicon_load("he"), "en": lexicon_load("en")}


def _praise_then_complaint(tokens: Sequence[Token], values: list[float]) -> bool:
    """ "אחלה, עוד פעם שלחו את הפריט הלא נכון", "Great, late again": a word of praise alone before a
    comma, then only complaint."""
    if len(tokens) < 3 or tokens[0].kind != "word" or tokens[1].text != "," or len(values) < 2:
        return False
    first = word_info(tokens[0]).value
    return first is not None and first > 0 and values[0] == first and sum(values[1:]) < 0


def _polar_next(tokens: Sequence[Token], i: int) -> bool:
    if i + 1 >= len(tokens) or tokens[i + 1].kind != "word":
        return False
    return word_info(tokens[i + 1]).value is not None
