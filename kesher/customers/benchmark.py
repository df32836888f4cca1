"""Customers benchmark: import members from CSV, then find the duplicates among them, on PostgreSQL.

    KESHER_DATABASE_URL=postgresql://.../kesher_bench_customers \
        python -m kesher.customers.benchmark --members 1000000

Writes a CSV of generated people (about one record in four a duplicate of another, kesher/customers/
synthetic.py), imports it with `import_run` (the path `kesher import members` takes) into a fresh brand,
imports it again (every row unchanged), then runs `duplicates_find` over the brand, and prints the times
beside a short pgbench TPC-B run on the same PostgreSQL, the machine's reference. Targets (issue 18):
1,000,000 members imported in under 5 minutes, duplicates among 1,000,000 found in under 10.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import tempfile
import time
from pathlib import Path

import django

from kesher.core.benchmarking import pgbench_tps

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="100,000 members")
    args = parser.parse_args()
    total = 100_000 if args.quick else args.members
    django.setup()
    from django.db import connection

    from kesher.brands.models import Brand
    from kesher.brands.services import brand_create
    from kesher.core.audit import SYSTEM
    from kesher.customers.services import duplicates_find, import_run, import_start
    from kesher.customers.synthetic import people

    print(f"customers benchmark: {total:,} member records on {connection.vendor}", flush=True)
    started = time.monotonic()
    records = people(total * 4 // 5, total - total * 4 // 5)
    folder = Path(tempfile.mkdtemp(prefix="kesher-bench-customers-"))
    path = folder / "members.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["customer id", "first name", "last name", "email", "mobile", "birthday"])
        seen: set[str] = set()
        for p in records:
            # An address is one member's: a duplicate record keeping the same address is one row of the till.
            email = p.email.lower()
            email = "" if email in seen else p.email
            seen.add(p.email.lower())
            writer.writerow([p.external_id, p.first_name, p.last_name, email, p.phone, p.birthday])
    print(f"  file of {total:,} rows written in {time.monotonic() - started:.1f} s", flush=True)
    Brand.objects.filter(slug="bench-customers").delete()
    brand = brand_create(slug="bench-customers", name="Bench customers", default_locale="he")

    started = time.monotonic()
    summary = import_run(job=import_start(brand=brand, kind="members", path=path), actor=SYSTEM)
    imported = time.monotonic() - started
    print(
        f"  import: {summary.created:,} created, {summary.failed:,} refused, in {imported:.1f} s "
        f"({total / imported:,.0f} rows/s; target for 1,000,000: < 300 s, "
        f"this pace gives {1_000_000 / (total / imported):.0f} s)",
        flush=True,
    )
    started = time.monotonic()
    again = import_run(job=import_start(brand=brand, kind="members", path=path), actor=SYSTEM)
    print(f"  import again: {again.unchanged:,} unchanged in {time.monotonic() - started:.1f} s", flush=True)

    started = time.monotonic()
    result = duplicates_find(brand=brand)
    found = time.monotonic() - started
    print(
        f"  dedupe: {result.members:,} members, {result.pairs:,} probable pairs "
        f"(model trained: {result.trained}) "
        f"in {found:.1f} s (target for 1,000,000: < 600 s)",
        flush=True,
    )
    shutil.rmtree(folder, ignore_errors=True)
    settings_url = os.environ.get("KESHER_DATABASE_URL", "")
    tps = pgbench_tps(settings_url) if settings_url.startswith("postgres") else None
    print(
        f"  machine reference: pgbench TPC-B {tps:,.0f} tps (8 clients, scale 10, 10 s)"
        if tps
        else "  machine reference: pgbench not available",
        flush=True,
    )


if __name__ == "__main__":
    main()
