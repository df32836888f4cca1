"""Webhooks speed benchmark: fan-out of N events to 3 endpoints, then delivery by ONE dispatcher worker.

    KESHER_DATABASE_URL=postgresql://.../kesher_bench_webhooks python -m kesher.webhooks.benchmark --events N

Three fast local receivers (threaded http.server, each answering 204) stand for the brand's endpoints.
The fan-out writes one delivery per endpoint per event (kesher/webhooks/services/fanout.py `fan_out`, as
the domain events' listener does); then one process calls the dispatch task in a loop, as a worker
would, until nothing is due. Prints events/s, deliveries/s and the total seconds (target: 10,000 events
under 60 s) beside a short pgbench TPC-B run on the same PostgreSQL, the machine's reference.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import django

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


def _receiver() -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/hooks"


def pgbench_tps(url: str) -> float | None:
    """TPC-B for 10 s with 8 clients at scale 10 in the same database server: the machine reference."""
    pgbench = shutil.which("pgbench") or "/usr/bin/pgbench"
    if not Path(pgbench).exists():
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    args = parser.parse_args()
    django.setup()
    from django.conf import settings
    from django.db import connection

    from kesher.brands.models import Brand
    from kesher.brands.services import brand_create
    from kesher.core.audit import SYSTEM
    from kesher.core.events import Event
    from kesher.webhooks.models import Delivery, DeliveryStatus, Endpoint
    from kesher.webhooks.services import endpoint_create, fan_out
    from kesher.webhooks.services.fanout import routes_changed
    from kesher.webhooks.tasks import webhooks_dispatch_task

    settings.KESHER_WEBHOOKS_ALLOW_PRIVATE = True  # the receivers are on this machine
    brand = Brand.objects.filter(slug=BRAND_SLUG).first() or brand_create(slug=BRAND_SLUG, name="Bench")
    Endpoint.objects.filter(brand=brand).delete()  # a run starts from an empty log
    servers = [_receiver() for _ in range(3)]
    for _server, url in servers:
        endpoint_create(brand=brand, url=url, events=["points.changed"], actor=SYSTEM)
    routes_changed(brand.pk)
    print(f"webhooks benchmark: {args.events:,} events to 3 endpoints on {connection.vendor}", flush=True)

    started = time.monotonic()
    for n in range(args.events):
        fan_out(
            Event(brand_id=brand.pk, type="points.changed", data={"member_id": None, "delta": n}), kick=False
        )
    fanned = time.monotonic() - started
    deliveries = Delivery.objects.filter(brand=brand).count()
    print(
        f"  fan-out: {deliveries:,} deliveries in {fanned:.1f} s ({args.events / fanned:,.0f} events/s)",
        flush=True,
    )

    sending = time.monotonic()
    while webhooks_dispatch_task():  # one worker: the task again until nothing is due
        pass
    sent = time.monotonic() - sending
    total = time.monotonic() - started
    done = Delivery.objects.filter(brand=brand, status=DeliveryStatus.SUCCEEDED).count()
    print(
        f"  dispatch (one worker): {done:,} delivered in {sent:.1f} s ({done / sent:,.0f} deliveries/s); "
        f"receivers got {_Handler.received:,}",
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
    for server, _url in servers:
        server.shutdown()
    if done != deliveries:
        raise SystemExit(f"{deliveries - done} deliveries were not delivered")


if __name__ == "__main__":
    main()
