"""Reviews speed benchmark: a product's review block with 10,000 reviews of that product, under 8 readers.

    KESHER_DATABASE_URL=postgresql://.../kesher_bench_reviews python -m kesher.reviews.benchmark

Fills a brand "bench-reviews" (once; later runs reuse it) with 10,000 published reviews of one product and
30,000 of others, written straight to the table in batches, and the products' rating rollups. Then
measures p50/p95 with N reader processes of (a) the API's rating plus first page of reviews, (b) the
product's public review page (rating, distribution, first page, JSON-LD), each sorted by helpful, newest
and lowest in turn. Beside them, pgbench's select-only run on the same PostgreSQL for a few seconds: the
machine's reference.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import re
import shutil
import statistics
import subprocess
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

BRAND = "bench-reviews"
SKU = "TRENCH-1"
OTHER_SKUS = 30
BATCH = 2000
TARGET_P95_MS = 30.0
SORTS = ("helpful", "newest", "lowest")


def fill(*, reviews: int, others: int, seed: int = 7) -> str:
    """The brand, its reviews and rollups; returns an API key of the brand (a new one each run)."""
    from django.db import transaction
    from django.db.models import Count, Q, Sum
    from django.utils import timezone

    from kesher.brands.models import Brand
    from kesher.brands.services import api_key_create, brand_create
    from kesher.reviews.models import ProductRating, Review

    brand = Brand.objects.filter(slug=BRAND).first() or brand_create(
        slug=BRAND, name="Bench", default_locale="he"
    )
    if not Review.objects.filter(brand=brand, sku=SKU).exists():
        rng = random.Random(seed)
        now = timezone.now()
        rows: list[Review] = []

        def flush() -> None:
            with transaction.atomic():
                Review.objects.bulk_create(rows, batch_size=BATCH)
            rows.clear()

        for n in range(reviews + others):
            sku = SKU if n < reviews else f"OTHER-{n % OTHER_SKUS}"
            rating = rng.choices([1, 2, 3, 4, 5], weights=[5, 5, 10, 30, 50])[0]
            rows.append(
                Review(
                    brand=brand,
                    member=None,  # authors erased: the rows and ratings stay, as erasure keeps them
                    sku=sku,
                    rating=rating,
                    title=f"Review {n}",
                    body="A coat for rainy days. " * rng.randint(1, 8),
                    anonymous=True,
                    status="published" if rng.random() > 0.03 else "held",
                    verified_purchase=rng.random() < 0.6,
                    helpful_count=int(rng.expovariate(0.3)),
                    created_at=now - timedelta(minutes=n),
                    published_at=now - timedelta(minutes=n),
                )
            )
            if len(rows) >= BATCH:
                flush()
        flush()
        sums = (
            Review.objects.filter(brand=brand, status="published")
            .values("sku")
            .annotate(
                count=Count("pk"),
                total=Sum("rating"),
                **{f"stars_{s}": Count("pk", filter=Q(rating=s)) for s in range(1, 6)},
            )
        )
        ProductRating.objects.filter(brand=brand).delete()
        ProductRating.objects.bulk_create([ProductRating(brand=brand, **row) for row in sums])
    return api_key_create(brand=brand, scope="pos").raw_key


def _init() -> None:
    django.setup()
    from django.conf import settings

    settings.STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.ALLOWED_HOSTS = ["*"]


def _timed(work: tuple[str, list[list[str]]]) -> list[float]:
    """Each item is a group of URLs fetched one after another: one timing per group."""
    from django.test import Client

    key, groups = work
    client = Client(headers={"Authorization": f"Bearer {key}"})
    timings = []
    for urls in groups:
        start = time.perf_counter()
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def _measure(name: str, key: str, groups: list[list[str]], readers: int) -> dict[str, float]:
    from django.db import connections

    connections.close_all()
    chunks = [groups[i::readers] for i in range(readers)]
    with ProcessPoolExecutor(
        max_workers=readers, initializer=_init, mp_context=multiprocessing.get_context("spawn")
    ) as pool:
        list(pool.map(_timed, [(key, chunk[:5]) for chunk in chunks]))  # warm up each reader
        start = time.perf_counter()
        timings = sorted(t for part in pool.map(_timed, [(key, chunk) for chunk in chunks]) for t in part)
        elapsed = time.perf_counter() - start
    result = {
        "requests": len(timings),
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 1),
        "per_second": round(len(timings) / elapsed, 1),
    }
    print(f"{name:<46} {result}", flush=True)
    return result


def pgbench_reference(seconds: int = 5) -> dict[str, float] | None:
    """pgbench select-only, 8 clients, on a scratch database: what this machine's PostgreSQL does."""
    from django.conf import settings

    pgbench = shutil.which("pgbench") or "/usr/bin/pgbench"
    if not os.path.exists(pgbench) or settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        return None
    url = urlparse(os.environ.get("BENCH_PG_URL", "postgresql://root@127.0.0.1:5432"))
    conn = ["-h", url.hostname or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "root"]
    name = "kesher_bench_reviews_ref"
    subprocess.run(["dropdb", *conn, "--if-exists", name], check=False, capture_output=True)
    subprocess.run(["createdb", *conn, name], check=True, capture_output=True)
    subprocess.run([pgbench, *conn, "-i", "-q", "-s", "1", name], check=True, capture_output=True)
    out = subprocess.run(
        [pgbench, *conn, "-S", "-c", "8", "-j", "2", "-T", str(seconds), name],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    subprocess.run(["dropdb", *conn, "--if-exists", name], check=False, capture_output=True)
    tps = re.search(r"^tps = ([\d.]+)", out, re.MULTILINE)
    latency = re.search(r"^latency average = ([\d.]+) ms", out, re.MULTILINE)
    return {
        "tps": float(tps.group(1)) if tps else 0.0,
        "latency_ms": float(latency.group(1)) if latency else 0.0,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--reviews", type=int, default=10_000, help="reviews of the measured product")
    parser.add_argument("--others", type=int, default=30_000, help="reviews of other products")
    parser.add_argument("--readers", type=int, default=8)
    parser.add_argument("--requests", type=int, default=400, help="per measurement")
    args = parser.parse_args(argv)
    _init()
    from django.db import connection

    print(f"reviews benchmark on {connection.vendor}, {args.reviews:,} reviews of one product", flush=True)
    started = time.perf_counter()
    key = fill(reviews=args.reviews, others=args.others)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE reviews_review, reviews_productrating")
    print(f"data ready in {time.perf_counter() - started:.0f} s", flush=True)
    api_groups = [
        [f"/api/v1/products/{SKU}/rating", f"/api/v1/products/{SKU}/reviews?sort={SORTS[i % 3]}"]
        for i in range(args.requests)
    ]
    page_groups = [[f"/reviews/{BRAND}/p/{SKU}/?sort={SORTS[i % 3]}"] for i in range(args.requests)]
    results: dict[str, Any] = {
        "api_rating_and_first_page": _measure(
            "API: rating + first page (two calls)", key, api_groups, args.readers
        ),
        "review_page": _measure(
            "product review page (rating, page, JSON-LD)", key, page_groups, args.readers
        ),
    }
    reference = pgbench_reference()
    results["reference"] = reference
    load = os.getloadavg()
    if reference:
        print(
            f"machine reference: pgbench select-only, 8 clients: {reference['tps']:,.0f} tps, "
            f"{reference['latency_ms']:.2f} ms average latency",
            flush=True,
        )
    worst = max(results["api_rating_and_first_page"]["p95_ms"], results["review_page"]["p95_ms"])
    verdict = "under" if worst < TARGET_P95_MS else "OVER"
    print(
        f"target: p95 under {TARGET_P95_MS:.0f} ms at {args.readers} readers: {verdict} ({worst} ms); "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
        flush=True,
    )
    return results


if __name__ == "__main__":
    main()
