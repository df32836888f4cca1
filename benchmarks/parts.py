"""`make bench`: every benchmark in one run, so each figure sits beside the same pgbench reference.

    BENCH_PARTS="api community campaigns" (the default) — any of them, in that order
    BENCH_QUICK=1                                        — smaller data and shorter phases

api: pgbench's TPC-B, then the activity and member API over HTTP, then birthdays among 1,000,000
members (benchmarks/run.py). community: question page, question list and search with 200,000 posts,
with the anonymous page cache and without it (kesher/community/benchmark.py, database
kesher_bench_community). campaigns: render and queue a campaign to 100,000 members, then deliver to a
local SMTP server (kesher/campaigns/benchmark.py). customers: import 1,000,000 members from CSV and find
the duplicates among them (kesher/customers/benchmark.py, database kesher_bench_customers; quick: 100,000).
Each part runs in its own process and database.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARTS = ("api", "community", "campaigns", "customers")
COMMUNITY_DB = "kesher_bench_community"
CUSTOMERS_DB = "kesher_bench_customers"


def _run(argv: list[str], **env: str) -> None:
    print(f"\n== {' '.join(argv[1:])}", flush=True)
    subprocess.run(argv, cwd=ROOT, env={**os.environ, **env}, check=True)


def community(quick: bool) -> None:
    from benchmarks.common import pg_base_url
    from benchmarks.seed import database_recreate, database_url

    database_recreate(base_url=pg_base_url(), name=COMMUNITY_DB)
    url = database_url(pg_base_url(), COMMUNITY_DB)
    kesher = str(Path(sys.executable).with_name("kesher"))
    subprocess.run([kesher, "migrate"], cwd=ROOT, env={**os.environ, "KESHER_DATABASE_URL": url}, check=True)
    posts = ["--posts", "20000"] if quick else []
    module = [sys.executable, "-m", "kesher.community.benchmark", *posts]
    _run(module, KESHER_DATABASE_URL=url)  # as anonymous readers get it: the page cache on
    _run([*module, "--no-page-cache"], KESHER_DATABASE_URL=url)  # every page rendered


def customers(quick: bool) -> None:
    from benchmarks.common import pg_base_url
    from benchmarks.seed import database_recreate, database_url

    database_recreate(base_url=pg_base_url(), name=CUSTOMERS_DB)
    url = database_url(pg_base_url(), CUSTOMERS_DB)
    kesher = str(Path(sys.executable).with_name("kesher"))
    subprocess.run([kesher, "migrate"], cwd=ROOT, env={**os.environ, "KESHER_DATABASE_URL": url}, check=True)
    module = [sys.executable, "-m", "kesher.customers.benchmark", *(["--quick"] if quick else [])]
    _run(module, KESHER_DATABASE_URL=url)


def main() -> int:
    quick = os.environ.get("BENCH_QUICK", "") not in ("", "0", "false", "no")
    wanted = os.environ.get("BENCH_PARTS", " ".join(PARTS)).split()
    unknown = [part for part in wanted if part not in PARTS]
    if unknown:
        print(f"unknown benchmark part {unknown[0]!r}; choose from {', '.join(PARTS)}", file=sys.stderr)
        return 2
    started = time.monotonic()
    for part in PARTS:
        if part not in wanted:
            continue
        if part == "api":
            _run([sys.executable, "-m", "benchmarks.run"])
        elif part == "community":
            community(quick)
        elif part == "customers":
            customers(quick)
        else:
            _run([sys.executable, "-m", "kesher.campaigns.benchmark"])
    print(f"\nmake bench: {', '.join(wanted)} in {time.monotonic() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
