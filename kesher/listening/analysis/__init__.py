"""Understanding a mention: its language, sentiment, topics and urgent signals.

    from kesher.listening.analysis import analyse, analyse_many
    analyse("המשלוח לא הגיע, ממש לא מקצועי 😡", brand=brand)
    → Analysis(language="he", sentiment="negative", score=-0.83, topics=("delivery",), urgent=("complaint",))

`brand` may be a Brand (its topics are read once and cached, see kesher.listening.selectors), a
KeywordSet, or None for the default topics. The sentiment comes from the brand's installed model when
there is one (KESHER_SENTIMENT_MODEL, settings.KESHER_SENTIMENT_MODELS[slug]; see model.py), else from
the word-and-rule analyser (sentiment.py). analyse_many asks hspell for the lemmas of the whole batch's
new Hebrew words at once; analyse uses what is cached and the built-in prefix stripping only, so a
single text never waits for a subprocess.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kesher.listening.analysis import hspell
from kesher.listening.analysis.keywords import COMPLAINT_SCORE, DEFAULT_TOPIC_SET, URGENT_SET, KeywordSet
from kesher.listening.analysis.lexicon import lexicon_load
from kesher.listening.analysis.sentiment import Polarity, polarity
from kesher.listening.analysis.text import Token, language_detect, tokens_split

__all__ = ["Analysis", "KeywordSet", "analyse", "analyse_many", "sentiment_analyser"]

LABELS = ("positive", "neutral", "negative")


@dataclass(frozen=True, slots=True)
class Analysis:
    language: str  # "he", "en", "ar", "ru" or "und"
    sentiment: str  # "positive", "neutral", "negative"
    score: float  # -1 .. 1
    topics: tuple[str, ...]
    urgent: tuple[str, ...]  # "complaint", "legal_threat", "safety"


class LexiconAnalyser:
    """The default: word lists and rules (sentiment.py)."""

    name = "lexicon"

    def polarity(self, text: str, tokens: list[Token]) -> Polarity:
        return polarity(text, tokens)


def sentiment_analyser(brand: Any = None) -> Any:
    """The analyser for a brand: its installed model, the one named by KESHER_SENTIMENT_MODEL, or the
    word lists. Anything with `polarity(text, tokens) -> Polarity` can stand in."""
    from kesher.listening.analysis.model import model_for

    return model_for(brand) or _LEXICON


_LEXICON = LexiconAnalyser()


def _topics_for(brand: Any) -> KeywordSet:
    if brand is None:
        return DEFAULT_TOPIC_SET
    if isinstance(brand, KeywordSet):
        return brand
    from kesher.listening.topics.selectors import topic_set_for

    return topic_set_for(brand=brand)


def _hebrew_words(tokens: Iterable[Token]) -> set[str]:
    return {token.squeezed for token in tokens if token.hebrew}


def analyse(text: str, *, brand: Any = None) -> Analysis:
    return _analyse(text, tokens_split(text), sentiment_analyser(brand), _topics_for(brand))


def analyse_many(texts: Iterable[str], *, brand: Any = None) -> list[Analysis]:
    """Every text analysed, in order; one hspell call for the batch's new Hebrew words."""
    texts = list(texts)
    split = [tokens_split(text) for text in texts]
    if hspell.binary() is not None:
        he = lexicon_load("he")
        unknown = {
            word
            for tokens in split
            for word in _hebrew_words(tokens)
            if hspell.lemmas_cached(word) is None and he.value(word) is None
        }
        if unknown:
            hspell.lemmas_lookup(unknown)
    analyser = sentiment_analyser(brand)
    topics = _topics_for(brand)
    return [_analyse(text, tokens, analyser, topics) for text, tokens in zip(texts, split, strict=True)]


def _analyse(text: str, tokens: list[Token], analyser: Any, topics: KeywordSet) -> Analysis:
    found = analyser.polarity(text, tokens)
    urgent = list(URGENT_SET.find(tokens))
    if found.score <= COMPLAINT_SCORE and "complaint" not in urgent:
        urgent.insert(0, "complaint")
    return Analysis(
        language=language_detect(text, tokens),
        sentiment=found.label,
        score=found.score,
        topics=topics.find(tokens),
        urgent=tuple(urgent),
    )
