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
    stems,
)
from kesher.listening.analysis.text import SENTENCE_END, Token, normalise

NEGATION_SCOPE = 3
NEGATED = -0.75  # "not good" is bad, but less bad than "bad"
NEGATED_STRONG = -1.0
NEGATED_SOFT = -0.5  # "לא ממש טוב", "not really good"
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


def _phrase(lexicon: Lexicon, tokens: Sequence[Token], i: int, hebrew: bool) -> tuple[float, int] | None:
    """A phrase of the word list starting at tokens[i] (its first word may carry prefixes): (value, length)."""
    for first in stems(tokens[i].squeezed, hebrew):
        for parts, value in lexicon.phrases.get(first, ()):
            end = i + len(parts)
            if end <= len(tokens) and all(
                tokens[i + k].squeezed == parts[k] for k in range(1, len(parts))
            ):
                return value, len(parts)
    return None


def _sarcastic(text: str, lexicons: dict[str, Lexicon]) -> bool:
    lowered = " " + normalise(text).lower() + " "
    for markers in SARCASM.values():
        for marker in markers:
            if marker in lowered:
                return True
    for quoted in QUOTED.findall(lowered):
        for word in quoted.split():
            for lexicon in lexicons.values():
                value = lexicon.value(word)
                if value is not None and value > 0:
                    return True
    return False


def polarity(text: str, tokens: Sequence[Token]) -> Polarity:
    lexicons = {"he": lexicon_load("he"), "en": lexicon_load("en")}
    values: list[float] = []
    contrast_at = -1
    negation_left = 0
    negation = 0.0
    boost = 1.0
    boost_left = 0
    exclamations = 0
    sarcasm = False
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.kind == "punct":
            if token.text == "!":
                exclamations += 1
            if token.text in SENTENCE_END:
                negation_left = 0
                boost_left = 0
            i += 1
            continue
        if token.kind == "emoji":
            if token.text in SARCASM_EMOJI:
                sarcasm = True
            values.append(EMOJI.get(token.text, 0.0))
            i += 1
            continue
        language = "he" if token.hebrew else "en"
        lexicon = lexicons[language]
        word = token.squeezed
        found = _phrase(lexicon, tokens, i, token.hebrew)
        if found is None:
            # Rule words first: negation, then intensifiers (ממש לא / לא ממש decide between them).
            negator = rule_word(NEGATORS[language], word, token.hebrew)
            if negator is not None:
                following = tokens[i + 1].squeezed if i + 1 < len(tokens) else ""
                strength = NEGATED
                if boost_left and boost > 1.2:  # "ממש לא", "really not"
                    strength = NEGATED_STRONG
                if following in INTENSIFIERS[language] and INTENSIFIERS[language][following] > 1:
                    strength = NEGATED_SOFT  # "לא ממש", "not really": the intensifier is used up here
                    i += 1
                negation = strength
                negation_left = NEGATION_SCOPE
                boost, boost_left = 1.0, 0
                i += 1
                continue
            intensifier = rule_word(INTENSIFIERS[language], word, token.hebrew)
            own = lexicon.value(word)
            if intensifier is not None and (own is None or (
                intensifier in INTENSIFY_BEFORE_POLARITY and _polar_next(lexicons, tokens, i)
            )):
                boost = boost * INTENSIFIERS[language][intensifier] if boost_left else INTENSIFIERS[language][intensifier]
                boost_left = 2
                i += 1
                continue
            if rule_word(CONTRAST[language], word, token.hebrew) is not None and (
                word not in {"רק", "yet", "though"} or i == 0 or tokens[i - 1].kind == "punct"
            ):
                contrast_at = len(values)
                negation_left = 0
                i += 1
                continue
            if own is None:
                if negation_left:
                    negation_left -= 1
                if boost_left:
                    boost_left -= 1
                i += 1
                continue
            found = (own, 1)
        value, length = found
        if token.elongated:
            value *= ELONGATED
        if boost_left:
            value *= boost
            boost, boost_left = 1.0, 0
        if negation_left:
            value *= negation
            negation_left = 0
        values.append(value)
        i += length
    if contrast_at >= 0:
        values = [v * (BEFORE_CONTRAST if k < contrast_at else AFTER_CONTRAST) for k, v in enumerate(values)]
    total = sum(values)
    if total and exclamations:
        total += math.copysign(min(exclamations, 4) * EXCLAMATION, total)
    if sarcasm or _sarcastic(text, lexicons):
        total = -abs(total) * 0.8 if total > 0 else total - 1.0
    score = total / math.sqrt(total * total + ALPHA) if total else 0.0
    return Polarity(label_of(score), round(score, 4))


def _polar_next(lexicons: dict[str, Lexicon], tokens: Sequence[Token], i: int) -> bool:
    if i + 1 >= len(tokens) or tokens[i + 1].kind != "word":
        return False
    following = tokens[i + 1]
    return lexicons["he" if following.hebrew else "en"].value(following.squeezed) is not None
