"""`make bench`: pgbench's TPC-B as the reference, then Kesher's API over HTTP on the same PostgreSQL.

Steps: pgbench (scale 10, 8 clients) on a scratch database; a scratch Kesher database with one brand
and 100,000 members; the in-process cost of each request (queries, commits, time); a short sweep of
server worker/thread counts; then single activities, member reads and bulk activities with 8
concurrent clients against `kesher run`. Prints a table and writes var/bench/results.json.
BENCH_QUICK=1 runs a shorter version (10,000 members, 10 s phases).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from benchmarks.common import BENCH_DB, OUT_DIR, ROOT, pg_base_url
from benchmarks.load import LoadResult, client_name, cpu_cores_used, run_load, sample_window
from benchmarks.report import print_report

PGBENCH_DB = "kesher_bench_pgbench"
PORT = int(os.environ.get("BENCH_PORT", "8199"))
BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/13")
CACHE_URL = os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/14")  # rate limits, remembered keys


def broker_flush() -> None:
    """Empty the benchmark's broker database, so queued work from an earlier run is not counted."""
    import redis

    redis.Redis.from_url(BROKER_URL).flushdb()
    redis.Redis.from_url(CACHE_URL).flushdb()


def broker_queued() -> int:
    import redis

    return int(redis.Redis.from_url(BROKER_URL).llen("celery"))


BULK_SIZE = 1000
# (workers, threads) tried for single activities: granian worker processes, each running the WSGI
# application in that many threads.
CANDIDATES = [(2, 2), (2, 4), (4, 2)]  # the first is `kesher run`'s default on 2 cores
SWEEP_MARGIN = 1.05  # another pair replaces the first only when faster by more than the sweep's noise
STARTED = time.monotonic()


@dataclass(frozen=True)
class Plan:
    quick: bool
    members: int
    pgbench_seconds: int
    sweep_seconds: int
    single_seconds: int
    read_seconds: int
    bulk_seconds: int
    warmup_seconds: int
    alone_seconds: int

    @classmethod
    def from_env(cls) -> Plan:
        quick = os.environ.get("BENCH_QUICK", "") not in ("", "0", "false", "no")
        if quick:
            return cls(True, 10_000, 10, 4, 10, 10, 10, 2, 4)
        return cls(False, 100_000, 30, 6, 30, 20, 30, 2, 6)


def say(message: str) -> None:
    print(f"[{time.monotonic() - STARTED:5.0f} s] {message}", flush=True)


# --- 1. the reference: pgbench TPC-B ------------------------------------------------------------------


@dataclass
class PgbenchResult:
    tps: float
    latency_ms: float
    clients: int
    threads: int
    seconds: int
    scale: int
    cpu: dict[str, float]


def pgbench_run(plan: Plan) -> PgbenchResult:
    from benchmarks.seed import database_recreate

    pgbench = shutil.which("pgbench") or "/usr/bin/pgbench"
    url = urlparse(pg_base_url())
    conn = ["-h", url.hostname or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "root"]
    scale = 10
    database_recreate(base_url=pg_base_url(), name=PGBENCH_DB)
    say(f"pgbench: initialising {PGBENCH_DB} at scale {scale}")
    subprocess.run(
        [pgbench, *conn, "-i", "-q", "-s", str(scale), PGBENCH_DB], check=True, capture_output=True
    )
    say(f"pgbench: TPC-B, 8 clients, 2 threads, {plan.pgbench_seconds} s")
    process = subprocess.Popen(
        [pgbench, *conn, "-c", "8", "-j", "2", "-T", str(plan.pgbench_seconds), PGBENCH_DB],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    cpu = cpu_cores_used(*sample_window(time.time(), plan.pgbench_seconds), server_pgid=None)
    stdout, stderr = process.communicate()
    tps = re.search(r"^tps = ([\d.]+)", stdout, re.MULTILINE)
    latency = re.search(r"^latency average = ([\d.]+) ms", stdout, re.MULTILINE)
    if process.returncode != 0 or tps is None:
        raise RuntimeError(f"pgbench failed ({process.returncode}):\n{stdout}\n{stderr}")
    return PgbenchResult(
        tps=float(tps.group(1)),
        latency_ms=float(latency.group(1)) if latency else 0.0,
        clients=8,
        threads=2,
        seconds=plan.pgbench_seconds,
        scale=scale,
        cpu=cpu,
    )


# --- 2. the Kesher server -------------------------------------------------------------------------------


class Server:
    """`kesher run` (granian) in its own process group, so it and its workers stop together; with
    floor=True, granian serving benchmarks/floor.py's bare application instead."""

    def __init__(self, *, workers: int, threads: int, floor: bool = False) -> None:
        self.workers = workers
        self.threads = threads
        self.floor = floor
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = OUT_DIR / f"server-{'floor-' if floor else ''}{workers}x{threads}.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{PORT}"

    @property
    def pgid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self) -> None:
        from benchmarks.seed import database_url

        deadline = time.monotonic() + 15  # the previous server's workers may still be closing
        while not port_free(PORT) and time.monotonic() < deadline:
            time.sleep(0.2)
        if not port_free(PORT):
            raise RuntimeError(f"port {PORT} is in use; stop what listens there or set BENCH_PORT")
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("KESHER_BROKER_URL", "KESHER_CACHE_URL", "KESHER_DEBUG", "DJANGO_SETTINGS_MODULE")
        }
        env.update(
            # As in production: deferred consumers go to a broker instead of running inside the request.
            KESHER_BROKER_URL=BROKER_URL,
            KESHER_CACHE_URL=CACHE_URL,  # as production is set up: rate limits shared by the workers
            KESHER_DATABASE_URL=database_url(pg_base_url(), BENCH_DB),
            KESHER_LOG_FORMAT="text",
            KESHER_LOG_LEVEL="WARNING",
            KESHER_RATE_LIMIT_PER_MINUTE="1000000000",
            KESHER_VAR_DIR=str(OUT_DIR / "var"),
            PYTHONPATH=str(ROOT),  # serve this tree's code, whatever the venv's editable install points at
        )
        kesher = Path(sys.executable).with_name("kesher")
        argv = [str(kesher), "run", "--port", str(PORT), "--workers", str(self.workers)]
        argv += ["--threads", str(self.threads)]
        if self.floor:
            from benchmarks.floor import FLOOR_DB

            env["FLOOR_DATABASE_URL"] = database_url(pg_base_url(), FLOOR_DB)
            granian = str(Path(sys.executable).with_name("granian"))
            argv = [granian, "--interface", "wsgi", "--port", str(PORT)]
            argv += ["--workers", str(self.workers), "--blocking-threads", str(self.threads)]
            argv += ["--no-access-log", "benchmarks.floor:application"]
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited ({self.process.returncode}); see {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/healthz", timeout=2) as answer:
                    if answer.status == 200 and self.process.poll() is None:
                        return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"the server did not answer /healthz within 90 s; see {self.log_path}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        pgid = self.process.pid
        try:
            os.killpg(pgid, signal.SIGINT)  # the server's quick shutdown: in-flight requests are dropped
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(pgid, signal.SIGKILL)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass
        # workers left behind by a crashed master
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)


def port_free(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def drive(
    srv: Server,
    mode: str,
    seconds: float,
    source: str,
    *,
    api_key: str,
    members_file: Path,
    token: str,
    connections: int = 8,
) -> LoadResult:
    """`mode` requests (activity, bulk or member) against `srv` for `seconds`, tagged with `source`."""
    return run_load(
        mode,
        seconds,
        base_url=srv.base_url,
        api_key=api_key,
        members_file=members_file,
        token=f"{token}-{source}",
        source=source,
        bulk_size=BULK_SIZE,
        server_pgid=srv.pgid,
        connections=connections,
    )


def settle(timeout: float = 90) -> None:
    """Let PostgreSQL finish what earlier writes left it (a checkpoint, autovacuum), so a phase is not
    charged for the one before: run a checkpoint, then wait for autovacuum workers to end."""
    import psycopg

    from benchmarks.seed import database_url

    with psycopg.connect(database_url(pg_base_url(), "postgres"), autocommit=True) as conn:
        conn.execute("CHECKPOINT")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'"
            ).fetchone()
            if not row or row[0] == 0:
                return
            time.sleep(1)


def activities_committed(*, source: str) -> int:
    """Activities from `source` that other connections can see, that is, committed ones."""
    from django.db import connection

    from kesher.activity.models import Activity

    count = Activity.objects.filter(source=source).count()
    connection.close()
    return count


# --- 3. the run -----------------------------------------------------------------------------------------


def main() -> int:
    plan = Plan.from_env()
    started = time.monotonic()
    (OUT_DIR / "var" / "static").mkdir(parents=True, exist_ok=True)
    if not port_free(PORT):
        print(f"port {PORT} is in use; set BENCH_PORT to a free one", file=sys.stderr)
        return 2

    from benchmarks.seed import database_recreate, database_url, server_version

    results: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": plan.quick,
        "machine": {
            "cores": os.cpu_count(),
            "load_average_at_start": [round(v, 2) for v in os.getloadavg()],
            "python": platform.python_version(),
            "postgresql": server_version(pg_base_url()),
        },
        "client": client_name(),
        "code": _code_version(),
    }
    say(
        f"{os.cpu_count()} cores, PostgreSQL {results['machine']['postgresql']},"
        f" load client {results['client']}{' (quick run)' if plan.quick else ''}"
    )

    pgbench = pgbench_run(plan)
    results["pgbench"] = asdict(pgbench)
    say(f"pgbench TPC-B: {pgbench.tps:,.0f} tps")

    database_recreate(base_url=pg_base_url(), name=BENCH_DB)
    os.environ["KESHER_DATABASE_URL"] = database_url(pg_base_url(), BENCH_DB)
    os.environ["KESHER_VAR_DIR"] = str(OUT_DIR / "var")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["KESHER_LOG_LEVEL"] = "WARNING"
    os.environ["KESHER_LOG_FORMAT"] = "text"
    os.environ["KESHER_BROKER_URL"] = BROKER_URL  # in-process costs too are measured as in production
    os.environ["KESHER_CACHE_URL"] = CACHE_URL
    import django

    django.setup()
    from kesher.activity.registry import consumers_for

    # The server runs with a broker (as in production): deferred consumers are queued, not run in the request.
    results["purchase_consumers"] = {
        "immediate": [name for name, _ in consumers_for("purchase", immediate=True)],
        "deferred_queued": [name for name, _ in consumers_for("purchase", immediate=False)],
    }
    results["broker"] = BROKER_URL
    broker_flush()
    from benchmarks.queries import print_costs, request_costs
    from benchmarks.seed import club_create

    say(f"Kesher: migrating {BENCH_DB} and seeding {plan.members:,} members")
    club = club_create(members=plan.members)
    members_file = OUT_DIR / "members.txt"
    members_file.write_text("\n".join(club.member_ids) + "\n")
    results["members"] = plan.members

    say("in-process cost of one request (queries, commits, time)")
    costs = request_costs(api_key=club.api_key, member_ids=club.member_ids)
    from django.db import connection

    connection.close()
    print_costs(costs)
    results["request_costs"] = [{**asdict(cost), "python_ms": round(cost.python_ms, 2)} for cost in costs]

    run_token = uuid.uuid4().hex[:10]
    server: Server | None = None

    def load(mode: str, seconds: float, source: str, srv: Server, connections: int = 8) -> LoadResult:
        return drive(
            srv,
            mode,
            seconds,
            source,
            api_key=club.api_key,
            members_file=members_file,
            token=run_token,
            connections=connections,
        )

    previous_handler = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        settle()
        sweep: list[dict[str, Any]] = []
        candidates = _candidates()
        for workers, threads in candidates:
            server = Server(workers=workers, threads=threads)
            server.start()
            load("activity", plan.warmup_seconds, f"warm-{workers}x{threads}", server)
            probe = load("activity", plan.sweep_seconds, f"sweep-{workers}x{threads}", server)
            server.stop()
            say(
                f"sweep {workers} workers x {threads} threads: {probe.rps:,.0f} activities/s, "
                f"p99 {probe.p99_ms:.1f} ms, failed {probe.failed_requests}"
            )
            sweep.append({"workers": workers, "threads": threads, **probe.as_json()})
        usable = [s for s in sweep if s["errors"] == {}] or sweep
        best = max(usable, key=lambda s: s["requests_per_second"])
        first = sweep[0]
        if usable[0] is first and best["requests_per_second"] < first["requests_per_second"] * SWEEP_MARGIN:
            best = first
        results["sweep"] = sweep
        results["server"] = {"workers": best["workers"], "threads": best["threads"]}

        server = Server(workers=best["workers"], threads=best["threads"])
        server.start()
        say(f"server: {server.workers} workers x {server.threads} threads at {server.base_url}")
        load("activity", plan.warmup_seconds, "warm-single", server)
        settle()
        say(f"a. single activities for {plan.single_seconds} s")
        single = load("activity", plan.single_seconds, "bench-single", server)
        results["single"] = single.as_json()
        results["single"]["activities_committed"] = activities_committed(source="bench-single")

        settle()
        load("member", plan.warmup_seconds, "warm-read", server)
        say(f"c. member reads for {plan.read_seconds} s")
        read = load("member", plan.read_seconds, "bench-read", server)
        results["read"] = read.as_json()
        say("   and with one connection, for the latency of a read with nothing queued before it")
        results["read_alone"] = load("member", plan.alone_seconds, "bench-read-alone", server, 1).as_json()

        settle()
        say(f"b. bulk activities ({BULK_SIZE} a request) for {plan.bulk_seconds} s")
        # Count what the database committed while the client ran (counted as soon as it stops, before
        # requests still in flight can commit): a bulk request takes seconds, so counting whole answers
        # would round the rate to a handful of requests.
        bulk_from = time.monotonic()
        bulk = load("bulk", plan.bulk_seconds, "bench-bulk", server)
        committed = activities_committed(source="bench-bulk")
        window = time.monotonic() - bulk_from
        server.stop()
        results["bulk"] = {
            **bulk.as_json(),
            "activities_committed": committed,
            "window_seconds": round(window, 2),
            "activities_per_second": round(committed / window, 1),
            "activities_in_answered_requests": bulk.bulk_created,
        }
        results["floor"] = floor_run(plan, workers=server.workers, threads=server.threads, token=run_token)
    finally:
        if server is not None:
            server.stop()
        signal.signal(signal.SIGTERM, previous_handler)

    from kesher.loyalty.services import ledger_verify

    say("checking the points ledger's invariants after the run")
    results["ledger_breaches"] = len(ledger_verify(brand=None))
    results["deferred_tasks_queued"] = broker_queued()
    from kesher.activity.models import OutboxEntry

    results["outbox_waiting"] = OutboxEntry.objects.count()  # no worker runs here: the relay never does
    from benchmarks.birthdays import birthdays_bench

    say("today's birthdays among 1,000,000 members (another brand in the same database)")
    results["birthdays"] = birthdays_bench()
    results["elapsed_seconds"] = round(time.monotonic() - started, 1)
    results["targets"] = _targets(results)
    (OUT_DIR / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print_report(results)
    print(f"\nfigures written to {OUT_DIR / 'results.json'}")
    return 0


def floor_run(plan: Plan, *, workers: int, threads: int, token: str) -> dict[str, Any]:
    """The same single and bulk loads against benchmarks/floor.py's bare application, with as many workers
    and threads as Kesher had: what no Python server can beat on this machine."""
    from benchmarks.floor import floor_activities, floor_prepare

    say(f"floor: a bare WSGI application writing the same rows, {plan.members:,} accounts (floor.py)")
    members_file = OUT_DIR / "floor-members.txt"
    floor_prepare(base_url=pg_base_url(), members=plan.members, members_file=members_file)
    settle()
    server = Server(workers=workers, threads=threads, floor=True)
    server.start()
    try:

        def load(mode: str, seconds: float, source: str) -> LoadResult:
            return drive(
                server, mode, seconds, source, api_key="none", members_file=members_file, token=token
            )

        load("activity", plan.warmup_seconds, "floor-warm")
        say(f"floor a. single purchases for {plan.single_seconds} s")
        single = load("activity", plan.single_seconds, "floor-single").as_json()
        settle()
        say(f"floor b. bulk purchases ({BULK_SIZE} a request) for {plan.bulk_seconds} s")
        bulk_from = time.monotonic()
        bulk = load("bulk", plan.bulk_seconds, "floor-bulk").as_json()
        committed = floor_activities(base_url=pg_base_url(), source="floor-bulk")
        window = time.monotonic() - bulk_from
    finally:
        server.stop()
    bulk.update(
        activities_committed=committed,
        window_seconds=round(window, 2),
        activities_per_second=round(committed / window, 1),
    )
    return {"workers": workers, "threads": threads, "single": single, "bulk": bulk}


def _code_version() -> str:
    """The commit measured, marked when the working tree had uncommitted changes."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit}{' with uncommitted changes' if dirty else ''}"


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _candidates() -> list[tuple[int, int]]:
    """BENCH_SERVER=4x2 skips the sweep; BENCH_SERVER=2x4,4x2 sets what the sweep tries."""
    raw = os.environ.get("BENCH_SERVER", "").strip()
    if not raw:
        return CANDIDATES
    pairs = []
    for part in raw.split(","):
        workers, _, threads = part.strip().partition("x")
        pairs.append((int(workers), int(threads or "1")))
    return pairs


def _targets(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    tps = results["pgbench"]["tps"]
    return {
        "single": {
            "figure": round(results["single"]["requests_per_second"], 1),
            "target": round(tps / 2, 1),
            "rule": "activities/s >= half of pgbench TPC-B tps",
            "met": results["single"]["requests_per_second"] >= tps / 2 and not results["single"]["errors"],
        },
        "bulk": {
            "figure": results["bulk"]["activities_per_second"],
            "target": round(tps * 5, 1),
            "rule": "activities/s >= 5 x pgbench TPC-B tps",
            "met": results["bulk"]["activities_per_second"] >= tps * 5,
        },
        "read": {
            "figure": round(results["read"]["p99_ms"], 2),
            "target": 10.0,
            "rule": "GET /members/{id} p99 < 10 ms",
            "met": results["read"]["p99_ms"] < 10 and not results["read"]["errors"],
        },
    }


if __name__ == "__main__":
    sys.exit(main())
