"""Training: read the brand's activity stream, learn, and store every member's lists (a request never trains).

Products: implicit-feedback ALS over purchases and views, item-to-item cosine similarity over purchases
("also bought"), popularity per segment for the cold start. Articles and threads: the member's stated
interests and what they read or took part in (interests of the articles read, tags of the threads),
with popularity. Rewards: the member's usual earning per month, which serving sets against their balance.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from kesher.brands.models import Brand
from kesher.community.models import Post, Space
from kesher.loyalty.models import LedgerEntry, PointsAccount
from kesher.magazine.models import Article, ArticleStatus
from kesher.members.models import Member, MemberStatus
from kesher.recs.models import (
    Kind,
    MemberList,
    PopularList,
    Reason,
    RunStatus,
    SimilarItems,
    TrainingRun,
)
from kesher.recs.services import model as learn
from kesher.recs.services.interactions import Interactions, interactions_read

CANDIDATES = 50  # stored per member: the rules at serving time take some away
POPULAR = 30
SIMILAR = 20
MIN_SEGMENT = 3  # a segment of fewer members says nothing about them as a group
BATCH = 2000
EARNING_WINDOW = timedelta(days=90)


def _members(brand: Brand) -> dict[uuid.UUID, dict[str, Any]]:
    """Each member's stated interests and tier, for the segments and the content lists."""
    found: dict[uuid.UUID, dict[str, Any]] = {}
    query = Member.objects.filter(brand=brand).exclude(status=MemberStatus.ERASED)
    for member in query.only("id", "interests", "sealed", "locale").iterator(chunk_size=BATCH):
        interests = [value for value in (member.interests or []) if isinstance(value, str)]
        found[member.pk] = {"interests": interests, "tier": None}
    tiers = PointsAccount.objects.filter(member__brand=brand, tier__isnull=False).values_list(
        "member_id", "tier__name"
    )
    for member_id, tier in tiers.iterator(chunk_size=BATCH):
        if member_id in found:
            found[member_id]["tier"] = tier
    return found


def segments(members: dict[uuid.UUID, dict[str, Any]]) -> dict[str, set[uuid.UUID]]:
    grouped: dict[str, set[uuid.UUID]] = defaultdict(set)
    for member_id, facts in members.items():
        grouped["all"].add(member_id)
        for interest in facts["interests"]:
            grouped[f"interest:{interest}"].add(member_id)
        if facts["tier"]:
            grouped[f"tier:{facts['tier']}"].add(member_id)
    return {name: ids for name, ids in grouped.items() if name == "all" or len(ids) >= MIN_SEGMENT}


def _item(item_id: str, score: float, reason: str, title: str | None) -> dict[str, Any]:
    return {"id": item_id, "score": round(float(score), 6), "reason": reason, "title": title or ""}


def _replace(
    model: type[MemberList] | type[PopularList], brand: Brand, kind: str, rows: Iterable[Any]
) -> int:
    model.objects.filter(brand=brand, kind=kind).delete()
    rows = list(rows)
    model.objects.bulk_create(rows, batch_size=BATCH)
    return len(rows)


# --- products ---------------------------------------------------------------------------------------


def products_train(
    *,
    brand: Brand,
    found: Interactions,
    members: dict[uuid.UUID, dict[str, Any]],
    run: TrainingRun,
    now: datetime,
) -> int:
    titles = found.titles
    lists: list[MemberList] = []
    seen: dict[uuid.UUID, set[str]] = defaultdict(set)
    for member_id, sku, owned in zip(found.members, found.items, found.bought, strict=True):
        if owned:
            seen[member_id].add(sku)
    popular_rows: list[PopularList] = []
    similar_rows: list[SimilarItems] = []
    if len(found):
        matrix = learn.matrix_build(found.members, found.items, found.weights)
        bought = [i for i, owned in enumerate(found.bought) if owned]
        purchases = learn.matrix_build(
            [found.members[i] for i in bought], [found.items[i] for i in bought], [1.0] * len(bought)
        )
        popular_rows = _popular_products(brand, matrix, members, titles, now)
        if len(found) >= learn.MIN_INTERACTIONS and len(matrix.items) > 1:
            als = learn.als_fit(matrix.user_items, factors=_factors(matrix))
            run.model = learn.factors_dump(_as_array(als.item_factors), matrix.items)
            n = min(len(matrix.items), CANDIDATES + 20)
            for start in range(0, len(matrix.members), BATCH):
                rows = np.arange(start, min(start + BATCH, len(matrix.members)))
                ids, scores = learn.als_recommend(als, matrix.user_items, rows, n)
                for row, member_items, member_scores in zip(rows, ids, scores, strict=True):
                    member_id = matrix.members[row]
                    if member_id not in members:
                        continue
                    items = [
                        _item(matrix.items[i], s, Reason.SIMILAR_MEMBERS, titles.get(matrix.items[i]))
                        for i, s in zip(member_items, member_scores, strict=True)
                        if i >= 0
                    ]
                    lists.append(_list(brand, member_id, Kind.PRODUCTS, items, seen[member_id], run, now))  # type: ignore[arg-type]
        if len(purchases.items) > 1:
            similar_rows = _similar_products(brand, purchases, titles, now)
    with transaction.atomic():
        count = _replace(MemberList, brand, Kind.PRODUCTS, lists)
        _replace(PopularList, brand, Kind.PRODUCTS, popular_rows)
        SimilarItems.objects.filter(brand=brand).delete()
        SimilarItems.objects.bulk_create(similar_rows, batch_size=BATCH)
    run.products = len(set(found.items))
    return count


def _factors(matrix: learn.Matrix) -> int:
    # A small catalog (or club) is described by few tastes: more factors only learn its noise.
    return int(max(8, min(learn.FACTORS, len(matrix.items) // 4, len(matrix.members) // 4)))


def _as_array(factors: Any) -> np.ndarray:
    return np.asarray(factors.to_numpy() if hasattr(factors, "to_numpy") else factors, dtype=np.float32)


def _list(
    brand: Brand,
    member_id: uuid.UUID,
    kind: str,
    items: list[dict[str, Any]],
    seen: set[str],
    run: TrainingRun | None,
    now: datetime,
) -> MemberList:
    return MemberList(
        brand=brand, member_id=member_id, kind=kind, items=items, seen=sorted(seen), computed_at=now, run=run
    )


def _popular_products(
    brand: Brand,
    matrix: learn.Matrix,
    members: dict[uuid.UUID, dict[str, Any]],
    titles: dict[str, str],
    now: datetime,
) -> list[PopularList]:
    touched = (matrix.user_items > 0).astype(np.float32)
    rows: list[PopularList] = []
    for segment, member_ids in segments(members).items():
        indicator = np.zeros(len(matrix.members), dtype=np.float32)
        for member_id in member_ids:
            row = matrix.member_index.get(member_id)
            if row is not None:
                indicator[row] = 1.0
        if segment != "all" and indicator.sum() < MIN_SEGMENT:
            continue
        counts = (
            np.asarray(touched.T @ indicator).ravel()
            if segment != "all"
            else learn.popularity(matrix.user_items)
        )
        top = np.argsort(-counts, kind="stable")[:POPULAR]
        biggest = float(counts[top[0]]) if len(top) and counts[top[0]] else 1.0
        reason = Reason.POPULAR if segment == "all" else Reason.POPULAR_SEGMENT
        items = [
            _item(matrix.items[i], counts[i] / biggest, reason, titles.get(matrix.items[i]))
            for i in top
            if counts[i] > 0
        ]
        rows.append(
            PopularList(brand=brand, kind=Kind.PRODUCTS, segment=segment, items=items, computed_at=now)
        )
    return rows


def _similar_products(
    brand: Brand, purchases: learn.Matrix, titles: dict[str, str], now: datetime
) -> list[SimilarItems]:
    cosine = learn.cooccurrence_fit(purchases.user_items)
    rows = []
    for index, sku in enumerate(purchases.items):
        ids, scores = learn.similar_items(cosine, index, SIMILAR)
        items = [
            _item(purchases.items[i], s, Reason.ALSO_BOUGHT, titles.get(purchases.items[i]))
            for i, s in zip(ids, scores, strict=True)
            if i != index and s > 0
        ]
        if items:
            rows.append(SimilarItems(brand=brand, sku=sku, items=items, computed_at=now))
    return rows


# --- articles and threads: interests and what the member read or took part in -----------------------


def _content_lists(
    *,
    brand: Brand,
    kind: str,
    candidates: dict[str, dict[str, Any]],  # id → {"title", "topics", "popularity"}
    found: Interactions,
    members: dict[uuid.UUID, dict[str, Any]],
    run: TrainingRun,
    now: datetime,
) -> int:
    reads: dict[uuid.UUID, Counter[str]] = defaultdict(Counter)
    seen: dict[uuid.UUID, set[str]] = defaultdict(set)
    taken = Counter[str]()
    for member_id, item_id, weight, owned in zip(
        found.members, found.items, found.weights, found.bought, strict=True
    ):
        if item_id not in candidates:
            continue
        taken[item_id] += 1
        if owned:
            seen[member_id].add(item_id)
        for topic in candidates[item_id]["topics"]:
            reads[member_id][topic] += weight
    most = max([*taken.values(), *[c["popularity"] for c in candidates.values()], 1])
    popularity = {
        item_id: (taken[item_id] + c["popularity"]) / (2 * most) for item_id, c in candidates.items()
    }
    by_topic: dict[str, list[str]] = defaultdict(list)
    for item_id, facts in candidates.items():
        for topic in facts["topics"]:
            by_topic[topic].append(item_id)
    lists: list[MemberList] = []
    for member_id, facts in members.items():
        stated = {topic.casefold() for topic in facts["interests"]}
        learned = reads.get(member_id, Counter())
        total = sum(learned.values()) or 1.0
        scores: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for topic in stated:
            for item_id in by_topic.get(topic, ()):
                scores[item_id][0] += 1.0
        for topic, weight in learned.items():
            for item_id in by_topic.get(topic, ()):
                scores[item_id][1] += 2.0 * weight / total
        if not scores:
            continue
        items = []
        for item_id, (from_stated, from_reading) in scores.items():
            reason = Reason.READING if from_reading > from_stated else Reason.INTERESTS
            score = from_stated + from_reading + 0.1 * popularity[item_id]
            items.append(_item(item_id, score, reason, candidates[item_id]["title"]))
        items.sort(key=lambda item: (-item["score"], item["id"]))
        lists.append(
            _list(
                brand, member_id, kind, items[: CANDIDATES + len(seen[member_id])], seen[member_id], run, now
            )
        )
    popular_rows = []
    for segment, member_ids in segments(members).items():
        if segment.startswith("interest:"):
            topic = segment.split(":", 1)[1].casefold()
            pool = by_topic.get(topic, [])
            reason = Reason.INTERESTS
        else:
            counts = Counter(
                item_id
                for member_id, item_id in zip(found.members, found.items, strict=True)
                if member_id in member_ids and item_id in candidates
            )
            pool = list(candidates)
            reason = Reason.POPULAR if segment == "all" else Reason.POPULAR_SEGMENT
            popularity_here = {item_id: counts[item_id] / max([*counts.values(), 1]) for item_id in pool}
        ranked = sorted(
            pool,
            key=lambda item_id: (
                -(popularity_here[item_id] if not segment.startswith("interest:") else popularity[item_id]),
                item_id,
            ),
        )[:POPULAR]
        items = [
            _item(
                item_id,
                popularity[item_id] if segment.startswith("interest:") else popularity_here[item_id],
                reason,
                candidates[item_id]["title"],
            )
            for item_id in ranked
        ]
        if items:
            popular_rows.append(
                PopularList(brand=brand, kind=kind, segment=segment, items=items, computed_at=now)
            )
    with transaction.atomic():
        count = _replace(MemberList, brand, kind, lists)
        _replace(PopularList, brand, kind, popular_rows)
    return count


def _articles(brand: Brand) -> dict[str, dict[str, Any]]:
    published = Article.objects.filter(brand=brand, status=ArticleStatus.PUBLISHED).order_by("-published_at")
    return {
        str(article_id): {
            "title": title,
            "topics": [str(topic).casefold() for topic in interests or []],
            "popularity": 0,
        }
        for article_id, title, interests in published.values_list("id", "title", "interests")[:2000]
    }


def _threads(brand: Brand) -> dict[str, dict[str, Any]]:
    # Threads any member may see: public and members-only spaces (tier-only ones are for their tiers).
    visible = [Space.Visibility.PUBLIC, Space.Visibility.MEMBERS]
    questions = Post.objects.filter(
        brand=brand,
        kind=Post.Kind.QUESTION,
        status=Post.Status.PUBLISHED,
        space__visibility__in=visible,
        duplicate_of__isnull=True,
    ).order_by("-view_count", "-created_at")[:5000]
    found: dict[str, dict[str, Any]] = {
        str(post_id): {"title": title, "topics": [], "popularity": views + 3 * answers}
        for post_id, title, views, answers in questions.values_list(
            "id", "title", "view_count", "answer_count"
        )
    }
    tags = Post.tags.through.objects.filter(post_id__in=[uuid.UUID(key) for key in found]).values_list(
        "post_id", "tag__name"
    )
    for post_id, name in tags:
        found[str(post_id)]["topics"].append(str(name).casefold())
    return found


# --- rewards ----------------------------------------------------------------------------------------


def rewards_facts(
    *, brand: Brand, members: dict[uuid.UUID, dict[str, Any]], run: TrainingRun, now: datetime
) -> int:
    """Each member's points earned per month over the last three months: how soon a reward comes in reach."""
    earned = (
        LedgerEntry.objects.filter(
            brand=brand, kind=LedgerEntry.Kind.EARN, created_at__gte=now - EARNING_WINDOW
        )
        .values("account__member_id")
        .annotate(total=Sum("points"))
        .values_list("account__member_id", "total")
    )
    months = EARNING_WINDOW.days / 30
    rows = [
        MemberList(
            brand=brand,
            member_id=member_id,
            kind=Kind.REWARDS,
            items=[],
            facts={"points_per_month": round(total / months, 2)},
            computed_at=now,
            run=run,
        )
        for member_id, total in earned
        if member_id in members and total and total > 0
    ]
    with transaction.atomic():
        return _replace(MemberList, brand, Kind.REWARDS, rows)


# --- the whole run ----------------------------------------------------------------------------------


def recs_train(*, brand: Brand, now: datetime | None = None) -> TrainingRun:
    """Train every model of the brand and replace its stored lists; the run is recorded, failed or done."""
    now = now or timezone.now()
    started = time.perf_counter()
    run = TrainingRun.objects.create(brand=brand, started_at=now)
    try:
        members = _members(brand)
        found = interactions_read(brand=brand)
        lists = products_train(brand=brand, found=found[Kind.PRODUCTS], members=members, run=run, now=now)
        for kind, candidates in ((Kind.ARTICLES, _articles(brand)), (Kind.THREADS, _threads(brand))):
            lists += _content_lists(
                brand=brand,
                kind=kind,
                candidates=candidates,
                found=found[kind],
                members=members,
                run=run,
                now=now,
            )
        lists += rewards_facts(brand=brand, members=members, run=run, now=now)
    except Exception as error:
        TrainingRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED,
            finished_at=timezone.now(),
            error=str(error)[:2000],
            seconds=time.perf_counter() - started,
        )
        raise
    run.status = RunStatus.DONE
    run.finished_at = timezone.now()
    run.seconds = round(time.perf_counter() - started, 3)
    run.interactions = sum(len(rows) for rows in found.values())
    run.members = len(members)
    run.lists = lists
    run.save()
    return run
