"""Community speed benchmark: question page, question list and search under concurrent readers.

    KESHER_DATABASE_URL=postgresql://.../kesher_bench python -m kesher.community.benchmark --posts 200000

Fills a brand "bench-community" (once; later runs reuse it) with questions and answers written straight
to the tables in batches, one question with 50 answers among them, then measures p50/p95 with N reader
processes rendering pages through Django's test client, and the number of queries per question page.
The question page is measured for anonymous readers (the shared page cache) and for a signed-in member
(the thread's kept posts with the member's own votes and forms laid over them); `--no-page-cache`
renders every page in full for both.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import statistics
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

HEBREW = [
    "נאמנות",
    "מועדון",
    "נקודות",
    "הטבה",
    "קופון",
    "סניף",
    "קנייה",
    "משלוח",
    "החזרה",
    "אפליקציה",
    "כרטיס",
    "הנחה",
    "מבצע",
    "שעות",
    "פתיחה",
    "קפה",
    "מאפה",
    "עוגה",
    "חלב",
    "צמחי",
    "מתנה",
    "יום",
    "הולדת",
    "הזמנה",
    "אתר",
    "תשלום",
    "אשראי",
    "חשבונית",
    "מנוי",
    "משלוח",
    "חינם",
]
ENGLISH = [
    "points",
    "club",
    "coupon",
    "reward",
    "delivery",
    "return",
    "app",
    "card",
    "discount",
    "order",
    "payment",
    "refund",
    "gift",
]
PREFIXES = ["", "", "", "ה", "ו", "ב", "ל", "מ", "ש", "וה", "של", "כש"]
QUERIES = ["נאמנות", "הנקודות", "קופון הנחה", "משלוח חינם", "points", "refund", "ביום הולדת", "אפליקציה app"]
SETUP_BATCH = 2000
BENCH_READER = "bench-community-reader"


def _sentence(rng: random.Random, length: int) -> str:
    words = []
    for _ in range(length):
        if rng.random() < 0.15:
            words.append(rng.choice(ENGLISH))
        else:
            words.append(rng.choice(PREFIXES) + rng.choice(HEBREW))
    return " ".join(words)


def fill(*, posts: int, seed: int = 7) -> dict[str, Any]:
    """Create the brand and its posts unless they are there already; returns what the readers need."""
    from django.db import transaction
    from django.utils import timezone

    from kesher.brands.models import Brand
    from kesher.brands.services import brand_create
    from kesher.community import textsearch
    from kesher.community.models import Post, SearchDocument
    from kesher.community.services import community_install_defaults
    from kesher.members.models import Member

    brand = Brand.objects.filter(slug="bench-community").first()
    if brand is None:
        brand = brand_create(slug="bench-community", name="Bench community", default_locale="he")
    space = community_install_defaults(brand=brand)
    existing = Post.objects.filter(brand=brand).count()
    rng = random.Random(seed)
    if existing < posts:
        now = timezone.now()
        members = list(Member.objects.filter(brand=brand)[:500])
        if len(members) < 500:
            Member.objects.bulk_create(
                [
                    Member(
                        brand=brand,
                        first_name=f"חבר{i}",
                        joined_at=now,
                        card_number=f"9{i:015d}"[:16],
                        referral_code=f"B{i:011d}",
                    )
                    for i in range(len(members), 500)
                ]
            )
            members = list(Member.objects.filter(brand=brand)[:500])
        remaining = posts - existing
        big_question: Post | None = None
        while remaining > 0:
            rows: list[Post] = []
            docs: list[SearchDocument] = []
            questions: list[Post] = []
            batch_questions = max(1, min(SETUP_BATCH // 10, remaining // 10 or 1))
            for _ in range(batch_questions):
                at = now - timedelta(minutes=rng.randint(0, 500_000))
                title = _sentence(rng, rng.randint(4, 9))
                body = _sentence(rng, rng.randint(15, 60))
                question = Post(
                    id=uuid.uuid4(),
                    brand=brand,
                    space=space,
                    kind="question",
                    author=rng.choice(members),
                    title=title,
                    slug=title.replace(" ", "-")[:80],
                    body=body,
                    body_html=f"<p>{body}</p>",  # plain words: what Markdown would give
                    body_hash=uuid.uuid4().hex,
                    created_at=at,
                    last_activity_at=at,
                    published_at=at,
                )
                questions.append(question)
                rows.append(question)
            for question in questions:
                answers = 50 if big_question is None else rng.randint(3, 15)
                if big_question is None:
                    big_question = question
                question.answer_count = answers
                question.score = rng.randint(-1, 25)
                for _ in range(answers):
                    body = _sentence(rng, rng.randint(10, 50))
                    rows.append(
                        Post(
                            id=uuid.uuid4(),
                            brand=brand,
                            space=space,
                            kind="answer",
                            question=question,
                            author=rng.choice(members),
                            body=body,
                            body_html=f"<p>{body}</p>",  # plain words: what Markdown would give
                            body_hash=uuid.uuid4().hex,
                            score=rng.randint(-2, 15),
                            created_at=question.created_at,
                            last_activity_at=question.created_at,
                            published_at=question.created_at,
                        )
                    )
            for post in rows:
                text = textsearch.index_text(title=post.title, tags=[], body=post.body)
                docs.append(
                    SearchDocument(
                        post=post,
                        brand=brand,
                        space=space,
                        question_id=post.question_id or post.pk,
                        visible=True,
                        head=text.head,
                        body=text.body,
                        exact=text.exact,
                    )
                )
            with transaction.atomic():
                Post.objects.bulk_create(rows, batch_size=1000)
                SearchDocument.objects.bulk_create(docs, batch_size=1000)
            remaining -= len(rows)
            print(f"  … {posts - remaining:,} posts", flush=True)
    big = (
        Post.objects.filter(brand=brand, kind="question", answer_count=50).order_by("created_at").first()
        or Post.objects.filter(brand=brand, kind="question").order_by("-answer_count").first()
    )
    assert big is not None
    # A signed-in member reading the page: their votes, follow state and forms are on it.
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username=BENCH_READER)
    if not Member.objects.filter(brand=brand, user=user).exists():
        reader = Member.objects.filter(brand=brand, user__isnull=True).order_by("pk").first()
        assert reader is not None
        Member.objects.filter(pk=reader.pk).update(user=user)
    return {"brand": brand.slug, "question": str(big.pk), "slug": big.slug}


def _init(page_cache: bool = True) -> None:
    django.setup()
    from django.conf import settings

    settings.COMMUNITY_PAGE_CACHE = page_cache  # off: measure rendering every page, as before the cache

    settings.STORAGES = {  # pages use {% static %}; no collectstatic needed for a benchmark
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.ALLOWED_HOSTS = ["*"]


def _timed(urls: list[str], username: str = "") -> list[float]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    if username:
        client.force_login(get_user_model().objects.get(username=username))
    timings = []
    for url in urls:
        start = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return timings


def _measure(
    name: str, urls: list[str], readers: int, page_cache: bool = True, username: str = ""
) -> dict[str, float]:
    from django.db import connections

    connections.close_all()  # readers are fresh processes with connections of their own
    chunks = [urls[i::readers] for i in range(readers)]
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=readers, initializer=_init, initargs=(page_cache,), mp_context=spawn
    ) as pool:
        users = [username] * readers
        list(pool.map(_timed, [sorted(set(chunk)) for chunk in chunks], users))  # warm up each reader
        start = time.perf_counter()
        timings = [t for part in pool.map(_timed, chunks, users) for t in part]
        elapsed = time.perf_counter() - start
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    result = {
        "requests": len(timings),
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": round(p95, 1),
        "per_second": round(len(timings) / elapsed, 1),
    }
    print(f"{name:<34} {result}", flush=True)
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--posts", type=int, default=200_000)
    parser.add_argument("--readers", type=int, default=8)
    parser.add_argument("--requests", type=int, default=400, help="per measurement")
    parser.add_argument(
        "--no-page-cache", action="store_true", help="render every page (anonymous page cache off)"
    )
    args = parser.parse_args(argv)
    page_cache = not args.no_page_cache
    _init(page_cache)
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    print(
        f"community benchmark on {connection.vendor}, {args.posts:,} posts, {args.readers} readers",
        flush=True,
    )
    started = time.perf_counter()
    target = fill(posts=args.posts)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # fresh statistics, as autovacuum would give a live database
            cursor.execute(
                "ANALYZE community_post, community_searchdocument, community_space, community_post_tags"
            )
    print(f"data ready in {time.perf_counter() - started:.0f} s", flush=True)
    base = f"/community/{target['brand']}"
    page = f"{base}/q/{target['question']}/{target['slug']}/"
    with CaptureQueriesContext(connection) as queries:
        assert Client().get(page).status_code == 200
    member = Client()
    member.force_login(get_user_model().objects.get(username=BENCH_READER))
    member.get(page)
    with CaptureQueriesContext(connection) as member_queries:  # the thread's posts kept, unless cache is off
        assert member.get(page).status_code == 200
    print(
        f"question page with 50 answers: {len(queries)} queries, "
        f"{len(member_queries)} for a signed-in member (session and member included)",
        flush=True,
    )
    count = args.requests
    results = {
        "question_page_queries": len(queries),
        "question_page_member_queries": len(member_queries),
        "question_page": _measure("question page (50 answers)", [page] * count, args.readers, page_cache),
        "question_page_member": _measure(
            "question page, signed-in member",
            [page] * count,
            args.readers,
            page_cache,
            username=BENCH_READER,
        ),
        "question_list": _measure(
            "question list",
            [f"{base}/s/general/?page={1 + i % 5}" for i in range(count)],
            args.readers,
            page_cache,
        ),
        "search": _measure(
            "search", [f"{base}/search/?q={QUERIES[i % len(QUERIES)]}" for i in range(count)], args.readers
        ),
    }
    load = os.getloadavg()
    print(
        f"page cache {'on' if page_cache else 'off'}; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    return results


if __name__ == "__main__":
    main()
