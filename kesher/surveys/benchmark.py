"""Surveys speed benchmark: a survey's results (NPS, CSAT, choices, verbatims), its NPS trend and CSAT by
store, the verbatim search, and answers written by concurrent members, on PostgreSQL.

    KESHER_DATABASE_URL=postgresql://.../kesher_bench_surveys python -m kesher.surveys.benchmark

Fills a brand "bench-surveys" (once; later runs reuse it) with one published survey (NPS, CSAT, one choice,
a comment) and its responses written straight to the tables in batches, then measures p50/p95 with N
reader processes calling the API (`GET /api/v1/surveys/{id}/results`) and the console's results page,
and N writer processes answering (`POST /api/v1/surveys/{id}/responses`, each a new member).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

COMMENTS = [
    "השירות היה מצוין",
    "והקפה היה קר",
    "לשירות לקח זמן",
    "great staff",
    "slow service",
    "אהבתי את העוגה",
]
STORES = ["dizengoff", "haifa", "emek-refaim", "online"]
SKUS = ["LATTE", "CAKE", "BEANS", "MUG"]
BATCH = 2000
BENCH_KEY_NAME = "bench-surveys"


def fill(*, responses: int, seed: int = 11) -> dict[str, str]:
    from django.utils import timezone

    from kesher.brands.models import ApiKey, Brand, StaffRole
    from kesher.brands.services import api_key_create, brand_create, staff_grant
    from kesher.members.models import Member
    from kesher.surveys.models import Survey, SurveyAnswer, SurveyRespondent, SurveyResponse
    from kesher.surveys.services import survey_create, survey_publish, text_terms

    brand = Brand.objects.filter(slug="bench-surveys").first()
    if brand is None:
        brand = brand_create(slug="bench-surveys", name="Bench surveys", default_locale="he")
    survey = Survey.objects.filter(brand=brand).first()
    if survey is None:
        survey = survey_create(
            brand=brand,
            title_he="סקר",
            title_en="Survey",
            questions=[
                {"kind": "nps", "text_en": "Recommend?"},
                {"kind": "csat", "text_en": "Happy?"},
                {
                    "kind": "single",
                    "text_en": "Which?",
                    "required": False,
                    "choices": [{"value": v.lower(), "en": v} for v in SKUS],
                },
                {"kind": "text", "text_en": "Why?", "required": False},
            ],
        )
        survey = survey_publish(survey=survey)
    questions = {q.kind: q for q in survey.questions.all()}
    rng = random.Random(seed)
    existing = SurveyResponse.objects.filter(survey=survey).count()
    now = timezone.now()
    while existing < responses:
        size = min(BATCH, responses - existing)
        members = Member.objects.bulk_create(
            [
                Member(
                    brand=brand,
                    first_name=f"חבר{existing + i}",
                    joined_at=now,
                    card_number=f"8{existing + i:015d}"[:16],
                    referral_code=f"S{existing + i:011d}",
                )
                for i in range(size)
            ]
        )
        rows, respondents = [], []
        for member in members:
            nps = rng.choices(range(11), weights=[1, 1, 1, 2, 2, 3, 4, 8, 10, 14, 12])[0]
            rows.append(
                SurveyResponse(
                    brand=brand,
                    survey=survey,
                    member=member,
                    store=rng.choice(STORES),
                    sku=rng.choice(SKUS),
                    nps=nps,
                    csat=max(1, min(5, round(nps / 2))),
                    created_at=now - timedelta(minutes=rng.randint(0, 60 * 24 * 365)),
                )
            )
            respondents.append(
                SurveyRespondent(brand=brand, survey=survey, member=member, answered_on=now.date())
            )
        SurveyResponse.objects.bulk_create(rows)
        SurveyRespondent.objects.bulk_create(respondents)
        answers = []
        for response in rows:
            answers.append(SurveyAnswer(response=response, question=questions["nps"], number=response.nps))
            answers.append(SurveyAnswer(response=response, question=questions["csat"], number=response.csat))
            answers.append(
                SurveyAnswer(response=response, question=questions["single"], choices=[response.sku.lower()])
            )
            if rng.random() < 0.3:
                text = rng.choice(COMMENTS)
                answers.append(
                    SurveyAnswer(
                        response=response, question=questions["text"], text=text, terms=text_terms(text)
                    )
                )
        SurveyAnswer.objects.bulk_create(answers, batch_size=BATCH)
        existing += size
        print(f"  … {existing:,} responses", flush=True)
    ApiKey.objects.filter(brand=brand, name=BENCH_KEY_NAME).delete()
    key = api_key_create(brand=brand, scope="all", name=BENCH_KEY_NAME).raw_key
    from django.contrib.auth import get_user_model

    user, created = get_user_model().objects.get_or_create(username="bench-surveys-analyst")
    if created:
        staff_grant(brand=brand, user=user, role=StaffRole.ANALYST)
    return {
        "survey": str(survey.pk),
        "key": key,
        "nps": str(questions["nps"].pk),
        "csat": str(questions["csat"].pk),
        "user": user.username,
    }


def _init() -> None:
    django.setup()
    from django.conf import settings

    settings.STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.ALLOWED_HOSTS = ["*"]
    settings.KESHER_RATE_LIMIT_PER_MINUTE = 10_000_000


def _read(job: tuple[list[str], str, str]) -> list[float]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    urls, key, username = job
    client = Client()
    if username:
        client.force_login(get_user_model().objects.get(username=username))
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    timings = []
    for url in urls:
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return timings


def _write(job: tuple[str, str, str, str, int, int]) -> list[float]:
    import json

    from django.test import Client

    from kesher.brands.models import Brand
    from kesher.members.services import member_create

    survey_id, key, nps_question, csat_question, count, worker = job
    brand = Brand.objects.get(slug="bench-surveys")
    members = [member_create(brand=brand, first_name=f"w{worker}-{i}-{time.time_ns()}") for i in range(count)]
    client = Client()
    timings = []
    for number, member in enumerate(members):
        answers = {nps_question: number % 11, csat_question: 1 + number % 5}  # both are required
        body = json.dumps({"member_id": str(member.pk), "answers": answers})
        start = time.perf_counter()
        response = client.post(
            f"/api/v1/surveys/{survey_id}/responses",
            data=body,
            content_type="application/json",
            headers={"Authorization": f"Bearer {key}"},
        )
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 201, response.content[:200]
    return timings


def _summary(name: str, timings: list[float], elapsed: float) -> dict[str, float]:
    timings.sort()
    result = {
        "requests": len(timings),
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": round(timings[max(int(len(timings) * 0.95) - 1, 0)], 1),
        "per_second": round(len(timings) / elapsed, 1),
    }
    print(f"{name:<40} {result}", flush=True)
    return result


def _measure(name: str, urls: list[str], workers: int, key: str = "", username: str = "") -> dict[str, float]:
    from django.db import connections

    connections.close_all()
    spawn = multiprocessing.get_context("spawn")
    chunks = [urls[i::workers] for i in range(workers)]
    with ProcessPoolExecutor(max_workers=workers, initializer=_init, mp_context=spawn) as pool:
        list(pool.map(_read, [(chunk[:2], key, username) for chunk in chunks]))  # warm up each reader
        start = time.perf_counter()
        timings = [t for part in pool.map(_read, [(chunk, key, username) for chunk in chunks]) for t in part]
        elapsed = time.perf_counter() - start
    return _summary(name, timings, elapsed)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--requests", type=int, default=80, help="per measurement")
    args = parser.parse_args(argv)
    _init()
    from django.db import connection, connections

    print(f"surveys benchmark on {connection.vendor}, {args.responses:,} responses, {args.workers} workers")
    started = time.perf_counter()
    target = fill(responses=args.responses)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE surveys_surveyresponse, surveys_surveyanswer, surveys_surveyrespondent")
    print(f"data ready in {time.perf_counter() - started:.0f} s", flush=True)
    survey, key = target["survey"], target["key"]
    count = args.requests
    console = f"/console/bench-surveys/surveys/{survey}/results/"
    results: dict[str, Any] = {
        "results_api": _measure(
            "GET results (API)", [f"/api/v1/surveys/{survey}/results"] * count, args.workers, key=key
        ),
        "results_page": _measure(
            "results page (trend, CSAT by store, chart)",
            [console] * count,
            args.workers,
            username=target["user"],
        ),
        "verbatim_search": _measure(
            "results page with a verbatim search",
            [f"{console}?q={q}" for q in ["שירות", "קפה", "service", "העוגה"] * (count // 4)],
            args.workers,
            username=target["user"],
        ),
    }
    connections.close_all()
    spawn = multiprocessing.get_context("spawn")
    per_writer = max(count // args.workers, 5)
    with ProcessPoolExecutor(max_workers=args.workers, initializer=_init, mp_context=spawn) as pool:
        jobs = [(survey, key, target["nps"], target["csat"], per_writer, w) for w in range(args.workers)]
        start = time.perf_counter()
        timings = [t for part in pool.map(_write, jobs) for t in part]
        elapsed = time.perf_counter() - start  # includes making the writers' members
    results["answer"] = _summary("POST responses (a new member each)", timings, elapsed)
    load = os.getloadavg()
    print(f"{os.cpu_count()} CPUs; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
    return results


if __name__ == "__main__":
    main()
