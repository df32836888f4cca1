"""The nightly rollups, computed in the database: each table is rewritten for the brand by one
`INSERT … SELECT` over the activities, the ledger and the coupons, never row by row in Python (issue 17).

The SQL is written once for both engines; the few spots where PostgreSQL and SQLite differ (local days,
JSON fields, day arithmetic) go through `Dialect`. Every value put into the SQL text is Kesher's own (the
brand's id, timestamps, floats of the RFM cut points, activity type names from `rules.py`), never a
person's input, so the statements carry no parameters and nest freely.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection

from kesher.brands.models import Brand
from kesher.insights import rules

log = logging.getLogger("kesher.insights.services")  # the recomputation's own log, step by step
_ZONE = re.compile(r"^[A-Za-z0-9_+\-/]+$")


class Dialect:
    """The SQL that differs between PostgreSQL and SQLite, for one brand's time zone."""

    def __init__(self, brand: Brand, now: datetime) -> None:
        self.pg = connection.vendor == "postgresql"
        zone = brand.time_zone if _ZONE.match(brand.time_zone or "") else "UTC"
        self.zone = zone
        offset = ZoneInfo(zone).utcoffset(now.replace(tzinfo=None)) or timedelta(0)
        # SQLite knows no time zones: the brand's offset now stands for the whole history.
        self.minutes = int(offset.total_seconds() // 60)

    def lit(self, value: Any) -> str:
        if isinstance(value, uuid.UUID):
            return f"'{value}'::uuid" if self.pg else f"'{value.hex}'"
        if isinstance(value, datetime):
            if self.pg:
                return f"'{value.isoformat()}'::timestamptz"
            return f"'{connection.ops.adapt_datetimefield_value(value)}'"
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, (int, float)):
            return repr(float(value)) if isinstance(value, float) else str(value)
        if isinstance(value, str) and re.fullmatch(r"[a-z_]+", value):
            return f"'{value}'"
        raise ValueError(f"not a literal for rollup SQL: {value!r}")

    def names(self, values: Any) -> str:
        return "(" + ", ".join(self.lit(v) for v in values) + ")"

    def day(self, column: str) -> str:
        if self.pg:
            return f"(({column} AT TIME ZONE '{self.zone}')::date)"
        return f"date({column}, '{self.minutes:+d} minutes')"

    def month(self, column: str) -> str:
        if self.pg:
            return f"(date_trunc('month', {column} AT TIME ZONE '{self.zone}')::date)"
        return f"date({column}, '{self.minutes:+d} minutes', 'start of month')"

    def text(self, column: str, key: str) -> str:
        return f"({column} ->> '{key}')" if self.pg else f"json_extract({column}, '$.{key}')"

    def number(self, column: str, key: str) -> str:
        if self.pg:
            return f"CAST(NULLIF({column} ->> '{key}', '') AS numeric)"
        return f"CAST(json_extract({column}, '$.{key}') AS REAL)"

    def days(self, later: str, earlier: str) -> str:
        if self.pg:
            return f"(EXTRACT(EPOCH FROM ({later} - {earlier})) / 86400.0)"
        return f"(julianday({later}) - julianday({earlier}))"

    def least(self, *parts: str) -> str:
        return f"{'LEAST' if self.pg else 'MIN'}({', '.join(parts)})"

    def greatest(self, *parts: str) -> str:
        return f"{'GREATEST' if self.pg else 'MAX'}({', '.join(parts)})"


def _counted_types() -> list[str]:
    names = {name for rule in rules.TRACKS for name in rule.weights} | set(rules.ADVOCACY_WEIGHTS)
    return sorted(names)


def _score(expr: str, cuts: list[float], *, lower_is_better: bool) -> str:
    """A quintile score 1-5 against four cut points, as selectors._score has it."""
    if not cuts:
        return "3"
    if lower_is_better:
        return "(5 - (" + " + ".join(f"CASE WHEN {expr} > {cut!r} THEN 1 ELSE 0 END" for cut in cuts) + "))"
    return "(1 + " + " + ".join(f"CASE WHEN {expr} >= {cut!r} THEN 1 ELSE 0 END" for cut in cuts) + ")"


def segment_sql(r: str, f: str, m: str) -> str:
    """rules.rfm_segment as a CASE (fm = (f + m) / 2, compared here as f + m against twice the bound)."""
    fm = f"({f} + {m})"
    return (
        f"CASE WHEN {f} = 0 THEN 'prospect'"
        f" WHEN {r} >= 4 AND {fm} >= 8 THEN 'champions'"
        f" WHEN {r} >= 3 AND {fm} >= 6 THEN 'loyal'"
        f" WHEN {r} >= 4 AND {fm} < 4 THEN 'new'"
        f" WHEN {r} >= 3 THEN 'potential_loyalist'"
        f" WHEN {r} <= 2 AND {fm} >= 8 THEN (CASE WHEN {r} = 1 THEN 'cant_lose' ELSE 'at_risk' END)"
        f" WHEN {r} = 2 THEN (CASE WHEN {fm} < 6 THEN 'hibernating' ELSE 'at_risk' END)"
        " ELSE 'lost' END"
    )


def summaries_sql(*, brand: Brand, now: datetime, cuts: dict[str, list[float]]) -> str:
    q = Dialect(brand, now)
    b, at = q.lit(brand.pk), q.lit(now)
    year_ago = q.lit(now - timedelta(days=rules.LOYALTY_WINDOW_DAYS))
    amount = q.number("a.attributes", "amount")
    counted = _counted_types()
    type_counts = ",\n".join(
        f"SUM(CASE WHEN a.type = {q.lit(name)} THEN 1 ELSE 0 END) AS n_{name}" for name in counted
    )
    base = f"""
        SELECT m.id AS member_id, m.brand_id, m.status, {q.month("m.joined_at")} AS joined_month,
               pa.tier_id AS tier_id,
               COALESCE(x.purchases, 0) AS purchases, COALESCE(x.purchase_days, 0) AS purchase_days,
               COALESCE(x.spend, 0) AS spend, x.first_purchase, x.last_purchase,
               COALESCE(x.purchases_year, 0) AS purchases_year, COALESCE(x.advocacy_year, 0) AS advocacy_year,
               COALESCE(x.engaged, 0) AS engaged,
               {", ".join(f"COALESCE(x.n_{name}, 0) AS n_{name}" for name in counted)}
        FROM members_member m
        LEFT JOIN loyalty_pointsaccount pa ON pa.member_id = m.id
        LEFT JOIN (
            SELECT a.member_id,
                   SUM(CASE WHEN a.type = 'purchase' THEN 1 ELSE 0 END) AS purchases,
                   COUNT(DISTINCT CASE WHEN a.type = 'purchase' THEN {q.day("a.occurred_at")} END)
                       AS purchase_days,
                   SUM(CASE WHEN a.type = 'purchase' THEN COALESCE({amount}, 0) ELSE 0 END) AS spend,
                   MIN(CASE WHEN a.type = 'purchase' THEN a.occurred_at END) AS first_purchase,
                   MAX(CASE WHEN a.type = 'purchase' THEN a.occurred_at END) AS last_purchase,
                   SUM(CASE WHEN a.type = 'purchase' AND a.occurred_at > {year_ago} THEN 1 ELSE 0 END)
                       AS purchases_year,
                   SUM(CASE WHEN a.type IN {q.names(sorted(rules.ADVOCACY_WEIGHTS))}
                            AND a.occurred_at > {year_ago} THEN 1 ELSE 0 END) AS advocacy_year,
                   SUM(CASE WHEN a.type NOT IN {q.names(sorted(rules.NOT_ENGAGEMENT))} THEN 1 ELSE 0 END)
                       AS engaged,
                   {type_counts}
            FROM activity_activity a
            WHERE a.brand_id = {b} AND a.occurred_at <= {at}
            GROUP BY a.member_id
        ) x ON x.member_id = m.id
        WHERE m.brand_id = {b} AND m.status <> 'erased'
    """
    since_last = f"(CASE WHEN s.last_purchase IS NULL THEN NULL ELSE {q.days(at, 's.last_purchase')} END)"
    span = q.days("s.last_purchase", "s.first_purchase")
    gap = f"(CASE WHEN s.purchase_days > 1 THEN {span} / (s.purchase_days - 1) ELSE NULL END)"
    buyer = "s.purchases > 0"
    tracks = ",\n".join(
        q.least("100", " + ".join(f"{weight} * s.n_{name}" for name, weight in rule.weights.items()) or "0")
        + f" AS {rule.track}"
        for rule in rules.TRACKS
    )
    advocacy = " + ".join(f"{weight} * s.n_{name}" for name, weight in rules.ADVOCACY_WEIGHTS.items())
    scored = f"""
        SELECT s.*, {since_last} AS since_last_days, {gap} AS mean_gap_days,
               CASE WHEN {buyer} THEN {_score(since_last, cuts.get("recency", []), lower_is_better=True)}
                    ELSE 0 END AS r,
               CASE WHEN {buyer}
                    THEN {_score("s.purchases", cuts.get("frequency", []), lower_is_better=False)}
                    ELSE 0 END AS f,
               CASE WHEN {buyer} THEN {_score("s.spend", cuts.get("monetary", []), lower_is_better=False)}
                    ELSE 0 END AS mo,
               {tracks},
               {advocacy} AS advocacy_score
        FROM ({base}) s
    """
    rhythm = q.greatest("COALESCE(t.mean_gap_days, 90.0)", "1.0")
    risk = q.least("1.0", q.greatest("0.0", f"(t.since_last_days / {rhythm} - 1.0) / 2.0"))
    stage = (
        "CASE WHEN t.advocacy_year > 0 AND t.purchases > 0 THEN 'advocacy'"
        " WHEN t.purchases_year >= 2 THEN 'loyalty'"
        " WHEN t.purchases > 0 THEN 'purchase'"
        " WHEN t.engaged > 0 THEN 'consideration'"
        " ELSE 'awareness' END"
    )
    return f"""
        INSERT INTO insights_membersummary (
            member_id, brand_id, computed_at, status, joined_month, tier_id, purchases, purchase_days, spend,
            first_purchase, last_purchase, since_last_days, mean_gap_days, recency, frequency, monetary,
            rfm_segment, funnel_stage, access, engage, customize, connect, collaborate, referrals,
            accepted_answers, helpful_reviews, shares, advocacy_score, churn_risk, persona)
        SELECT t.member_id, t.brand_id, {at}, t.status, t.joined_month, t.tier_id, t.purchases,
               t.purchase_days,
               t.spend, t.first_purchase, t.last_purchase, t.since_last_days, t.mean_gap_days, t.r, t.f, t.mo,
               {segment_sql("t.r", "t.f", "t.mo")}, {stage},
               t.access, t.engage, t.customize, t.connect, t.collaborate,
               t.n_referral, t.n_answer_accepted, t.n_review_helpful, t.n_social_share, t.advocacy_score,
               CASE WHEN t.purchases > 0 THEN {risk} ELSE NULL END, NULL
        FROM ({scored}) t
    """


def sales_sql(*, brand: Brand, now: datetime, conversion_days: int) -> str:
    q = Dialect(brand, now)
    b, at = q.lit(brand.pk), q.lit(now)
    amount = q.number("p.attributes", "amount")
    if q.pg:
        window_start = f"p.occurred_at - interval '{int(conversion_days)} days'"
    else:
        window_start = f"datetime(p.occurred_at, '-{int(conversion_days)} days')"
    clicked = f"""EXISTS (SELECT 1 FROM activity_activity c
                  WHERE c.member_id = p.member_id AND c.type = 'message_clicked'
                    AND c.occurred_at <= p.occurred_at AND c.occurred_at >= {window_start})"""
    return f"""
        INSERT INTO insights_dailysales (brand_id, day, store, tier_id, segment, status, purchases, buyers,
                                         revenue, attributed_purchases, attributed_revenue)
        SELECT {b}, u.day, u.store, u.tier_id, u.segment, u.status, COUNT(*), COUNT(DISTINCT u.member_id),
               SUM(u.amount), SUM(u.clicked), SUM(u.clicked * u.amount)
        FROM (
            SELECT {q.day("p.occurred_at")} AS day, COALESCE({q.text("p.attributes", "store")}, '') AS store,
                   s.tier_id, s.rfm_segment AS segment, s.status, p.member_id,
                   COALESCE({amount}, 0) AS amount, CASE WHEN {clicked} THEN 1 ELSE 0 END AS clicked
            FROM activity_activity p
            JOIN insights_membersummary s ON s.member_id = p.member_id
            WHERE p.brand_id = {b} AND p.type = 'purchase' AND p.occurred_at <= {at}
        ) u
        GROUP BY u.day, u.store, u.tier_id, u.segment, u.status
    """


def program_sql(*, brand: Brand, now: datetime) -> str:
    q = Dialect(brand, now)
    b, at = q.lit(brand.pk), q.lit(now)
    nps = q.number("a.attributes", "nps")
    return f"""
        INSERT INTO insights_dailyprogram (brand_id, day, tier_id, segment, new_members, points_earned,
            points_redeemed, points_expired, redemptions, reward_cost, clicks, promoters, passives,
            detractors)
        SELECT {b}, u.day, u.tier_id, u.segment, SUM(u.new_members), SUM(u.earned), SUM(u.redeemed),
               SUM(u.expired), SUM(u.redemptions), SUM(u.cost), SUM(u.clicks), SUM(u.promoters),
               SUM(u.passives), SUM(u.detractors)
        FROM (
            SELECT {q.day("m.joined_at")} AS day, s.tier_id, s.rfm_segment AS segment, 1 AS new_members,
                   0 AS earned, 0 AS redeemed, 0 AS expired, 0 AS redemptions, 0 AS cost,
                   0 AS clicks, 0 AS promoters, 0 AS passives, 0 AS detractors
            FROM members_member m JOIN insights_membersummary s ON s.member_id = m.id
            WHERE m.brand_id = {b} AND m.joined_at <= {at}
            UNION ALL
            SELECT {q.day("e.created_at")}, s.tier_id, s.rfm_segment, 0,
                   CASE WHEN e.kind = 'earn' THEN e.points ELSE 0 END,
                   CASE WHEN e.kind = 'redeem' THEN -e.points ELSE 0 END,
                   CASE WHEN e.kind = 'expire' THEN -e.points ELSE 0 END, 0, 0, 0, 0, 0, 0
            FROM loyalty_ledgerentry e JOIN insights_membersummary s ON s.member_id = e.account_id
            WHERE e.brand_id = {b} AND e.kind IN ('earn', 'redeem', 'expire') AND e.created_at <= {at}
            UNION ALL
            SELECT {q.day("c.issued_at")}, s.tier_id, s.rfm_segment, 0, 0, 0, 0, 1, r.value, 0, 0, 0, 0
            FROM loyalty_coupon c JOIN loyalty_reward r ON r.id = c.reward_id
            JOIN insights_membersummary s ON s.member_id = c.member_id
            WHERE c.brand_id = {b} AND c.status <> 'void' AND c.issued_at <= {at}
            UNION ALL
            SELECT {q.day("a.occurred_at")}, s.tier_id, s.rfm_segment, 0, 0, 0, 0, 0, 0,
                   CASE WHEN a.type = 'message_clicked' THEN 1 ELSE 0 END,
                   CASE WHEN a.type = 'survey_answered' AND {nps} >= 9 THEN 1 ELSE 0 END,
                   CASE WHEN a.type = 'survey_answered' AND {nps} >= 7 AND {nps} < 9 THEN 1 ELSE 0 END,
                   CASE WHEN a.type = 'survey_answered' AND {nps} < 7 THEN 1 ELSE 0 END
            FROM activity_activity a JOIN insights_membersummary s ON s.member_id = a.member_id
            WHERE a.brand_id = {b} AND a.type IN ('message_clicked', 'survey_answered')
              AND a.occurred_at <= {at}
        ) u
        GROUP BY u.day, u.tier_id, u.segment
    """


def months_sql(*, brand: Brand, now: datetime) -> str:
    q = Dialect(brand, now)
    b, at = q.lit(brand.pk), q.lit(now)
    store = f"CASE WHEN a.type = 'purchase' THEN COALESCE({q.text('a.attributes', 'store')}, '') ELSE '' END"
    amount = q.number("a.attributes", "amount")
    return f"""
        INSERT INTO insights_membermonth (brand_id, member_id, month, store, cohort, tier_id, segment, status,
                                          activities, purchases, spend)
        SELECT {b}, u.member_id, u.month, u.store, u.cohort, u.tier_id, u.segment, u.status, COUNT(*),
               SUM(u.purchase), SUM(u.amount)
        FROM (
            SELECT a.member_id, {q.month("a.occurred_at")} AS month, {store} AS store,
                   s.joined_month AS cohort,
                   s.tier_id, s.rfm_segment AS segment, s.status,
                   CASE WHEN a.type = 'purchase' THEN 1 ELSE 0 END AS purchase,
                   CASE WHEN a.type = 'purchase' THEN COALESCE({amount}, 0) ELSE 0 END AS amount
            FROM activity_activity a JOIN insights_membersummary s ON s.member_id = a.member_id
            WHERE a.brand_id = {b} AND a.occurred_at <= {at}
              AND a.type NOT IN {q.names(sorted(rules.PASSIVE_TYPES))}
        ) u
        GROUP BY u.member_id, u.month, u.store, u.cohort, u.tier_id, u.segment, u.status
    """


def funnel_sql(*, brand: Brand, now: datetime) -> str:
    q = Dialect(brand, now)
    b = q.lit(brand.pk)
    today = now.astimezone(ZoneInfo(q.zone)).date()
    day = f"'{today.isoformat()}'" + ("::date" if q.pg else "")
    return f"""
        INSERT INTO insights_funnelday (brand_id, day, stage, tier_id, segment, members)
        SELECT {b}, {day}, s.funnel_stage, s.tier_id, s.rfm_segment, COUNT(*)
        FROM insights_membersummary s WHERE s.brand_id = {b}
        GROUP BY s.funnel_stage, s.tier_id, s.rfm_segment
    """


def rollups_write(*, brand: Brand, now: datetime, cuts: dict[str, list[float]], conversion_days: int) -> None:
    """Rewrite the brand's summaries and daily rollups, and today's funnel counts (call in a transaction)."""
    q = Dialect(brand, now)
    b = q.lit(brand.pk)
    today = now.astimezone(ZoneInfo(q.zone)).date()
    with connection.cursor() as cursor:
        for table in ("membersummary", "dailysales", "dailyprogram", "membermonth"):
            cursor.execute(f"DELETE FROM insights_{table} WHERE brand_id = {b}")
        cursor.execute(f"DELETE FROM insights_funnelday WHERE brand_id = {b} AND day = '{today.isoformat()}'")
        for table, sql in (
            ("summaries", summaries_sql(brand=brand, now=now, cuts=cuts)),
            ("daily sales", sales_sql(brand=brand, now=now, conversion_days=conversion_days)),
            ("daily program", program_sql(brand=brand, now=now)),
            ("member months", months_sql(brand=brand, now=now)),
            ("funnel day", funnel_sql(brand=brand, now=now)),
        ):
            started = time.perf_counter()
            cursor.execute(sql)
            log.info("insights: brand %s, %s in %.2f s", brand.slug, table, time.perf_counter() - started)
