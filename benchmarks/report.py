"""The benchmark's table, printed from its results (also on its own: `python -m benchmarks.report`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent.parent / "var" / "bench" / "results.json"
WIDTH = 104


def _row(label: str, measured: str, target: str = "", result: str = "") -> str:
    return f"{label:<46}{measured:<28}{target:<24}{result}".rstrip()


def _percentiles(load: dict[str, Any]) -> str:
    return f"{load['p50_ms']:.1f} / {load['p95_ms']:.1f} / {load['p99_ms']:.1f} ms"


def _cpu_line(cpu: dict[str, float]) -> str:
    order = ["kesher server", "postgres", "load client", "other", "machine busy"]
    return ", ".join(f"{kind} {cpu[kind]:.2f}" for kind in order if kind in cpu)


def print_report(results: dict[str, Any]) -> None:
    pg, machine, server = results["pgbench"], results["machine"], results["server"]
    single, read, bulk = results["single"], results["read"], results["bulk"]
    targets = results["targets"]

    def verdict(name: str) -> str:
        return "MET" if targets[name]["met"] else "MISSED"

    print("\n" + "=" * WIDTH)
    print(
        f"Kesher benchmark{' (QUICK: fewer members, shorter phases)' if results['quick'] else ''}"
        f" — {machine['cores']} cores, PostgreSQL {machine['postgresql']}"
    )
    print(
        f"{results['members']:,} members; granian {server['workers']} workers x {server['threads']}"
        f" threads (chosen by the sweep); load client {results['client']}, 8 concurrent connections;"
        f" load average at start {machine['load_average_at_start'][0]}"
    )
    print(f"code: {results.get('code', 'unknown')}")
    print("=" * WIDTH)
    print(_row("figure", "measured", "target", "result"))
    print("-" * WIDTH)
    print(_row(f"pgbench TPC-B (scale {pg['scale']}, -c 8 -j 2, {pg['seconds']} s)", f"{pg['tps']:,.0f} tps"))
    print(
        _row(
            "a. POST /api/v1/activities (one each)",
            f"{single['requests_per_second']:,.0f} activities/s",
            f">= {targets['single']['target']:,.0f} (pgbench / 2)",
            verdict("single"),
        )
    )
    print(_row("   latency p50 / p95 / p99", _percentiles(single)))
    print(
        _row(
            "b. POST /api/v1/activities/bulk, 1,000 each",
            f"{bulk['activities_per_second']:,.0f} activities/s",
            f">= {targets['bulk']['target']:,.0f} (pgbench x 5)",
            verdict("bulk"),
        )
    )
    print(
        _row(
            "   committed / whole requests answered",
            f"{bulk['activities_committed']:,} / {bulk['requests']}",
        )
    )
    print(
        _row(
            "c. GET /api/v1/members/{id}: p50 / p95 / p99", _percentiles(read), "p99 < 10 ms", verdict("read")
        )
    )
    print(_row("   throughput", f"{read['requests_per_second']:,.0f} requests/s"))
    if "read_alone" in results:
        print(_row("   with one connection: p50 / p95 / p99", _percentiles(results["read_alone"])))
    floor = results.get("floor")
    if floor:
        print(_row("floor: a bare WSGI app writing the same rows", "(benchmarks/floor.py)"))
        for name, label in (("single", "a."), ("bulk", "b.")):
            rate = floor[name]["requests_per_second" if name == "single" else "activities_per_second"]
            share = rate / targets[name]["target"] * 100 if targets[name]["target"] else 0.0
            target = f"{share:.0f}% of {label}'s target"
            print(_row(f"   {label} same load", f"{rate:,.0f} activities/s", target))
    print(
        _row(
            "ledger invariants after the run",
            "hold" if results["ledger_breaches"] == 0 else f"{results['ledger_breaches']} BREACHES",
        )
    )
    if "deferred_tasks_queued" in results:
        print(_row("deferred tasks left queued on the broker", f"{results['deferred_tasks_queued']:,}"))
    if "outbox_waiting" in results:
        print(_row("activities waiting in the outbox (no worker)", f"{results['outbox_waiting']:,}"))
    print("-" * WIDTH)
    for name in ("single", "bulk", "read"):
        phase = results[name]
        if phase["errors"] or phase.get("bulk_failed"):
            print(
                f"FAILURES in {name}: requests {phase['errors']}, bulk items {phase.get('bulk_failed', 0)};"
                f" first: {phase['first_error'][:200]}"
            )

    print(f"cores used on average, of {machine['cores']} (sampled inside each phase):")
    print(f"  {'pgbench':<10} {_cpu_line(pg['cpu'])}")
    for name, label in (("single", "a. single"), ("bulk", "b. bulk"), ("read", "c. read")):
        print(f"  {label:<10} {_cpu_line(results[name]['cpu'])}")
    print("CPU time per request under load (cores used x seconds / answered):")
    rows = [
        (results["single"], "a. one activity", single["requests"], "kesher server"),
        (results["bulk"], "b. one bulk item", bulk["activities_committed"], "kesher server"),
        (results["read"], "c. one member read", read["requests"], "kesher server"),
    ]
    if floor:
        rows += [
            (floor["single"], "floor: one purchase", floor["single"]["requests"], "bare server  "),
            (floor["bulk"], "floor: one bulk item", floor["bulk"]["activities_committed"], "bare server  "),
        ]
    for phase, label, count, server_name in rows:
        if count:
            app = phase["cpu"].get("kesher server", 0) * phase["seconds"] / count * 1000
            db = phase["cpu"].get("postgres", 0) * phase["seconds"] / count * 1000
            print(f"  {label:<20} {server_name} {app:6.2f} ms   postgres {db:6.2f} ms")
    consumers = results.get("purchase_consumers")
    if consumers:
        print(
            f"a purchase runs consumers {', '.join(consumers['immediate']) or 'none'} in its transaction and"
            f" leaves {', '.join(consumers['deferred_queued']) or 'none'} to a worker through the outbox"
        )
    print("in-process cost of one request, no concurrency (benchmarks/queries.py):")
    for cost in results["request_costs"]:
        print(
            f"  {cost['endpoint'] + ' /' + cost['per']:<62} {cost['queries']:g} statements,"
            f" {cost['commits']:g} commits, SQL {cost['sql_ms']:.2f} of {cost['wall_ms']:.2f} ms"
        )
    print(f"server sweep (single activities, {round(results['sweep'][0]['seconds'])} s each):")
    for probe in results["sweep"]:
        print(
            f"  {probe['workers']} workers x {probe['threads']} threads:"
            f" {probe['requests_per_second']:>7,.0f} activities/s, p99 {probe['p99_ms']:.1f} ms,"
            f" failed {sum(probe['errors'].values())}"
        )
    busiest = max(
        [pg["cpu"].get("other", 0.0)]
        + [results[name]["cpu"].get("other", 0.0) for name in ("single", "bulk", "read")]
    )
    if busiest >= 0.25:
        print(
            f"NOTE: other processes on this machine used up to {busiest:.2f} cores during the phases,"
            " so the figures above are lower than this machine can do alone;"
            " the CPU time per request is the steadier guide."
        )
    print(f"whole run: {results['elapsed_seconds']:.0f} s")


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS
    print_report(json.loads(path.read_text()))
