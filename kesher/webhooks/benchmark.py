"""Webhooks speed benchmark: fan-out of N events to 3 endpoints, then delivery by ONE dispatcher worker.

    KESHER_DATABASE_URL=postgresql://.../kesher_bench_webhooks python -m kesher.webhooks.benchmark --events N

Three fast local receivers (threaded http.server answering 204, in a process of their own so they do not
share the dispatcher's interpreter) stand for the brand's endpoints. The events are announced with
`event_emit`, as the parts do, in transactions of `--per-transaction` (100 by default, as a bulk
activities upload would; 1 for a request each): the fan-out writes one delivery per endpoint per event
inside them (kesher/webhooks/services/fanout.py). Then one process calls the dispatch task in a loop, as
a worker would, until nothing is due. Prints events/s, deliveries/s and the total seconds (target:
10,000 events under 60 s) beside a short pgbench TPC-B run on the same PostgreSQL, the machine's
reference.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import django

from kesher.core.benchmarking import pgbench_tps

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

BRAND_SLUG = "bench-webhooks"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    received = 0
    lock = threading.Lock()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        with _Handler.lock:
            _Handler.received += 1
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def _receivers(count: int, ports: Any, stop: Any, received: Any) -> None:
    """In a process of its own: `count` receivers; their ports go out on `ports`, the total on `received`."""
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), _Handler) for _ in range(count)]
    for server in servers:
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
    ports.put([server.server_address[1] for server in servers])
    stop.wait()
    for server in servers:
        server.shutdown()
    received.put(_Handler.received)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--per-transaction", type=int, default=100)
    args = parser.parse_args()
    context = multiprocessing.get_context("fork")  # before Django: the child holds no connections
    ports, stop, received = context.Queue(), context.Event(), context.Queue()
    receivers = context.Process(target=_receivers, args=(3, ports, stop, received), daemon=True)
    receivers.start()
    urls = [f"http://127.0.0.1:{port}/hooks" for port in ports.get(timeout=30)]
    django.setup()
    from django.conf import settings
    from django.db import connection, transaction

    from kesher.brands.models import Brand
    from kesher.brands.services import brand_create
    from kesher.core.audit import SYSTEM
    from kesher.core.events import event_emit
    from kesher.webhooks.models import Delivery, DeliveryStatus, Endpoint
    from kesher.webhooks.services import endpoint_create, fanout
    from kesher.webhooks.services.fanout import routes_changed
    from kesher.webhooks.tasks import webhooks_dispatch_task

    settings.KESHER_WEBHOOKS_ALLOW_PRIVATE = True  # the receivers are on this machine
    brand = Brand.objects.filter(slug=BRAND_SLUG).first() or brand_create(slug=BRAND_SLUG, name="Bench")
    Endpoint.objects.filter(brand=brand).delete()  # a run starts from an empty log
    for url in urls:
        endpoint_create(brand=brand, url=url, events=["points.changed"], actor=SYSTEM)
    routes_changed(brand.pk)
    per = max(1, args.per_transaction)
    fanout.dispatch_kick = lambda: None  # the two phases are timed apart: the dispatcher runs below
    print(
        f"webhooks benchmark: {args.events:,} events to 3 endpoints on {connection.vendor}, "
        f"{per} per transaction; load {os.getloadavg()[0]:.1f}",
        flush=True,
    )

    started, cpu = time.monotonic(), time.process_time()
    for first in range(0, args.events, per):
        with transaction.atomic():
            for n in range(first, min(first + per, args.events)):
                event_emit(brand_id=brand.pk, type="points.changed", data={"member_id": None, "delta": n})
    fanned, fan_cpu = time.monotonic() - started, time.process_time() - cpu
    deliveries = Delivery.objects.filter(brand=brand).count()
    print(
        f"  fan-out: {deliveries:,} deliveries in {fanned:.1f} s ({args.events / fanned:,.0f} events/s; "
        f"this process's CPU {fan_cpu:.1f} s)",
        flush=True,
    )

    sending, cpu = time.monotonic(), time.process_time()
    while webhooks_dispatch_task():  # one worker: the task again until nothing is due
        pass
    sent, send_cpu = time.monotonic() - sending, time.process_time() - cpu
    stop.set()
    got = received.get(timeout=30)
    receivers.join(timeout=30)
    total = time.monotonic() - started
    done = Delivery.objects.filter(brand=brand, status=DeliveryStatus.SUCCEEDED).count()
    print(
        f"  dispatch (one worker): {done:,} delivered in {sent:.1f} s ({done / sent:,.0f} deliveries/s; "
        f"CPU {send_cpu:.1f} s); "
        f"receivers got {got:,}",
        flush=True,
    )
    print(
        f"  total: {total:.1f} s for {args.events:,} events, {args.events / total:,.0f} events/s end to end "
        f"(target: 10,000 events under 60 s)",
        flush=True,
    )
    url = os.environ.get("KESHER_DATABASE_URL", "")
    tps = pgbench_tps(url) if url.startswith("postgres") else None
    print(
        f"  machine reference: pgbench TPC-B, 8 clients, scale 10: {tps:,.0f} tps"
        if tps
        else "  machine reference: pgbench not available",
        flush=True,
    )
    if done != deliveries:
        raise SystemExit(f"{deliveries - done} deliveries were not delivered")


if __name__ == "__main__":
    main()
