"""Accuracy and macro-F1 of an analyser on a labelled set (text<TAB>label a line), per language, beside
the majority-class baseline (always answering the label most common in the set)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kesher.listening.analysis.text import language_detect

DATA = Path(__file__).resolve().parent / "data"
LABELS = ("positive", "neutral", "negative")
TUNING = ("labelled_he.tsv", "labelled_en.tsv")  # the word lists and rules were tuned on these
HELD_OUT = ("heldout_he.tsv", "heldout_en.tsv")  # never looked at while tuning


def labelled_read(path: str | Path) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        text, _, label = line.rpartition("\t")
        label = label.strip()
        if not text or label not in LABELS:
            raise ValueError(f"{path}:{number}: expected text<TAB>positive|neutral|negative")
        rows.append((text, label))
    return rows


@dataclass(frozen=True, slots=True)
class Scores:
    count: int
    accuracy: float
    macro_f1: float
    baseline_accuracy: float
    baseline_macro_f1: float
    baseline_label: str


def macro_f1(truth: Sequence[str], predicted: Sequence[str]) -> float:
    """The mean over the three labels of F1; a label absent from both truth and answers is left out."""
    f1s = []
    for label in LABELS:
        tp = sum(1 for t, p in zip(truth, predicted, strict=True) if t == label and p == label)
        fp = sum(1 for t, p in zip(truth, predicted, strict=True) if t != label and p == label)
        fn = sum(1 for t, p in zip(truth, predicted, strict=True) if t == label and p != label)
        if tp + fp + fn == 0:
            continue
        f1s.append(2 * tp / (2 * tp + fp + fn))
    return sum(f1s) / len(f1s) if f1s else 0.0


def scores(truth: Sequence[str], predicted: Sequence[str]) -> Scores:
    majority = Counter(truth).most_common(1)[0][0]
    baseline = [majority] * len(truth)
    return Scores(
        count=len(truth),
        accuracy=sum(t == p for t, p in zip(truth, predicted, strict=True)) / len(truth),
        macro_f1=macro_f1(truth, predicted),
        baseline_accuracy=sum(t == majority for t in truth) / len(truth),
        baseline_macro_f1=macro_f1(truth, baseline),
        baseline_label=majority,
    )


def evaluate(rows: Iterable[tuple[str, str]], labels_of: object) -> dict[str, Scores]:
    """{language: Scores, ..., "all": Scores}; labels_of(texts) → one label a text."""
    rows = list(rows)
    predicted = list(labels_of([text for text, _label in rows]))  # type: ignore[operator]
    by_language: dict[str, tuple[list[str], list[str]]] = {}
    for (text, truth), answer in zip(rows, predicted, strict=True):
        for key in (language_detect(text), "all"):
            pair = by_language.setdefault(key, ([], []))
            pair[0].append(truth)
            pair[1].append(answer)
    return {key: scores(truth, answers) for key, (truth, answers) in by_language.items()}
