"""The member's own page benchmark: the portal's home and the magazine's home in the reader's order.

    KESHER_DATABASE_URL=postgresql://.../kesher_bench_web python -m kesher.web.benchmark

Fills a brand "bench-home" (once; later runs reuse it) with 300 articles over 12 interests, 200 community
questions (half unanswered), a signed-in member who has read 60 articles, follows 20 questions, holds
points in lots expiring soon and has a helpful reputation. Then times --requests GETs of `/portal/` and
of `/magazine/bench-home/` as that member, in one process (Django's test client, the full middleware),
and prints p50/p95 beside pgbench's select-only run on the same PostgreSQL: the machine's reference.
Target: the home page p95 under 80 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

BRAND = "bench-home"
EMAIL = "reader@bench-home.example"
TARGET_P95_MS = 80.0


def fill() -> Any:
    from django.contrib.auth import get_user_model

    from kesher.activity.services import activity_record
    from kesher.brands.models import Brand
    from kesher.brands.services import brand_create
    from kesher.community.models import CommunityProfile, Space
    from kesher.community.services import follow_set, question_ask
    from kesher.community.services.authors import Author
    from kesher.loyalty.services import reward_create
    from kesher.magazine.models import Article
    from kesher.magazine.reading import reading_record
    from kesher.magazine.services import article_create
    from kesher.members.models import Member
    from kesher.members.services import member_create

    brand = Brand.objects.filter(slug=BRAND).first() or brand_create(
        slug=BRAND, name="Bench", default_locale="he"
    )
    user = get_user_model().objects.filter(username=EMAIL).first()
    if user is not None:
        return user
    topics = [f"topic {n}" for n in range(12)]
    for cost in (50, 200, 500, 1000, 5000):
        reward_create(brand=brand, name=f"Reward {cost}", cost_points=cost, kind="gift")
    articles = [
        article_create(
            brand=brand, title=f"Article {n}", body=f"About {topics[n % 12]}.", publish=True,
            interests=[topics[n % 12], topics[(n * 7) % 12]],
        )
        for n in range(300)
    ]  # fmt: skip
    member = member_create(brand=brand, email=EMAIL, first_name="Reader", interests=topics[:3])
    user = get_user_model().objects.create_user(username=EMAIL, email=EMAIL, password="x")
    Member.objects.filter(pk=member.pk).update(user=user)
    member.refresh_from_db()
    for n in range(5):
        activity_record(
            brand=brand, member=member, type="purchase", source="pos",
            attributes={"amount": "120.00", "currency": "ILS"}, idempotency_key=f"bench-{n}",
        )  # fmt: skip
    for article in articles[:60]:
        reading_record(member=member, article=article, reading_id=uuid.uuid4(), seconds=90, scroll=80)
    general = Space.objects.get(brand=brand, slug="general")
    for n in range(200):
        asker = member_create(brand=brand, email=f"asker{n}@bench-home.example", first_name="Asker")
        question = question_ask(
            space=general, author=Author(member=asker), title=f"Question number {n}?", body=f"Body {n}",
            tags=[topics[n % 12]],
        )  # fmt: skip
        if n < 20 and question.status == "published":
            follow_set(member=member, question=question)
    CommunityProfile.objects.update_or_create(member=member, defaults={"brand": brand, "reputation": 200})
    assert Article.objects.filter(brand=brand).count() == 300
    return user


def _timed(client: Any, path: str, requests: int) -> dict[str, float]:
    for _ in range(5):
        assert client.get(path).status_code == 200
    timings = []
    for _ in range(requests):
        start = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    timings.sort()
    return {
        "requests": len(timings),
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 1),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=200, help="per page")
    args = parser.parse_args(argv)
    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from kesher.reviews.benchmark import pgbench_reference

    settings.ALLOWED_HOSTS = ["*"]
    # No collectstatic in a benchmark database's run: plain static names, as in development.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    started = time.perf_counter()
    user = fill()
    print(
        f"home benchmark on {connection.vendor}; data ready in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    client = Client()
    client.force_login(user)
    results: dict[str, Any] = {
        "portal_home": _timed(client, "/portal/", args.requests),
        "magazine_home_reader_order": _timed(client, f"/magazine/{BRAND}/", args.requests),
        "pgbench_select_only": pgbench_reference(),
        "load": os.getloadavg(),
    }
    for name, value in results.items():
        print(f"{name:<30} {value}", flush=True)
    verdict = "meets" if results["portal_home"]["p95_ms"] < TARGET_P95_MS else "misses"
    print(f"the home page p95 {verdict} the target of {TARGET_P95_MS:.0f} ms", flush=True)
    return results


if __name__ == "__main__":
    main()
