"""The documented upper bounds on numbers: one operation's size, what an account may hold, money's digits.

The API schemas (so the OpenAPI document shows them), the console's forms, the activity types and the
services all read these, so a number past a bound is refused with the same error wherever it comes in.
Columns where sums accumulate (balances, lifetime sums, reputation, counters) are 64-bit; these bounds
keep every sum far below that range. docs/api.md lists them.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from kesher.core.errors import Conflict, ValidationFailed

# One earning, adjustment, transfer, grant, reward's cost or rule's points. Below 2**31, so one lot or
# one ledger line of a single operation fits any integer column.
MAX_POINTS_PER_OPERATION = 1_000_000_000
# What one account may hold (balance plus pending), or one rule or surprise may give in all. Far below
# 2**63 (the 64-bit columns) and below 2**53, so a JSON number stays exact in JavaScript clients too.
MAX_POINTS_HELD = 10**15


def largest_decimal(digits: int, places: int) -> Decimal:
    """The largest number a column of `digits` digits, `places` of them after the point, can hold."""
    return Decimal(10**digits - 1).scaleb(-places)


# Money: 14 digits with 2 after the point, as the columns store it (amounts, prices, thresholds); a
# reward's value has 12 digits, an earning rule's "per amount" 10, a point's money value 10 with 4 places.
MONEY_DIGITS = 14
MONEY_PLACES = 2
MAX_MONEY = largest_decimal(MONEY_DIGITS, MONEY_PLACES)
MAX_REWARD_VALUE = largest_decimal(12, 2)
MAX_PER_AMOUNT = largest_decimal(10, 2)
MAX_POINT_VALUE = largest_decimal(10, 4)
# A multiplier (an earning rule's or a tier's): 5 digits with 2 after the point.
MAX_MULTIPLIER = largest_decimal(5, 2)
# Items on one purchase line; how many of anything a count may say (stock, limits, thresholds).
MAX_QUANTITY = 100_000
MAX_COUNT = 1_000_000_000
# An earning rule's priority, either way from zero.
MAX_PRIORITY = 1_000_000
# A page number of a list a person pages through.
MAX_PAGE = 10_000

# Bounds by field name for the services' own check (they are also what the schemas and forms say).
BOUNDS: dict[str, tuple[int | Decimal, int | Decimal]] = {
    "points": (0, MAX_POINTS_PER_OPERATION),
    "cost_points": (1, MAX_POINTS_PER_OPERATION),
    "budget_points": (1, MAX_POINTS_HELD),
    "stock": (0, MAX_COUNT),
    "per_member_limit": (1, MAX_COUNT),
    "daily_limit": (1, MAX_COUNT),
    "weekly_limit": (1, MAX_COUNT),
    "monthly_limit": (1, MAX_COUNT),
    "referral_review_threshold": (1, MAX_COUNT),
    "priority": (-MAX_PRIORITY, MAX_PRIORITY),
    "value": (Decimal(0), MAX_REWARD_VALUE),
    "min_amount": (Decimal(0), MAX_MONEY),
    "per_amount": (Decimal("0.01"), MAX_PER_AMOUNT),
    "point_value": (Decimal(0), MAX_POINT_VALUE),
    "threshold": (Decimal(0), MAX_MONEY),
    "multiplier": (Decimal(1), MAX_MULTIPLIER),
}


def _out_of_range(field: str, low: int | Decimal, high: int | Decimal) -> ValidationFailed:
    return ValidationFailed(
        f"{field} must be from {low:,} to {high:,}", field=field, code="number_out_of_range"
    )


def check_bounds(values: Mapping[str, Any]) -> None:
    """Refuse (422, naming the field) any value in `values` past its documented bound; None passes."""
    for name, value in values.items():
        if name not in BOUNDS or value is None or isinstance(value, bool):
            continue
        low, high = BOUNDS[name]
        if not isinstance(value, int | Decimal):
            continue  # the caller's own type checks speak for anything else
        if not low <= value <= high:
            raise _out_of_range(name, low, high)


def check_points_operation(points: int, *, field: str = "points") -> None:
    """One operation moves at most MAX_POINTS_PER_OPERATION points either way (422 naming the field)."""
    if not -MAX_POINTS_PER_OPERATION <= points <= MAX_POINTS_PER_OPERATION:
        raise _out_of_range(field, -MAX_POINTS_PER_OPERATION, MAX_POINTS_PER_OPERATION)


def check_points_credit(*, balance: int, pending: int, points: int, field: str = "points") -> None:
    """Before crediting `points` to an account holding balance + pending: within one operation's bound
    (422), and the account stays at or below MAX_POINTS_HELD (409: the same call fits a smaller balance)."""
    check_points_operation(points, field=field)
    if balance + pending + points > MAX_POINTS_HELD:
        raise Conflict(
            f"An account holds at most {MAX_POINTS_HELD:,} points; this one holds {balance + pending:,}",
            field=field,
            code="points_limit_reached",
        )
