"""Bodies sent with `Transfer-Encoding: chunked` to the real server (granian, as `kesher run` serves):
read like any other body, and bounded by the same limit."""

from __future__ import annotations

import contextlib
import http.client
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from kesher.activity.models import Activity
from kesher.brands.services import api_key_create, brand_create
from kesher.members.services import member_create

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _chunks(body: bytes, size: int = 1000) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def _post_chunked(url: str, key: str, path: str, body: bytes, idem: str) -> tuple[int, Any]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
    try:
        # The server may answer (413) before the rest of a large body is sent, and close.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            connection.request(
                "POST",
                "/api/v1" + path,
                body=_chunks(body),
                headers={
                    "Authorization": f"Bearer {key}",
                    "Content-Type": "application/json",
                    "Idempotency-Key": idem,
                },
                encode_chunked=True,
            )
        answer = connection.getresponse()
        return answer.status, json.loads(answer.read() or b"null")
    finally:
        connection.close()


def test_a_chunked_purchase_is_read_and_a_chunked_body_over_the_limit_gets_413(granian_server):
    brand = brand_create(slug="chunks", name="Chunks", default_locale="he")
    key = api_key_create(brand=brand, scope="all").raw_key
    member = member_create(brand=brand, external_id="pos-1")
    purchase = {"member_id": str(member.id), "type": "purchase", "attributes": {"amount": "99.90"}}

    status, body = _post_chunked(granian_server, key, "/activities", json.dumps(purchase).encode(), "c-1")
    assert status == 201, body
    assert body["points_awarded"] == 99
    assert Activity.objects.filter(brand=brand, type="purchase").count() == 1

    big = {**purchase, "attributes": {"amount": "1.00", "note": "x" * (12 * 1024 * 1024)}}
    status, body = _post_chunked(granian_server, key, "/activities", json.dumps(big).encode(), "c-2")
    assert status == 413, body
    assert body["error"]["code"] == "body_too_large"
    assert Activity.objects.filter(brand=brand, type="purchase").count() == 1
