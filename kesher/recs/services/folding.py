"""Folding a new member into the last trained product model, without retraining.

ALS alone can do this: the member's factors are solved against the stored item factors
(`recalculate_user`). It runs after a purchase or a product view of a member the last training did not
know, as a deferred activity consumer, so their list stops being the popular one at once.
"""

from __future__ import annotations

import uuid
from functools import lru_cache

import numpy as np
from django.utils import timezone
from scipy import sparse

from kesher.activity.models import Activity
from kesher.activity.registry import consumer
from kesher.members.models import Member
from kesher.recs.models import Kind, MemberList, Reason, RunStatus, TrainingRun
from kesher.recs.services import model as learn
from kesher.recs.services.interactions import TYPES, interactions_read
from kesher.recs.services.training import CANDIDATES


@lru_cache(maxsize=8)
def _factors(run_id: uuid.UUID) -> tuple[np.ndarray, list[str], dict[str, int]]:
    blob = TrainingRun.objects.filter(pk=run_id).values_list("model", flat=True).get()
    factors, items = learn.factors_load(bytes(blob))
    return factors, items, {sku: index for index, sku in enumerate(items)}


def recs_fold_in(*, member: Member) -> MemberList | None:
    """Store the member's product list from their own interactions and the last model; None when there
    is no model yet or nothing of theirs the model knows."""
    run_id = (
        TrainingRun.objects.filter(brand_id=member.brand_id, status=RunStatus.DONE, model__isnull=False)
        .order_by("-started_at")
        .values_list("pk", flat=True)
        .first()
    )
    if run_id is None:
        return None
    factors, items, index = _factors(run_id)
    found = interactions_read(brand=member.brand, member_ids=[member.pk])[Kind.PRODUCTS]
    weights: dict[int, float] = {}
    for sku, weight in zip(found.items, found.weights, strict=True):
        if sku in index:
            weights[index[sku]] = weights.get(index[sku], 0.0) + weight
    if not weights:
        return None
    columns = np.fromiter(weights, dtype=np.int32)
    row = sparse.csr_matrix(
        (np.fromiter(weights.values(), dtype=np.float32), (np.zeros(len(columns), dtype=np.int32), columns)),
        shape=(1, len(items)),
    )
    ids, scores = learn.als_fold_in(factors, row, CANDIDATES + 20)
    titles = found.titles
    listed = [
        {
            "id": items[i],
            "score": round(float(s), 6),
            "reason": Reason.SIMILAR_MEMBERS,
            "title": titles.get(items[i], ""),
        }
        for i, s in zip(np.ravel(ids), np.ravel(scores), strict=True)
        if i >= 0
    ]
    seen = sorted({sku for sku, owned in zip(found.items, found.bought, strict=True) if owned})
    stored, _created = MemberList.objects.update_or_create(
        member=member,
        kind=Kind.PRODUCTS,
        defaults={
            "brand_id": member.brand_id,
            "items": listed,
            "seen": seen,
            "computed_at": timezone.now(),
            "run_id": run_id,
            "facts": {"folded_in": True},
        },
    )
    return stored


@consumer(*TYPES[Kind.PRODUCTS], name="recs.fold_in")
def fold_in_new_member(activity: Activity) -> None:
    """After a product activity: a member the last training knew keeps their list until the next one;
    a new one (no list, or a folded-in one) is folded in now."""
    listed = (
        MemberList.objects.filter(member_id=activity.member_id, kind=Kind.PRODUCTS)
        .values_list("facts", flat=True)
        .first()
    )
    if listed is not None and not listed.get("folded_in"):
        return
    member = Member.objects.select_related("brand").get(pk=activity.member_id)
    recs_fold_in(member=member)
