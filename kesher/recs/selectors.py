"""Reads of the stored recommendation lists: a request reads rows written by training, it never trains.

`recommendations_for` is the one read the portal, the API and campaign templates use. The brand's rules
that change between trainings (out of stock, a campaign's boost, repeat purchases) apply here, on the
stored candidates, so a change in the console shows at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext

from kesher.brands.models import Brand
from kesher.core.errors import ValidationFailed
from kesher.loyalty.models import PointsAccount
from kesher.loyalty.selectors import points_summary, rewards_available
from kesher.members.models import Member
from kesher.recs.models import (
    Evaluation,
    Kind,
    MemberList,
    PopularList,
    ProductBoost,
    Reason,
    RecsSettings,
    SimilarItems,
    TrainingRun,
)

KINDS = tuple(Kind.values)
MAX_LIMIT = 50


@dataclass(frozen=True)
class Recommendation:
    """One recommended thing: a product's sku, or an article's, a thread's or a reward's id."""

    id: str
    score: float
    reason: str  # a code from `Reason`; `reason_text` is its words in the active language
    title: str | None = None

    @property
    def reason_text(self) -> str:
        try:
            return str(Reason(self.reason).label)
        except ValueError:
            return gettext("Recommended for you")


@dataclass(frozen=True)
class Rules:
    unavailable: frozenset[str]
    repeat_purchases: bool
    boost: float
    boosted: frozenset[str]


def rules_for(*, brand: Brand) -> Rules:
    settings = RecsSettings.objects.filter(brand=brand).first()
    boosted = frozenset(ProductBoost.objects.filter(brand=brand).values_list("sku", flat=True))
    if settings is None:
        return Rules(unavailable=frozenset(), repeat_purchases=False, boost=1.5, boosted=boosted)
    return Rules(
        unavailable=frozenset(settings.unavailable_skus),
        repeat_purchases=settings.repeat_purchases,
        boost=settings.boost,
        boosted=boosted,
    )


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValidationFailed(
            f"kind must be one of {', '.join(KINDS)}", field="kind", code="recommendation_kind_unknown"
        )
    return kind


def segments_of(*, member: Member) -> list[str]:
    """The cold-start segments a member belongs to, most specific first; `all` always last."""
    segments = [f"interest:{interest}" for interest in (member.interests or []) if isinstance(interest, str)]
    tier = _tier_name(member)
    if tier:
        segments.append(f"tier:{tier}")
    segments.append("all")
    return segments


def _tier_name(member: Member) -> str | None:
    name: str | None = (
        PointsAccount.objects.filter(member=member, tier__isnull=False)
        .values_list("tier__name", flat=True)
        .first()
    )
    return name


def recommendations_for(*, member: Member, kind: str, limit: int = 10) -> list[Recommendation]:
    """The member's list of `kind`, best first, at most `limit` (1..50)."""
    check_kind(kind)
    limit = max(1, min(int(limit), MAX_LIMIT))
    if kind == Kind.REWARDS:
        return _rewards_for(member=member, limit=limit)
    stored = MemberList.objects.filter(member=member, kind=kind).values_list("items", "seen").first()
    seen: set[str] = set()
    candidates: list[dict[str, Any]] = []
    if stored is not None:
        candidates, seen_list = list(stored[0]), stored[1]
        seen = set(seen_list)
    if len(candidates) < limit:
        # A new member, or one with a short list: the popular lists of their segments fill it up.
        popular = {
            segment: items
            for segment, items in PopularList.objects.filter(
                brand_id=member.brand_id, kind=kind, segment__in=segments_of(member=member)
            ).values_list("segment", "items")
        }
        known = {item["id"] for item in candidates}
        for segment in segments_of(member=member):
            for item in popular.get(segment, []):
                if item["id"] not in known:
                    known.add(item["id"])
                    candidates.append(item)
    if kind == Kind.PRODUCTS:
        return _apply_product_rules(member=member, candidates=candidates, seen=seen, limit=limit)
    return [_to_recommendation(item) for item in candidates if item["id"] not in seen][:limit]


def _to_recommendation(
    item: dict[str, Any], *, score: float | None = None, reason: str | None = None
) -> Recommendation:
    return Recommendation(
        id=str(item["id"]),
        score=round(float(item["score"] if score is None else score), 6),
        reason=reason or str(item.get("reason", Reason.POPULAR)),
        title=item.get("title") or None,
    )


def _apply_product_rules(
    *, member: Member, candidates: list[dict[str, Any]], seen: set[str], limit: int
) -> list[Recommendation]:
    rules = rules_for(brand=member.brand)
    picked: list[Recommendation] = []
    for item in candidates:
        sku = str(item["id"])
        if sku in rules.unavailable or (sku in seen and not rules.repeat_purchases):
            continue
        if sku in rules.boosted:
            picked.append(
                _to_recommendation(item, score=float(item["score"]) * rules.boost, reason=Reason.CAMPAIGN)
            )
        else:
            picked.append(_to_recommendation(item))
    picked.sort(key=lambda rec: -rec.score)
    return picked[:limit]


def _rewards_for(*, member: Member, limit: int) -> list[Recommendation]:
    """Rewards the member can afford now, then those their usual earning reaches within a month."""
    try:
        summary = points_summary(member=member)
    except PointsAccount.DoesNotExist:  # no points account (a prospect): nothing to afford
        return []
    facts = (
        MemberList.objects.filter(member=member, kind=Kind.REWARDS).values_list("facts", flat=True).first()
    )
    per_month = float((facts or {}).get("points_per_month", 0))
    reach = summary.balance + summary.pending + per_month
    now: list[Recommendation] = []
    soon: list[Recommendation] = []
    for reward in rewards_available(brand=member.brand, member=member):
        cost = reward.cost_points
        if cost <= summary.balance:
            # Of what they can take now, the dearest first: the most their points can buy.
            score = 1.0 + (cost / summary.balance if summary.balance else 0.0)
            now.append(
                Recommendation(
                    id=str(reward.id), score=round(score, 6), reason=Reason.AFFORDABLE, title=reward.name
                )
            )
        elif cost <= reach:
            gap = (cost - summary.balance) / max(reach - summary.balance, 1.0)
            soon.append(
                Recommendation(
                    id=str(reward.id),
                    score=round(1.0 - gap, 6),
                    reason=Reason.AFFORDABLE_SOON,
                    title=reward.name,
                )
            )
    now.sort(key=lambda rec: -rec.score)
    soon.sort(key=lambda rec: -rec.score)
    return (now + soon)[:limit]


def also_bought(*, brand: Brand, sku: str, limit: int = 10) -> list[Recommendation]:
    """Products bought by the members who bought `sku`, best first; out-of-stock ones left out."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    items = SimilarItems.objects.filter(brand=brand, sku=sku).values_list("items", flat=True).first() or []
    rules = rules_for(brand=brand)
    picked = [
        _to_recommendation(item, reason=Reason.ALSO_BOUGHT)
        for item in items
        if str(item["id"]) not in rules.unavailable and str(item["id"]) != sku
    ]
    return picked[:limit]


def last_run(*, brand: Brand) -> TrainingRun | None:
    return TrainingRun.objects.filter(brand=brand).defer("model").order_by("-started_at").first()


def last_evaluation(*, brand: Brand) -> Evaluation | None:
    return Evaluation.objects.filter(brand=brand).order_by("-created_at").first()


def settings_for(*, brand: Brand) -> RecsSettings:
    return RecsSettings.objects.filter(brand=brand).first() or RecsSettings(brand=brand)


def boosts_for(*, brand: Brand) -> list[ProductBoost]:
    return list(ProductBoost.objects.filter(brand=brand).select_related("campaign").order_by("created_at"))
