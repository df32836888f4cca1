"""The same mention posted many times at once, on PostgreSQL: one mention, one case, one answer for all."""

from __future__ import annotations

import json

import pytest

from kesher.brands.services import api_key_create, brand_create
from kesher.core.tests.concurrency import post_concurrently
from kesher.listening.models import Mention
from kesher.listening.services.signing import signed_headers
from kesher.service.models import Case

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
N = 10
BODY = {
    "source": "twitter",
    "external_id": "race-1",
    "author": {"handle": "dana", "followers": 40_000},
    "text": "The delivery never arrived, terrible service, I want my money back",
    "posted_at": "2026-12-01T09:30:00Z",
}


def test_concurrent_posts_of_one_mention_make_one_mention_and_one_case(live_server):
    brand = brand_create(slug="cafe", name="קפה טוב", default_locale="he")
    key = api_key_create(brand=brand, scope="manage").raw_key
    results = post_concurrently(
        live_server.url + "/api/v1/mentions", key=key, bodies=[BODY] * N, idempotency_keys=[None] * N
    )
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * (N - 1) + [201], results
    answers = {json.dumps(body, sort_keys=True) for _, body in results}
    assert len(answers) == 1  # every caller got the first answer, case included
    assert Mention.objects.filter(brand=brand).count() == 1
    assert Case.objects.filter(brand=brand).count() == 1
    assert results[0][1]["case_id"] == str(Case.objects.get(brand=brand).pk)


def test_concurrent_signed_batches_overlapping_take_each_mention_once(live_server):
    import threading
    import urllib.request

    from kesher.core.audit import SYSTEM
    from kesher.listening.services import connector_webhook_add

    brand = brand_create(slug="cafe", name="קפה טוב", default_locale="he")
    made = connector_webhook_add(brand=brand, name="Tool", actor=SYSTEM)
    url = live_server.url + f"/listening/hooks/{made.connector.pk}"
    batches = [
        json.dumps(
            {
                "mentions": [
                    {"external_id": f"m{n}", "text": f"post number {n}"} for n in range(start, start + 20)
                ]
            }
        ).encode()
        for start in (0, 10, 5, 0)
    ]
    barrier = threading.Barrier(len(batches))
    added: list[int] = []

    def send(body: bytes) -> None:
        request = urllib.request.Request(
            url, data=body, headers=signed_headers(made.secret, body), method="POST"
        )
        barrier.wait()
        with urllib.request.urlopen(request, timeout=60) as response:
            added.append(json.loads(response.read())["added"])

    threads = [threading.Thread(target=send, args=(body,)) for body in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(added) == 30 == Mention.objects.filter(brand=brand).count()
