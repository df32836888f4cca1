"""Sentiment models a brand trains offline and installs as a file: a linear model stored as JSON weights.

    kesher sentiment train labelled.tsv [more.tsv ...] --out model.json

fits a multinomial logistic regression (scikit-learn) over the words of each text (Hebrew prefixes
peeled, words under a negation marked, pairs of words, emoji) plus the word-list analyser's score, and
writes only the weights: {"format": "kesher-sentiment-linear", "version": 1, "classes": [...],
"intercept": [...], "weights": {feature: [one weight a class]}}. Loading it runs no code (never a
pickle) and needs no scikit-learn: the score of a class is its intercept plus the weights of the
features present. KESHER_SENTIMENT_MODEL names a file for every brand; settings.KESHER_SENTIMENT_MODELS
({brand slug: path}) one a brand.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kesher.listening.analysis.lexicon import NEGATORS
from kesher.listening.analysis.sentiment import Polarity, polarity, word_info
from kesher.listening.analysis.text import SENTENCE_END, Token, tokens_split

FORMAT = "kesher-sentiment-linear"
VERSION = 1
LEXICON_FEATURE = "lexicon"
LABELS = ("positive", "neutral", "negative")


class ModelError(ValueError):
    """The file is not a model this version can read."""


def features(text: str, tokens: Sequence[Token]) -> dict[str, float]:
    out: dict[str, float] = {}
    negated = 0
    previous = "^"
    for token in tokens:
        if token.kind == "punct":
            if token.text in SENTENCE_END:
                negated = 0
            if token.text in "!?":
                out["p:" + token.text] = 1.0
            previous = "^"
            continue
        if token.kind == "emoji":
            out["e:" + token.text] = 1.0
            continue
        info = word_info(token)
        mark = "n:" if negated else "w:"
        word = token.squeezed
        out[mark + word] = 1.0
        if token.hebrew:
            for rest in token.forms[1:]:
                if len(rest) >= 3:
                    out[mark + rest] = 1.0
        out["b:" + previous + "_" + word] = 1.0
        previous = word
        if info.negator or word in NEGATORS["en"]:
            negated = 3
        elif negated:
            negated -= 1
    out[LEXICON_FEATURE] = polarity(text, tokens).score
    return out


@dataclass(frozen=True)
class LinearModel:
    classes: tuple[str, ...]
    intercept: tuple[float, ...]
    weights: dict[str, tuple[float, ...]]
    path: str = ""
    name: str = "linear"

    def probabilities(self, text: str, tokens: Sequence[Token]) -> dict[str, float]:
        scores = list(self.intercept)
        for feature, value in features(text, tokens).items():
            weights = self.weights.get(feature)
            if weights is not None:
                for k, weight in enumerate(weights):
                    scores[k] += weight * value
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        return {label: e / total for label, e in zip(self.classes, exps, strict=True)}

    def polarity(self, text: str, tokens: list[Token]) -> Polarity:
        probabilities = self.probabilities(text, tokens)
        label = max(probabilities, key=lambda name: probabilities[name])
        score = probabilities.get("positive", 0.0) - probabilities.get("negative", 0.0)
        return Polarity(label, round(max(-1.0, min(1.0, score)), 4))

    def as_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "classes": list(self.classes),
            "intercept": [round(v, 6) for v in self.intercept],
            "weights": {f: [round(v, 6) for v in w] for f, w in sorted(self.weights.items())},
        }


def model_read(path: str | Path) -> LinearModel:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ModelError(f"cannot read the model {path}: {error}") from error
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") != VERSION:
        raise ModelError(f"{path} is not a {FORMAT} model, version {VERSION}")
    classes = data.get("classes")
    intercept = data.get("intercept")
    weights = data.get("weights")
    if (
        not isinstance(classes, list)
        or not classes
        or not set(classes) <= set(LABELS)
        or not isinstance(intercept, list)
        or len(intercept) != len(classes)
        or not isinstance(weights, dict)
    ):
        raise ModelError(f"{path}: classes, intercept and weights do not fit together")
    checked: dict[str, tuple[float, ...]] = {}
    for feature, row in weights.items():
        if not isinstance(row, list) or len(row) != len(classes):
            raise ModelError(f"{path}: the weights of {feature!r} do not have one value a class")
        checked[str(feature)] = tuple(float(v) for v in row)
    return LinearModel(
        classes=tuple(str(c) for c in classes),
        intercept=tuple(float(v) for v in intercept),
        weights=checked,
        path=str(path),
    )


def model_write(model: LinearModel, path: str | Path) -> None:
    Path(path).write_text(json.dumps(model.as_json(), ensure_ascii=False, indent=0) + "\n", encoding="utf-8")


def model_train(rows: Iterable[tuple[str, str]], *, c: float = 1.0) -> LinearModel:
    """Fit on (text, label) rows; the labels must be two or three of positive, neutral, negative."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    rows = list(rows)
    labels = [label for _text, label in rows]
    if len(set(labels)) < 2 or not set(labels) <= set(LABELS):
        raise ModelError("training needs at least two of the labels positive, neutral, negative")
    vectorizer = DictVectorizer()
    x = vectorizer.fit_transform([features(text, tokens_split(text)) for text, _label in rows])
    fitted = LogisticRegression(C=c, max_iter=2000).fit(x, labels)
    classes = tuple(str(c) for c in fitted.classes_)
    coef = fitted.coef_
    intercept = fitted.intercept_
    if len(classes) == 2:  # a binary model has one row: the second class against the first
        coef = [-coef[0] / 2, coef[0] / 2]
        intercept = [-intercept[0] / 2, intercept[0] / 2]
    names = vectorizer.get_feature_names_out()
    weights: dict[str, tuple[float, ...]] = {}
    for j, name in enumerate(names):
        row = tuple(float(coef[k][j]) for k in range(len(classes)))
        if any(abs(v) > 1e-6 for v in row):
            weights[str(name)] = row
    return LinearModel(classes=classes, intercept=tuple(float(v) for v in intercept), weights=weights)


_loaded: dict[str, tuple[float, LinearModel]] = {}


def model_load(path: str) -> LinearModel:
    """The model in the file, read again only when the file changed."""
    mtime = os.stat(path).st_mtime
    cached = _loaded.get(path)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    model = model_read(path)
    _loaded[path] = (mtime, model)
    return model


def model_path_for(brand: Any = None) -> str | None:
    slug = getattr(brand, "slug", None)
    if slug is not None:
        try:
            from django.conf import settings

            per_brand = getattr(settings, "KESHER_SENTIMENT_MODELS", None) or {}
        except ImportError:
            per_brand = {}
        if slug in per_brand:
            return str(per_brand[slug]) or None
    return os.environ.get("KESHER_SENTIMENT_MODEL") or None


def model_for(brand: Any = None) -> LinearModel | None:
    path = model_path_for(brand)
    return model_load(path) if path else None
