"""What a part's benchmark (`kesher/<part>/benchmark.py`, run by `make bench`) prints beside its own figures:
the machine's reference, measured in the same run on the same PostgreSQL server."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlparse


def pgbench_tps(url: str) -> float | None:
    """TPC-B for 10 s with 8 clients at scale 10 in the benchmark's own database; None without pgbench or on
    SQLite. pgbench's tables are dropped afterwards."""
    pgbench = shutil.which("pgbench") or "/usr/bin/pgbench"
    if not url.startswith("postgres") or not Path(pgbench).exists():
        return None
    parts = urlparse(url)
    conn = [
        "-h",
        parts.hostname or "127.0.0.1",
        "-p",
        str(parts.port or 5432),
        "-U",
        parts.username or "root",
    ]
    database = (parts.path or "/").lstrip("/")
    subprocess.run([pgbench, *conn, "-i", "-q", "-s", "10", database], check=True, capture_output=True)
    out = subprocess.run(
        [pgbench, *conn, "-c", "8", "-j", "2", "-T", "10", database],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    subprocess.run([pgbench, *conn, "-i", "-I", "d", database], capture_output=True)  # drop its tables
    found = re.search(r"^tps = ([\d.]+)", out, re.MULTILINE)
    return float(found.group(1)) if found else None


def reference_line() -> str:
    """The reference as one printed line, for the database in KESHER_DATABASE_URL."""
    tps = pgbench_tps(os.environ.get("KESHER_DATABASE_URL", ""))
    if tps is None:
        return "  machine reference: pgbench not available (or not on PostgreSQL)"
    return f"  machine reference: pgbench TPC-B, 8 clients, scale 10, same server: {tps:,.0f} tps"
