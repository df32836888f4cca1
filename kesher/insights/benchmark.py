"""Insights benchmark: the nightly recomputation and the dashboard's first paint over a large club, and the
BG/NBD fit on CDNOW.

    KESHER_DATABASE_URL=postgresql://.../kesher_bench_insights python -m kesher.insights.benchmark \
        --members 1000000 --activities 20000000

Fills a brand "bench-insights" with members, points accounts, activities (purchases with amount and
store, visits, shares, clicks, helpful reviews, accepted answers, referrals) and a ledger line per
purchase, all with SQL `generate_series` (no Python loop over rows), then times `insights_refresh` (the
nightly task: the rollups' INSERT … SELECT, the RFM cut points and BG/NBD fit, the personas, the
liability), the dashboard page rendered from the rollups for a signed-in owner (first and median of five),
and `bgnbd_fit` on the CDNOW summary. Targets: dashboard < 1 s, recomputation < 10 min, CDNOW < 5 s.
Beside them, the machine's reference: how long this PostgreSQL takes to count 10,000,000 rows of
generate_series, and to scan the activity table once.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

SLUG = "bench-insights"
OWNER = "bench-insights-owner@example.org"

MEMBERS_SQL = """
INSERT INTO members_member (id, brand_id, external_id, email, phone, first_name, last_name, locale, interests,
    status, joined_at, source, card_number, referral_code, consent_email, consent_sms, consent_push,
    created_at, updated_at)
SELECT md5('m' || g)::uuid, %(brand)s, 'ext-' || g, 'member' || g || '@bench.example.org', NULL,
    'חבר', 'מספר ' || g, 'he', '[]'::jsonb, CASE WHEN g %% 50 = 0 THEN 'prospect' ELSE 'active' END,
    now() - (((g * 7919) %% 1000) || ' days')::interval, 'bench', lpad(g::text, 16, '0'), 'R' || g,
    g %% 2 = 0, g %% 3 = 0, FALSE, now(), now()
FROM generate_series(1::bigint, %(members)s::bigint) g
"""

ACCOUNTS_SQL = """
INSERT INTO loyalty_pointsaccount (member_id, brand_id, balance, pending, lifetime_earned, lifetime_redeemed,
    allow_debt, tier_id, tier_since, updated_at)
SELECT md5('m' || g)::uuid, %(brand)s, 0, 0, 0, 0, FALSE,
    CASE WHEN g %% 10 = 0 THEN %(gold)s::uuid ELSE NULL END, NULL, now()
FROM generate_series(1::bigint, %(members)s::bigint) g
"""

# Types by g % 20: half purchases, a quarter visits, the rest the community's and the messages'.
ACTIVITIES_SQL = """
INSERT INTO activity_activity (id, brand_id, member_id, type, source, occurred_at, recorded_at, attributes,
    points_awarded)
SELECT md5('a' || g)::uuid, %(brand)s,
    md5('m' || (1 + ((g * 2654435761) %% 1000003) %% %(members)s))::uuid,
    t.type, 'bench', now() - ((((g::bigint * 40503) %% 63072000)) || ' seconds')::interval, now(),
    CASE WHEN t.type = 'purchase' THEN jsonb_build_object('amount', (10 + (g * 7919) %% 490)::text,
                                                          'currency', 'ILS', 'store', 'store-' || (g %% 5))
         WHEN t.type = 'visit' THEN jsonb_build_object('store', 'store-' || (g %% 5))
         ELSE '{}'::jsonb END,
    0
FROM generate_series(%(first)s::bigint, %(last)s::bigint) g
CROSS JOIN LATERAL (SELECT CASE
    WHEN g %% 20 < 10 THEN 'purchase' WHEN g %% 20 < 15 THEN 'visit' WHEN g %% 20 = 15 THEN 'social_share'
    WHEN g %% 20 = 16 THEN 'message_clicked' WHEN g %% 20 = 17 THEN 'review_helpful'
    WHEN g %% 20 = 18 THEN 'answer_accepted' ELSE 'referral' END AS type) t
"""

LEDGER_SQL = """
INSERT INTO loyalty_ledgerentry (id, account_id, brand_id, kind, points, pending, balance_after, activity_id,
    description, created_at)
SELECT md5('l' || a.id::text)::uuid, a.member_id, a.brand_id,
    CASE WHEN right(a.id::text, 1) = '0' THEN 'redeem' ELSE 'earn' END,
    CASE WHEN right(a.id::text, 1) = '0' THEN -50 ELSE (a.attributes ->> 'amount')::int END,
    FALSE, 0, a.id, 'bench', a.occurred_at
FROM activity_activity a WHERE a.brand_id = %(brand)s AND a.type = 'purchase'
"""


def _init() -> None:
    django.setup()


def fill(*, members: int, activities: int) -> Any:
    from django.db import connection

    from kesher.brands.models import Brand
    from kesher.brands.services import brand_create
    from kesher.loyalty.models import Tier

    brand = Brand.objects.filter(slug=SLUG).first()
    if brand is not None:
        return brand
    brand = brand_create(slug=SLUG, name="מועדון הבנצ'מרק", default_locale="he")
    gold = Tier.objects.create(brand=brand, name="זהב", threshold=1000)
    params: dict[str, Any] = {"brand": brand.pk, "members": members, "gold": gold.pk}
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(MEMBERS_SQL, params)
        cursor.execute(ACCOUNTS_SQL, params)
        print(f"  {members:,} members and accounts in {time.perf_counter() - started:.0f} s", flush=True)
        started = time.perf_counter()
        step = 2_000_000
        for first in range(1, activities + 1, step):
            last = min(activities, first + step - 1)
            cursor.execute(ACTIVITIES_SQL, {**params, "first": first, "last": last})
        print(f"  {activities:,} activities in {time.perf_counter() - started:.0f} s", flush=True)
        started = time.perf_counter()
        cursor.execute(LEDGER_SQL, params)
        print(f"  ledger lines in {time.perf_counter() - started:.0f} s", flush=True)
        cursor.execute(
            "ANALYZE members_member, loyalty_pointsaccount, activity_activity, loyalty_ledgerentry"
        )
    return brand


def reference(connection: Any) -> dict[str, float]:
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute("SELECT count(*) FROM generate_series(1, 10000000)")
        count_s = time.perf_counter() - started
        started = time.perf_counter()
        cursor.execute("SELECT count(*) FROM activity_activity")
        scan_s = time.perf_counter() - started
    return {"count_10m_s": round(count_s, 2), "activity_scan_s": round(scan_s, 2)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--activities", type=int, default=20_000_000)
    args = parser.parse_args(argv)
    _init()
    import logging

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("  %(message)s"))
    steps = logging.getLogger("kesher.insights.services")
    steps.addHandler(handler)
    steps.setLevel(logging.INFO)
    steps.propagate = False
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from lifetimes.datasets import load_cdnow_summary

    from kesher.brands.models import StaffMembership
    from kesher.insights import clv
    from kesher.insights.services import insights_refresh

    print(
        f"insights benchmark on {connection.vendor}, {args.members:,} members, "
        f"{args.activities:,} activities",
        flush=True,
    )
    started = time.perf_counter()
    brand = fill(members=args.members, activities=args.activities)
    print(f"data ready in {time.perf_counter() - started:.0f} s", flush=True)
    machine = reference(connection)
    print(
        f"machine reference: count(*) of 10,000,000 generate_series rows {machine['count_10m_s']} s; "
        f"one scan of the activity table {machine['activity_scan_s']} s",
        flush=True,
    )

    started = time.perf_counter()
    fit = insights_refresh(brand=brand)
    refresh_s = time.perf_counter() - started
    print(
        f"nightly recomputation: {refresh_s:.1f} s (target < 600 s); {fit.buyers:,} buyers, "
        f"BG/NBD {'fitted' if fit.bgnbd else 'not fitted'}",
        flush=True,
    )

    user = get_user_model().objects.filter(username=OWNER).first() or get_user_model().objects.create_user(
        username=OWNER, email=OWNER, password="bench-only-password-1"
    )
    StaffMembership.objects.get_or_create(brand=brand, user=user, defaults={"role": "owner"})
    from django.test.utils import override_settings

    plain = override_settings(  # the page as `kesher run` serves it, without collectstatic's manifest
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    )
    plain.enable()
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = "he"
    url = f"/insights/{SLUG}/"
    times = []
    for _ in range(6):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    first_s, median_s = times[0], statistics.median(times[1:])
    print(f"dashboard from the rollups: first {first_s:.2f} s, median of 5 {median_s:.2f} s (target < 1 s)")
    filtered = []
    for _ in range(3):
        started = time.perf_counter()
        client.get(url, {"store": "store-1", "segment": "at_risk"})
        filtered.append(time.perf_counter() - started)
    print(f"dashboard with a store and a segment: median {statistics.median(filtered):.2f} s", flush=True)

    cdnow = load_cdnow_summary(index_col=[0])
    started = time.perf_counter()
    model = clv.bgnbd_fit(frame=cdnow)
    cdnow_s = time.perf_counter() - started
    print(f"BG/NBD on CDNOW ({len(cdnow):,} customers): {cdnow_s:.2f} s (target < 5 s), r={model.r:.3f}")
    return {
        "members": args.members,
        "activities": args.activities,
        "machine": machine,
        "refresh_s": round(refresh_s, 1),
        "dashboard_first_s": round(first_s, 3),
        "dashboard_median_s": round(median_s, 3),
        "dashboard_filtered_s": round(statistics.median(filtered), 3),
        "cdnow_fit_s": round(cdnow_s, 2),
    }


if __name__ == "__main__":
    main()
