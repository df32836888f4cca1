"""What one request costs inside the server: SQL statements, commits and time, measured in-process.

Run by benchmarks.run after seeding; also on its own against the last benchmark database:
    .venv/bin/python -m benchmarks.queries [--profile]
--profile adds a CPU profile of single activities and member reads, grouped by library.
"""

from __future__ import annotations

import json
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RequestCost:
    endpoint: str
    per: str  # "request" or "activity"
    queries: float
    commits: float  # durable transactions: outermost atomic blocks plus writes run in autocommit
    savepoints: float  # SAVEPOINT / RELEASE / ROLLBACK TO statements (already counted in queries)
    sql_ms: float
    wall_ms: float
    statements: list[str] = field(default_factory=list)  # one sample request, in order

    @property
    def python_ms(self) -> float:
        return max(self.wall_ms - self.sql_ms, 0.0)


@contextmanager
def _counting() -> Iterator[dict[str, Any]]:
    """Capture statements (CaptureQueriesContext) and count commits while the block runs."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    tally: dict[str, Any] = {"commits": 0, "autocommit_writes": 0, "sql_seconds": 0.0}

    def watch(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        if not context["connection"].in_atomic_block and sql.lstrip()[:6].upper() in (
            "INSERT",
            "UPDATE",
            "DELETE",
        ):
            tally["autocommit_writes"] += 1
        # Django's captured "time" is rounded to whole milliseconds, too coarse here.
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            tally["sql_seconds"] += time.perf_counter() - started

    original_commit = connection.commit

    def commit() -> None:
        tally["commits"] += 1
        original_commit()

    connection.commit = commit  # type: ignore[method-assign]
    try:
        with connection.execute_wrapper(watch), CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            yield tally
            tally["wall_ms"] = (time.perf_counter() - started) * 1000
        tally["queries"] = list(captured.captured_queries)
    finally:
        del connection.commit  # back to the class's method


def _summarise(endpoint: str, per: str, samples: list[dict[str, Any]], divisor: int) -> RequestCost:
    def median(values: list[float]) -> float:
        return round(statistics.median(values) / divisor, 2)

    sample = samples[len(samples) // 2]
    # The middle sample (warm caches, no once-a-minute key update); a bulk request's first 60 are enough.
    statements = [" ".join(q["sql"].split())[:140] for q in sample["queries"][:60]]
    return RequestCost(
        endpoint=endpoint,
        per=per,
        queries=median([len(s["queries"]) for s in samples]),
        commits=median([s["commits"] + s["autocommit_writes"] for s in samples]),
        savepoints=median(
            [
                sum(
                    q["sql"].lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO"))
                    for q in s["queries"]
                )
                for s in samples
            ]
        ),
        sql_ms=median([s["sql_seconds"] * 1000 for s in samples]),
        wall_ms=median([s["wall_ms"] for s in samples]),
        statements=statements,
    )


def request_costs(
    *, api_key: str, member_ids: list[str], samples: int = 30, bulk_size: int = 50
) -> list[RequestCost]:
    """Median cost of a single activity, a bulk item and a member read, over `samples` requests each."""
    from django.test import Client

    client = Client()
    auth = {"Authorization": f"Bearer {api_key}"}
    run = uuid.uuid4().hex[:8]
    costs = []

    def purchase(index: int) -> dict[str, Any]:
        return {
            "member_id": member_ids[(index * 7919) % len(member_ids)],
            "type": "purchase",
            "source": "bench-queries",
            "attributes": {"amount": "123.40", "store": "tel-aviv"},
        }

    measured: list[dict[str, Any]] = []
    for index in range(samples):
        with _counting() as tally:
            answer = client.post(
                "/api/v1/activities",
                data=json.dumps(purchase(index)),
                content_type="application/json",
                headers={**auth, "Idempotency-Key": f"q-{run}-{index}"},
            )
        _expect(answer, 201)
        measured.append(tally)
    costs.append(_summarise("POST /api/v1/activities", "request", measured, 1))

    measured = []
    for index in range(max(samples // 5, 3)):
        items = [
            {**purchase(index * bulk_size + n), "idempotency_key": f"qb-{run}-{index}-{n}"}
            for n in range(bulk_size)
        ]
        with _counting() as tally:
            answer = client.post(
                "/api/v1/activities/bulk",
                data=json.dumps({"activities": items}),
                content_type="application/json",
                headers=auth,
            )
        _expect(answer, 200)
        if answer.json()["created"] != bulk_size:
            raise RuntimeError(f"bulk created {answer.json()['created']} of {bulk_size}")
        measured.append(tally)
    costs.append(
        _summarise(
            f"POST /api/v1/activities/bulk (per item, {bulk_size} a request)", "activity", measured, bulk_size
        )
    )

    measured = []
    for index in range(samples):
        with _counting() as tally:
            answer = client.get(
                f"/api/v1/members/{member_ids[(index * 104729) % len(member_ids)]}", headers=auth
            )
        _expect(answer, 200)
        measured.append(tally)
    costs.append(_summarise("GET /api/v1/members/{id}", "request", measured, 1))
    return costs


def _expect(answer: Any, status: int) -> None:
    if answer.status_code != status:
        raise RuntimeError(f"expected {status}, got {answer.status_code}: {answer.content[:300]!r}")


AREAS = [  # (part of a file's path, what to call it), first match wins
    ("psycopg", "psycopg (driver)"),
    ("django/db", "Django ORM (building SQL, making rows)"),
    ("/ninja/", "django-ninja"),
    ("pydantic", "pydantic"),
    ("allauth", "allauth middleware"),
    ("whitenoise", "whitenoise middleware"),
    ("django/", "Django request handling (middleware, urls, i18n, http)"),
    ("/kesher/", "Kesher's own code"),
    ("/config/", "Kesher's own code"),
    ("~", "built-in functions"),
]


def profile_requests(*, api_key: str, member_ids: list[str], requests: int = 300, top: int = 30) -> str:
    """CPU profile (process time, so other load on the machine does not count) of in-process requests."""
    import cProfile
    import io
    import pstats

    from django.test import Client

    client = Client()
    run = uuid.uuid4().hex[:8]
    auth = {"Authorization": f"Bearer {api_key}"}

    def one_activity(index: int) -> None:
        body = {
            "member_id": member_ids[(index * 7919) % len(member_ids)],
            "type": "purchase",
            "attributes": {"amount": "50.00"},
        }
        client.post(
            "/api/v1/activities",
            data=json.dumps(body),
            content_type="application/json",
            headers={**auth, "Idempotency-Key": f"prof-{run}-{index}"},
        )

    def one_read(index: int) -> None:
        client.get(f"/api/v1/members/{member_ids[(index * 104729) % len(member_ids)]}", headers=auth)

    out = io.StringIO()
    for name, call in (("POST /api/v1/activities", one_activity), ("GET /api/v1/members/{id}", one_read)):
        for index in range(30):  # warm caches and connections
            call(index)
        cpu_started = time.process_time()
        for index in range(30, 30 + requests):
            call(index)
        plain_ms = (time.process_time() - cpu_started) / requests * 1000
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        for index in range(30 + requests, 30 + 2 * requests):
            call(index)
        profiler.disable()
        stats = pstats.Stats(profiler, stream=out)
        by_area: Counter[str] = Counter()
        raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
        for (filename, _line, _function), (_cc, _nc, own_time, _cum, _callers) in raw.items():
            area = next((label for part, label in AREAS if part in filename), "other Python")
            by_area[area] += own_time
        total = sum(by_area.values()) or 1.0
        out.write(
            f"\n=== {name}: {plain_ms:.2f} ms of server CPU a request, in-process, without the profiler\n"
        )
        out.write("share of the profiled CPU time by where the code lives:\n")
        for area, spent in by_area.most_common():
            out.write(f"  {area:<58} {spent / total * 100:5.1f}%\n")
        stats.sort_stats("cumulative").print_stats(r"kesher|middleware", top)
    return out.getvalue()


def print_costs(costs: list[RequestCost], *, show_statements: bool = True) -> None:
    print(f"{'endpoint':<58} {'queries':>8} {'commits':>8} {'savepts':>8} {'SQL ms':>8} {'wall ms':>8}")
    for cost in costs:
        print(
            f"{cost.endpoint + ' /' + cost.per:<58} {cost.queries:>8g} {cost.commits:>8g}"
            f" {cost.savepoints:>8g} {cost.sql_ms:>8.2f} {cost.wall_ms:>8.2f}"
        )
    if show_statements and costs:
        print(f"\nstatements of one {costs[0].endpoint}:")
        kinds: Counter[str] = Counter()
        for number, statement in enumerate(costs[0].statements, 1):
            kinds[statement.split()[0].upper()] += 1
            print(f"  {number:>2}. {statement}")
        print("  by kind: " + ", ".join(f"{kind} {count}" for kind, count in kinds.most_common()))


def main() -> None:
    import argparse
    import os

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", action="store_true", help="also profile single activities and reads")
    args = parser.parse_args()
    from benchmarks.common import BENCH_DB, pg_base_url
    from benchmarks.seed import BRAND_SLUG, database_url

    os.environ["KESHER_DATABASE_URL"] = database_url(pg_base_url(), BENCH_DB)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["KESHER_LOG_LEVEL"] = "WARNING"  # as the benchmark's server runs
    os.environ["KESHER_LOG_FORMAT"] = "text"
    import django

    django.setup()
    from kesher.brands.selectors import brand_get
    from kesher.brands.services import api_key_create
    from kesher.members.models import Member

    brand = brand_get(slug=BRAND_SLUG)
    key = api_key_create(brand=brand, scope="all", name="queries").raw_key
    member_ids = [str(pk) for pk in Member.objects.filter(brand=brand).values_list("pk", flat=True)[:20000]]
    print_costs(request_costs(api_key=key, member_ids=member_ids))
    if args.profile:
        print(profile_requests(api_key=key, member_ids=member_ids))


if __name__ == "__main__":
    main()
