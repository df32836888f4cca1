"""The language of segment rules: a group of conditions over member fields, interests, consent and activity.

A rule set is JSON, checked by these schemas before it is saved:

    {"match": "all", "conditions": [
        {"kind": "locale", "locale": "he"},
        {"kind": "interests", "any": ["fashion"]},
        {"kind": "purchased", "within_days": 30},
        {"kind": "group", "match": "any", "conditions": [{"kind": "points", "above": 500}, ...]}]}
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from kesher.core.errors import ValidationFailed
from kesher.core.limits import MAX_POINTS_HELD

Days = Annotated[int, Field(ge=1, le=3650)]
Points = Annotated[int, Field(ge=-MAX_POINTS_HELD, le=MAX_POINTS_HELD)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=50)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
MAX_DEPTH = 4


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldRule(Strict):
    """A member field compared with a value."""

    kind: Literal["field"]
    field: Literal["first_name", "last_name", "email", "phone", "status", "source", "external_id", "locale"]
    op: Literal["eq", "ne", "in", "contains", "empty", "not_empty"] = "eq"
    value: str | list[str] | None = None


class LocaleRule(Strict):
    kind: Literal["locale"]
    locale: Literal["he", "en"]


class InterestsRule(Strict):
    """The member has at least one of `any` (and every one of `all`)."""

    kind: Literal["interests"]
    any: Annotated[list[Tag], Field(max_length=50)] = []
    all: Annotated[list[Tag], Field(max_length=50)] = []


class ConsentRule(Strict):
    kind: Literal["consent"]
    channel: Literal["email", "sms", "push"]
    granted: bool = True


class PurchasedRule(Strict):
    """Bought in the last N days; with `sku` or `category`, bought that."""

    kind: Literal["purchased"]
    within_days: Days
    sku: Text | None = None
    category: Text | None = None


class NoPurchaseRule(Strict):
    """No purchase in the last N days (members who never bought included)."""

    kind: Literal["no_purchase"]
    for_days: Days


class PointsRule(Strict):
    kind: Literal["points"]
    above: Points | None = None
    below: Points | None = None


class ActivityRule(Strict):
    """Did one of these activities (asked or answered in the community, visited ...) in the last N days."""

    kind: Literal["activity"]
    types: Annotated[
        list[Annotated[str, StringConstraints(min_length=1, max_length=40)]], Field(min_length=1)
    ]
    within_days: Days
    min_count: Annotated[int, Field(ge=1, le=10_000)] = 1


class JoinedRule(Strict):
    kind: Literal["joined"]
    within_days: Days | None = None
    before_days: Days | None = None


class ListRule(Strict):
    """On a member list another part keeps (insights' RFM segments): see campaigns/lists.py."""

    kind: Literal["list"]
    source: Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,30}$")]
    name: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,40}$")]


class GroupRule(Strict):
    kind: Literal["group"]
    match: Literal["all", "any"] = "all"
    conditions: Annotated[list[Condition], Field(max_length=50)] = []
    negate: bool = False


Condition = Annotated[
    FieldRule
    | LocaleRule
    | InterestsRule
    | ConsentRule
    | PurchasedRule
    | NoPurchaseRule
    | PointsRule
    | ActivityRule
    | JoinedRule
    | ListRule
    | GroupRule,
    Field(discriminator="kind"),
]
GroupRule.model_rebuild()


class Rules(Strict):
    match: Literal["all", "any"] = "all"
    conditions: Annotated[list[Condition], Field(max_length=50)] = []


def _depth(conditions: list[Any], level: int = 1) -> int:
    deepest = level
    for condition in conditions:
        if isinstance(condition, GroupRule):
            deepest = max(deepest, _depth(condition.conditions, level + 1))
    return deepest


def rules_parse(raw: dict[str, Any] | None) -> Rules:
    """Check a rule set; a mistake is a 422 naming where it is (rules.conditions.0.within_days)."""
    try:
        rules = Rules.model_validate(raw or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        location = ".".join(str(part) for part in first["loc"])
        field = f"rules.{location}" if location else "rules"
        message = "unknown field" if first["type"] == "extra_forbidden" else first["msg"]
        raise ValidationFailed(f"{field}: {message}", field=field) from None
    if _depth(rules.conditions) > MAX_DEPTH:
        raise ValidationFailed(f"rules may nest groups at most {MAX_DEPTH} deep", field="rules")
    return rules
