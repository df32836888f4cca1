"""Offline evaluation of the product model: a time-based split, the model against popularity, at 10.

Everything before the split trains; what each member bought after it (and had not bought before:
repeats are off by default) is what a good list would have held. Popularity is the baseline that is
often hard to beat, so it is always reported beside the model.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from django.utils import timezone

from kesher.brands.models import Brand
from kesher.recs.models import Evaluation, Kind
from kesher.recs.services import model as learn
from kesher.recs.services.interactions import Interactions, interactions_read

K = 10
TRAIN_SHARE = 0.8


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    ndcg: float

    def as_dict(self) -> dict[str, float]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "ndcg": round(self.ndcg, 4),
        }


def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else 0.0


def recs_evaluate(*, brand: Brand, now: datetime | None = None) -> Evaluation:
    """Evaluate and store the figures: `{"model": {...}, "popularity": {...}, "ratio": ..., ...}`."""
    found = interactions_read(brand=brand)[Kind.PRODUCTS]
    figures, split_at = evaluate(found)
    return Evaluation.objects.create(
        brand=brand,
        created_at=now or timezone.now(),
        split_at=split_at or now or timezone.now(),
        members=figures.get("test_members", 0),
        figures=figures,
    )


def evaluate(found: Interactions) -> tuple[dict[str, Any], datetime | None]:
    """The figures of one product interaction set, and the moment of its split."""
    if len(found) < learn.MIN_INTERACTIONS:
        return {"enough_data": False, "interactions": len(found)}, None
    times = np.asarray(found.times)
    split = float(np.quantile(times, TRAIN_SHARE))
    train = [i for i in range(len(found)) if times[i] < split]
    before: dict[Any, set[str]] = defaultdict(set)
    for i in train:
        if found.bought[i]:
            before[found.members[i]].add(found.items[i])
    after: dict[Any, set[str]] = defaultdict(set)
    for i in range(len(found)):
        if times[i] >= split and found.bought[i] and found.items[i] not in before[found.members[i]]:
            after[found.members[i]].add(found.items[i])
    matrix = learn.matrix_build(
        [found.members[i] for i in train], [found.items[i] for i in train], [found.weights[i] for i in train]
    )
    als = learn.als_fit(matrix.user_items, factors=learn.factors_for(matrix))
    counts = learn.popularity(matrix.user_items)
    by_popularity = [matrix.items[i] for i in np.argsort(-counts, kind="stable")]
    model_scores: list[Scores] = []
    baseline_scores: list[Scores] = []
    tested = [member for member, wanted in after.items() if wanted and member in matrix.member_index]
    for member in tested:
        relevant = after[member]
        owned = before[member]
        row = np.asarray([matrix.member_index[member]])
        ids, _scores = learn.als_recommend(als, matrix.user_items, row, K + len(owned))
        ranked = [matrix.items[i] for i in ids[0] if i >= 0 and matrix.items[i] not in owned][:K]
        popular = [sku for sku in by_popularity if sku not in owned][:K]
        model_scores.append(_scores_of(ranked, relevant))
        baseline_scores.append(_scores_of(popular, relevant))
    model = _average(model_scores)
    baseline = _average(baseline_scores)
    figures = {
        "enough_data": True,
        "k": K,
        "interactions": len(found),
        "train_interactions": len(train),
        "test_members": len(tested),
        "model": model.as_dict(),
        "popularity": baseline.as_dict(),
        "ratio": round(model.precision / baseline.precision, 3) if baseline.precision else None,
    }
    return figures, datetime.fromtimestamp(split, tz=UTC)


def _scores_of(ranked: list[str], relevant: set[str]) -> Scores:
    return Scores(
        precision=learn.precision_at(ranked, relevant, K),
        recall=learn.recall_at(ranked, relevant, K),
        ndcg=learn.ndcg_at(ranked, relevant, K),
    )


def _average(scores: list[Scores]) -> Scores:
    return Scores(
        precision=_mean([s.precision for s in scores]),
        recall=_mean([s.recall for s in scores]),
        ndcg=_mean([s.ndcg for s in scores]),
    )


def evaluation_lines(evaluation: Evaluation) -> list[str]:
    """The figures as the command prints them."""
    figures = evaluation.figures
    if not figures.get("enough_data"):
        return [f"not enough interactions to evaluate ({figures.get('interactions', 0)})"]
    lines = [
        f"time-based split at {evaluation.split_at:%Y-%m-%d %H:%M} UTC: "
        f"{figures['train_interactions']} of {figures['interactions']} interactions train, "
        f"{figures['test_members']} members tested",
        f"{'':12} {'precision@10':>13} {'recall@10':>10} {'NDCG@10':>8}",
    ]
    for name, key in (("ALS model", "model"), ("popularity", "popularity")):
        row = figures[key]
        lines.append(f"{name:12} {row['precision']:>13.4f} {row['recall']:>10.4f} {row['ndcg']:>8.4f}")
    ratio = figures.get("ratio")
    lines.append(f"precision@10 model / popularity: {ratio:.2f}x" if ratio else "popularity scored nothing")
    return lines
