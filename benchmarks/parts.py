"""`make bench`: every benchmark in one run, so each figure sits beside the same pgbench reference.

    BENCH_PARTS="api community campaigns …" (the default: all of PARTS) — any of them, in that order
    BENCH_QUICK=1                                                        — smaller data and shorter phases

api: pgbench's TPC-B, then the activity and member API over HTTP, then birthdays among 1,000,000
members (benchmarks/run.py). campaigns: render and queue a campaign to 100,000 members, then deliver to
a local SMTP server (kesher/campaigns/benchmark.py). Every other part runs its own
`kesher/<part>/benchmark.py` in a PostgreSQL database of its own, made afresh and migrated
(`kesher_bench_<part>`):
- community: question page, question list and search with 200,000 posts, with the anonymous page cache
  and without it;
- reviews: a product's review block with 10,000 reviews at 8 readers;
- surveys: a survey's results, its console page and answers with 100,000 responses;
- insights: the nightly recomputation, the dashboard and the CDNOW fit over 1,000,000 members and
  20,000,000 activities;
- customers: import 1,000,000 members from CSV and find the duplicates among them (quick: 100,000);
- web: the portal's home (the member's own page) and the magazine's home in the reader's order, p95;
- webhooks: fan-out of 10,000 events to 3 local endpoints, delivered by one dispatcher worker (quick: 2,000);
- listening: 100,000 mentions taken in with sentiment, topics, members and cases (quick: 20,000).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# part → the runs of its kesher/<part>/benchmark.py: (arguments, arguments in quick mode)
IN_OWN_DATABASE: dict[str, list[tuple[list[str], list[str]]]] = {
    # as anonymous readers get it (the page cache on), then with every page rendered
    "community": [([], ["--posts", "20000"]), (["--no-page-cache"], ["--posts", "20000", "--no-page-cache"])],
    "reviews": [([], ["--others", "5000", "--requests", "200"])],  # always 10,000 of the product
    "surveys": [([], ["--responses", "20000", "--requests", "40"])],
    "insights": [([], ["--members", "100000", "--activities", "2000000"])],
    "customers": [([], ["--quick"])],
    "webhooks": [([], ["--events", "2000"])],
    "web": [([], ["--requests", "50"])],  # the member's own page and the magazine in the reader's order
    "listening": [([], ["--mentions", "20000", "--members", "5000"])],
}
PARTS = ("api", "community", "campaigns", *[part for part in IN_OWN_DATABASE if part != "community"])


def _run(argv: list[str], **env: str) -> None:
    print(f"\n== {' '.join(argv[1:])}", flush=True)
    subprocess.run(argv, cwd=ROOT, env={**os.environ, **env}, check=True)


def in_own_database(part: str, quick: bool) -> None:
    from benchmarks.common import pg_base_url
    from benchmarks.seed import database_recreate, database_url

    name = f"kesher_bench_{part}"
    database_recreate(base_url=pg_base_url(), name=name)
    url = database_url(pg_base_url(), name)
    kesher = str(Path(sys.executable).with_name("kesher"))
    subprocess.run([kesher, "migrate"], cwd=ROOT, env={**os.environ, "KESHER_DATABASE_URL": url}, check=True)
    for full, smaller in IN_OWN_DATABASE[part]:
        _run(
            [sys.executable, "-m", f"kesher.{part}.benchmark", *(smaller if quick else full)],
            KESHER_DATABASE_URL=url,
        )


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
        elif part == "campaigns":
            _run([sys.executable, "-m", "kesher.campaigns.benchmark"])
        else:
            in_own_database(part, quick)
    print(f"\nmake bench: {', '.join(wanted)} in {time.monotonic() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
