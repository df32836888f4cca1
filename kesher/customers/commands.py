"""The `kesher import` and `kesher dedupe` commands (added to kesher/cli.py's parser)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def commands_add(sub: Any) -> None:
    p = sub.add_parser("import", help="import members, purchases or opening balances from CSV or XLSX")
    p.add_argument("kind", choices=["members", "purchases", "balances"])
    p.add_argument("file")
    p.add_argument("--brand", required=True, help="the brand's slug")
    p.add_argument("--dry-run", action="store_true", help="check every row and report; write nothing")
    p.add_argument("--report", help="write the problems here (.csv or .xlsx)")
    p.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN", help="map a column by hand")
    p.set_defaults(func=cmd_import)
    p = sub.add_parser("dedupe", help="find probable duplicate members and store them for review")
    p.add_argument("--brand", required=True)
    p.add_argument("--min-probability", type=float, default=0.5)
    p.set_defaults(func=cmd_dedupe)


def _brand(slug: str) -> Any:
    from kesher.brands.models import Brand

    brand = Brand.objects.filter(slug=slug).first()
    if brand is None:
        raise SystemExit(f"no brand {slug!r}")
    return brand


def cmd_import(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from kesher.core.audit import SYSTEM
    from kesher.core.errors import KesherError
    from kesher.customers.readers import rows_count
    from kesher.customers.reports import report_csv, report_xlsx
    from kesher.customers.services import import_run, import_start

    brand = _brand(args.brand)
    mapping = dict(item.split("=", 1) for item in args.map) or None
    try:
        job = import_start(brand=brand, kind=args.kind, path=Path(args.file).resolve(), mapping=mapping)
    except KesherError as error:
        print(f"cannot import: {error.message}")
        return 2
    print("columns: " + ", ".join(f"{name} ← {column!r}" for name, column in job.mapping.items()))
    total = rows_count(job.path)
    start = 0 if args.dry_run else job.last_row
    if start:
        print(f"resuming after row {start} of {total}")
    with tqdm(
        total=total, initial=start, unit="rows", desc="checking" if args.dry_run else "importing"
    ) as bar:
        summary = import_run(job=job, actor=SYSTEM, dry_run=args.dry_run, progress=bar.update)  # type: ignore[arg-type]
    verb = "would be" if args.dry_run else "were"
    print(
        f"{summary.total} rows: {summary.created} {verb} created, {summary.updated} updated, "
        f"{summary.unchanged} unchanged, {summary.failed} with problems"
        + (" (dry run: nothing written)" if args.dry_run else "")
    )
    if args.report:
        out = Path(args.report)
        if out.suffix.lower() == ".xlsx":
            out.write_bytes(report_xlsx(summary.problems))
        else:
            out.write_text(report_csv(summary.problems), encoding="utf-8")
        print(f"report: {out}")
    for checked in summary.problems[:10]:
        print(f"  line {checked.number + 1}: " + "; ".join(p.message for p in checked.problems))
    return 0


def cmd_dedupe(args: argparse.Namespace) -> int:
    from kesher.customers.services import duplicates_find

    result = duplicates_find(brand=_brand(args.brand), min_probability=args.min_probability)
    model = "trained on the brand's members" if result.trained else "the default model (few members)"
    print(
        f"{result.members} members compared ({model}): {result.pairs} probable pairs, {result.new_pairs} new"
    )
    return 0
