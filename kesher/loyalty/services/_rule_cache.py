"""Each brand's earning rules and tiers as this process last read them, read again when their stamp moves."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kesher.loyalty.models import EarningRule, LoyaltyProgram, Tier


@dataclass(frozen=True)
class _RulesAndTiers:
    stamp: uuid.UUID
    rules: tuple[EarningRule, ...]  # active, in priority order
    has_tiers: bool


_rules_cache: dict[Any, _RulesAndTiers] = {}  # brand id → the last rules and tiers this process read


def rules_changed(*, brand_id: Any) -> None:
    """Call after any change to a brand's earning rules or tiers: every process reads them again."""
    LoyaltyProgram.objects.filter(brand_id=brand_id).update(rules_stamp=uuid.uuid4())


def _rules_and_tiers(program: LoyaltyProgram) -> _RulesAndTiers:
    cached = _rules_cache.get(program.brand_id)
    if cached is None or cached.stamp != program.rules_stamp:
        rules = EarningRule.objects.filter(brand_id=program.brand_id, active=True).order_by(
            "priority", "created_at"
        )
        cached = _RulesAndTiers(
            stamp=program.rules_stamp,
            rules=tuple(rules.order_by("priority", "created_at")),
            has_tiers=Tier.objects.filter(brand_id=program.brand_id).exists(),
        )
        _rules_cache[program.brand_id] = cached
    return cached


def _active_rules(program: LoyaltyProgram, types: Iterable[str]) -> list[EarningRule]:
    wanted = set(types)
    rules = [rule for rule in _rules_and_tiers(program).rules if rule.activity_type in wanted]
    budgeted = [rule.pk for rule in rules if rule.budget_points is not None]
    if not budgeted:
        return rules
    # What a budget has spent changes with every award: read it fresh, into copies of the shared rules.
    spent = dict(EarningRule.objects.filter(pk__in=budgeted).values_list("pk", "spent_points"))
    fresh = []
    for rule in rules:
        if rule.pk in spent:
            rule = copy.copy(rule)
            rule.spent_points = spent[rule.pk]
        fresh.append(rule)
    return fresh
