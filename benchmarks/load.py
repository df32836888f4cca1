"""The HTTP load clients (wrk, or several Python processes when wrk is absent) and CPU accounting.

Nothing here imports Django, so the client processes stay small and start fast.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import random
import resource
import shutil
import subprocess
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

LUA_SCRIPT = Path(__file__).with_name("kesher.lua")
CONNECTIONS = 8
STORES = ["tel-aviv", "haifa", "jerusalem", "beer-sheva", "online"]


@dataclass
class LoadResult:
    mode: str
    client: str
    seconds: float
    requests: int
    errors: dict[str, int]
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    client_cpu_seconds: float
    bulk_created: int = 0
    bulk_failed: int = 0
    first_error: str = ""
    cpu: dict[str, float] = field(default_factory=dict)  # cores used on average, by kind of process

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def failed_requests(self) -> int:
        return sum(self.errors.values())

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["requests_per_second"] = round(self.rps, 1)
        return data


def client_name() -> str:
    """wrk (C, event loop: a few percent of one core at these rates) unless absent or BENCH_CLIENT=python."""
    wanted = os.environ.get("BENCH_CLIENT", "").strip().lower()
    if wanted == "python" or (wanted != "wrk" and shutil.which("wrk") is None):
        return "python"
    return "wrk"


def run_load(
    mode: str,
    seconds: float,
    *,
    base_url: str,
    api_key: str,
    members_file: Path,
    token: str,
    source: str,
    bulk_size: int = 1000,
    server_pgid: int | None = None,
    connections: int = CONNECTIONS,
) -> LoadResult:
    """Drive `mode` (activity, bulk or member) over `connections` keep-alive connections for `seconds`."""
    children_before = _children_cpu()
    runner = _run_wrk if client_name() == "wrk" else _run_python
    result, window = runner(
        mode, seconds, base_url, api_key, members_file, token, source, bulk_size, connections
    )
    result.client_cpu_seconds = round(_children_cpu() - children_before, 2)
    result.cpu = cpu_cores_used(*window, server_pgid=server_pgid)
    return result


def sample_window(starts_at: float, seconds: float) -> tuple[CpuSnapshot, CpuSnapshot]:
    """CPU snapshots inside the steady part of a run, while the processes that exit at its end still live."""
    margin = min(1.0, seconds * 0.1)
    time.sleep(max(starts_at + margin - time.time(), 0))
    before = cpu_snapshot()
    time.sleep(max(starts_at + seconds - margin - time.time(), 0.1))
    return before, cpu_snapshot()


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# --- wrk ------------------------------------------------------------------------------------------


def _run_wrk(
    mode: str,
    seconds: float,
    base_url: str,
    api_key: str,
    members_file: Path,
    token: str,
    source: str,
    bulk_size: int,
    connections: int,
) -> tuple[LoadResult, tuple[CpuSnapshot, CpuSnapshot]]:
    timeout = "120s" if mode == "bulk" else "30s"
    argv = [
        shutil.which("wrk") or "wrk",
        "--threads",
        str(min(2, connections)),
        "--connections",
        str(connections),
        "--duration",
        f"{max(int(seconds), 1)}s",
        "--timeout",
        timeout,
        "--script",
        str(LUA_SCRIPT),
        base_url,
        "--",
        mode,
        api_key,
        str(members_file),
        token,
        source,
        str(bulk_size),
    ]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    window = sample_window(time.time(), seconds)
    stdout, stderr = process.communicate()
    line = next((ln for ln in stdout.splitlines() if ln.startswith("KESHER_RESULT ")), None)
    if process.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({process.returncode}):\n{stdout}\n{stderr}")
    raw = json.loads(line.removeprefix("KESHER_RESULT "))
    latency = raw["latency_us"]
    errors = {name: count for name, count in raw["errors"].items() if count}
    return LoadResult(
        mode=mode,
        client="wrk",
        seconds=raw["duration_us"] / 1e6,
        # wrk counts a non-2xx answer as a request too; count only the good ones as throughput
        requests=raw["requests"] - raw["errors"]["status"],
        errors=errors,
        p50_ms=latency["p50"] / 1000,
        p95_ms=latency["p95"] / 1000,
        p99_ms=latency["p99"] / 1000,
        max_ms=latency["max"] / 1000,
        client_cpu_seconds=0.0,
        bulk_created=raw["bulk"]["created"],
        bulk_failed=raw["bulk"]["failed"],
        first_error=raw["first_error"],
    ), window


# --- the Python client: one process per connection, each with a keep-alive http.client connection ---


def _run_python(
    mode: str,
    seconds: float,
    base_url: str,
    api_key: str,
    members_file: Path,
    token: str,
    source: str,
    bulk_size: int,
    connections: int,
) -> tuple[LoadResult, tuple[CpuSnapshot, CpuSnapshot]]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    start_at = time.time() + 1.5  # every process connects and waits, so they all start together
    processes = [
        context.Process(
            target=_python_worker,
            args=(queue, index, mode, start_at, seconds, base_url, api_key, str(members_file), token, source),
            kwargs={"bulk_size": bulk_size},
        )
        for index in range(connections)
    ]
    for process in processes:
        process.start()
    window = sample_window(start_at, seconds)
    reports = [queue.get() for _ in processes]
    for process in processes:
        process.join()
    latencies = sorted(value for report in reports for value in report["latencies"])
    statuses: Counter[str] = Counter()
    for report in reports:
        statuses.update(report["errors"])
    elapsed = max((report["finished_at"] for report in reports), default=start_at) - start_at
    return LoadResult(
        mode=mode,
        client="python",
        seconds=elapsed,
        requests=len(latencies),
        errors=dict(statuses),
        p50_ms=_percentile(latencies, 50),
        p95_ms=_percentile(latencies, 95),
        p99_ms=_percentile(latencies, 99),
        max_ms=latencies[-1] if latencies else 0.0,
        client_cpu_seconds=0.0,
        bulk_created=sum(report["created"] for report in reports),
        bulk_failed=sum(report["failed"] for report in reports),
        first_error=next((report["first_error"] for report in reports if report["first_error"]), ""),
    ), window


def _percentile(ordered: list[float], pct: float) -> float:
    if not ordered:
        return 0.0
    rank = max(int(round(pct / 100 * len(ordered) + 0.5)) - 1, 0)
    return ordered[min(rank, len(ordered) - 1)]


def _python_worker(
    queue: Any,
    index: int,
    mode: str,
    start_at: float,
    seconds: float,
    base_url: str,
    api_key: str,
    members_file: str,
    token: str,
    source: str,
    *,
    bulk_size: int,
) -> None:
    host_port = base_url.removeprefix("http://").rstrip("/")
    host, _, port = host_port.partition(":")
    members = Path(members_file).read_text().split()
    rng = random.Random(index * 7919 + int(start_at))
    connection = http.client.HTTPConnection(host, int(port or 80), timeout=120)
    auth = {"Authorization": f"Bearer {api_key}"}
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    created = failed = sent = 0
    first_error = ""

    def purchase() -> dict[str, Any]:
        return {"amount": f"{rng.randint(5, 900)}.{rng.randint(0, 99):02d}", "store": rng.choice(STORES)}

    time.sleep(max(start_at - time.time(), 0))
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        sent += 1
        headers = dict(auth)
        body: bytes | None = None
        if mode == "member":
            method, path = "GET", f"/api/v1/members/{rng.choice(members)}"
        elif mode == "activity":
            method, path = "POST", "/api/v1/activities"
            headers["Content-Type"] = "application/json"
            headers["Idempotency-Key"] = f"{token}-p{index}-{sent}"
            item = {"member_id": rng.choice(members), "type": "purchase", "source": source}
            body = json.dumps({**item, "attributes": purchase()}).encode()
        else:
            method, path = "POST", "/api/v1/activities/bulk"
            headers["Content-Type"] = "application/json"
            items = [
                {
                    "member_id": rng.choice(members),
                    "type": "purchase",
                    "source": source,
                    "attributes": purchase(),
                    "idempotency_key": f"{token}-p{index}-{sent}-{n}",
                }
                for n in range(bulk_size)
            ]
            body = json.dumps({"activities": items}).encode()
        started = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException) as exc:
            errors[type(exc).__name__] += 1
            connection.close()
            continue
        took_ms = (time.perf_counter() - started) * 1000
        if response.status >= 300:
            errors["status"] += 1
            first_error = first_error or f"{response.status} {payload[:300].decode(errors='replace')}"
            continue
        latencies.append(took_ms)
        if mode == "bulk":
            answer = json.loads(payload)
            created += answer["created"]
            failed += answer["failed"]
    connection.close()
    queue.put(
        {
            "latencies": latencies,
            "errors": dict(errors),
            "created": created,
            "failed": failed,
            "first_error": first_error,
            "finished_at": time.time(),
        }
    )


# --- where the CPU went ------------------------------------------------------------------------------

TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class CpuSnapshot:
    at: float
    per_process: dict[int, tuple[str, int, int]]  # pid -> (command, process group, ticks used)
    machine_busy: int
    machine_total: int


def cpu_snapshot() -> CpuSnapshot:
    per_process: dict[int, tuple[str, int, int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        command = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        # after the command: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
        per_process[int(entry.name)] = (command, int(fields[2]), int(fields[11]) + int(fields[12]))
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]
    return CpuSnapshot(time.time(), per_process, sum(values) - idle, sum(values))


def cpu_cores_used(before: CpuSnapshot, after: CpuSnapshot, *, server_pgid: int | None) -> dict[str, float]:
    """Average cores used during the window by the Kesher server, PostgreSQL, the load client and the rest."""
    wall = after.at - before.at
    if wall <= 0:
        return {}
    own_group = os.getpgrp()
    used: Counter[str] = Counter()  # the load client: wrk or pgbench, or this run's own processes
    for pid, (command, group, ticks) in after.per_process.items():
        earlier = before.per_process.get(pid)
        spent = ticks - (earlier[2] if earlier and earlier[0] == command else 0)
        if server_pgid is not None and group == server_pgid:
            kind = "kesher server"
        elif command.startswith("postgres"):
            kind = "postgres"
        elif command in ("wrk", "pgbench") or group == own_group:
            kind = "load client"
        else:
            kind = "other"
        used[kind] += spent
    cores = {kind: round(ticks / TICKS / wall, 2) for kind, ticks in used.items()}
    busy = (after.machine_busy - before.machine_busy) / max(after.machine_total - before.machine_total, 1)
    cores["machine busy"] = round(busy * (os.cpu_count() or 1), 2)
    return cores
