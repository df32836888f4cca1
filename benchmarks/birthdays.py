"""Today's birthdays among 1,000,000 members, by the Gregorian and the Hebrew calendar (target: under 1 s).

Seeds one more brand in the bench database with BENCH_BIRTHDAY_MEMBERS members (default 1,000,000)
in a few INSERT ... SELECT generate_series statements: birthdays are spread over 1930-2009, and the
birthday keys come from a table of every day of those years computed once with the same code the
services use (kesher.members.birthdays). Then times `members_born_on` for today in the brand's time
zone and for a few edge days, loading every member found, as `birthdays_emit` does.

`make bench` runs it at the end; `python -m benchmarks.birthdays` runs it alone (recreating the scratch
database `kesher_bench`).
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import time
import zoneinfo
from datetime import date, datetime, timedelta
from typing import Any

BRAND_SLUG = "bench-birthdays"
FIRST_DAY = date(1930, 1, 1)
LAST_DAY = date(2009, 12, 31)
CHUNK = 250_000
REPEAT = 5


def _say(message: str) -> None:
    print(f"[birthdays] {message}", flush=True)


def _seed(*, brand_id: str, members: int) -> float:
    """Members with keys, by SQL alone; returns the seconds it took (not a measured figure)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from kesher.members.birthdays import gregorian_key, hebrew_key

    started = time.perf_counter()
    days = (LAST_DAY - FIRST_DAY).days + 1
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_birthday_keys (n integer PRIMARY KEY, day date, g smallint, h smallint)"
        )
        buffer = io.StringIO()
        for n in range(days):
            day = FIRST_DAY + timedelta(days=n)
            buffer.write(f"{n}\t{day.isoformat()}\t{gregorian_key(day)}\t{hebrew_key(day)}\n")
        with cursor.cursor.copy("COPY bench_birthday_keys (n, day, g, h) FROM STDIN") as copy:
            copy.write(buffer.getvalue())
        now = timezone.now()
        for start in range(0, members, CHUNK):
            stop = min(start + CHUNK, members)
            with transaction.atomic():
                # 7919 is prime and does not divide the number of days: birthdays spread evenly.
                cursor.execute(
                    """
                    INSERT INTO members_member (
                        id, brand_id, external_id, email, phone, first_name, last_name, birthday,
                        birthday_md, hebrew_birthday_md, locale, interests, status, joined_at, source,
                        card_number, referral_code, consent_email, consent_sms, consent_push,
                        created_at, updated_at
                    )
                    SELECT gen_random_uuid(), %(brand)s, 'bday-' || i, 'bday' || i || '@bench.kesher.test',
                           '+97254' || lpad(i::text, 7, '0'), 'חבר', 'מועדון ' || i, k.day, k.g, k.h,
                           CASE WHEN i %% 4 = 0 THEN 'en' ELSE 'he' END, '["coffee"]'::jsonb,
                           CASE WHEN i %% 50 = 0 THEN 'blocked' ELSE 'active' END, %(now)s, 'bench',
                           '9' || lpad(i::text, 11, '0'), 'B' || lpad(i::text, 10, '0'),
                           i %% 3 = 0, i %% 5 = 0, false, %(now)s, %(now)s
                    FROM generate_series(%(start)s, %(stop)s) AS i
                    JOIN bench_birthday_keys k ON k.n = (i::bigint * 7919) %% %(days)s
                    """,
                    {"brand": brand_id, "now": now, "start": start + 1, "stop": stop, "days": days},
                )
            _say(f"seeded {stop:,} members ({time.perf_counter() - started:.1f} s)")
        cursor.execute("DROP TABLE bench_birthday_keys")
        cursor.execute("ANALYZE members_member")
    return time.perf_counter() - started


def _time_lookup(*, brand_id: str, day: date, calendar: str) -> dict[str, Any]:
    """Loads the active members born on `day`, REPEAT times; the first run is reported apart (cold)."""
    from django.db import connection

    from kesher.members.selectors import members_born_on

    timings = []
    id_timings = []
    found = 0
    for _ in range(REPEAT):
        started = time.perf_counter()
        query = members_born_on(brand_id=brand_id, day=day, calendar=calendar).filter(status="active")
        found = len(list(query))
        timings.append((time.perf_counter() - started) * 1000)
        # The same lookup for the member ids only: the query without building model objects.
        started = time.perf_counter()
        query = members_born_on(brand_id=brand_id, day=day, calendar=calendar).filter(status="active")
        assert len(list(query.values_list("pk", flat=True))) == found
        id_timings.append((time.perf_counter() - started) * 1000)
    query = members_born_on(brand_id=brand_id, day=day, calendar=calendar).filter(status="active")
    with connection.cursor() as cursor:
        sql, params = query.query.sql_with_params()
        cursor.execute(f"EXPLAIN (ANALYZE, TIMING OFF) {sql}", params)
        lines = [row[0].strip() for row in cursor.fetchall()]
    plan = lines[0].split("  (")[0]
    executed = next((line for line in lines if line.startswith("Execution Time")), "")
    sql_ms = float(executed.split(":")[1].split("ms")[0]) if executed else 0.0
    return {
        "day": day.isoformat(),
        "calendar": calendar,
        "members_found": found,
        "first_ms": round(timings[0], 1),
        "median_ms": round(statistics.median(timings[1:]), 1),
        "max_ms": round(max(timings), 1),
        "sql_ms": round(sql_ms, 1),
        "ids_median_ms": round(statistics.median(id_timings), 1),
        "plan": plan,
    }


def birthdays_bench(*, members: int | None = None) -> dict[str, Any]:
    """Seeds the birthday brand in the current (migrated) database and times the lookups."""
    from kesher.brands.services import brand_create

    members = members or int(os.environ.get("BENCH_BIRTHDAY_MEMBERS", "1000000"))
    brand = brand_create(slug=BRAND_SLUG, name="Bench Birthdays", default_locale="he")
    _say(f"seeding {members:,} members with birthdays")
    seed_seconds = _seed(brand_id=str(brand.pk), members=members)
    today = datetime.now(zoneinfo.ZoneInfo(brand.time_zone)).date()
    days = [
        (today, "gregorian"),
        (today, "hebrew"),
        (date(2025, 2, 28), "gregorian"),  # with the 29 February births of a common year
        (date(2025, 3, 14), "hebrew"),  # 14 Adar 5785: Adar, Adar I and Adar II births together
        (date(2025, 11, 21), "hebrew"),  # 1 Kislev 5786: with 30 Heshvan births
    ]
    load_average = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    lookups = [_time_lookup(brand_id=str(brand.pk), day=day, calendar=calendar) for day, calendar in days]
    worst = max(max(lookup["first_ms"], lookup["max_ms"]) for lookup in lookups)
    result = {
        "members": members,
        "seed_seconds": round(seed_seconds, 1),
        "lookups": lookups,
        "worst_ms": worst,
        "target_ms": 1000,
        "met": worst < 1000,
        "load_average": load_average,
    }
    print_birthdays(result)
    return result


def print_birthdays(result: dict[str, Any]) -> None:
    print(f"\nBirthdays among {result['members']:,} members (seeded in {result['seed_seconds']} s)")
    print(
        f"  {'day':<11} {'calendar':<10} {'found':>6} {'first':>9} {'median':>9} {'max':>9}"
        f" {'ids only':>9} {'in SQL':>9}"
    )
    for row in result["lookups"]:
        print(
            f"  {row['day']:<11} {row['calendar']:<10} {row['members_found']:>6}"
            f" {row['first_ms']:>7.1f}ms {row['median_ms']:>7.1f}ms {row['max_ms']:>7.1f}ms"
            f" {row['ids_median_ms']:>7.1f}ms {row['sql_ms']:>7.1f}ms  {row['plan']}"
        )
    verdict = "MET" if result["met"] else "MISSED"
    print(
        f"  slowest {result['worst_ms']:.1f} ms loading the members as model objects ('ids only': the same"
        f" lookup returning member ids; 'in SQL': the database's own execution time);"
        f" target under {result['target_ms']} ms: {verdict}"
    )
    print(f"  load average when the lookups began: {result['load_average']}")


def main() -> int:
    from benchmarks.common import BENCH_DB, OUT_DIR, pg_base_url
    from benchmarks.seed import database_recreate, database_url

    database_recreate(base_url=pg_base_url(), name=BENCH_DB)
    os.environ["KESHER_DATABASE_URL"] = database_url(pg_base_url(), BENCH_DB)
    os.environ["KESHER_VAR_DIR"] = str(OUT_DIR / "var")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["KESHER_LOG_LEVEL"] = "WARNING"
    os.environ.pop("KESHER_BROKER_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"{os.cpu_count()} cores (load average {load}), {os.environ['KESHER_DATABASE_URL']}")
    result = birthdays_bench()
    return 0 if result["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
