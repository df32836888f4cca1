"""What every benchmark shares: where results go, the scratch database's name and the PostgreSQL to use.

The scenarios (birthdays, queries, floor) and the runners (run, parts) import this module, never each
other's runner, so the harness has no import circle.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "var" / "bench"
BENCH_DB = "kesher_bench"


def pg_base_url() -> str:
    return os.environ.get("BENCH_PG_URL", "postgresql://root@127.0.0.1:5432").rstrip("/")
