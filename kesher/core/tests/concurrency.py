"""Firing the same request from many threads at once against the live server (PostgreSQL proofs)."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from typing import Any


def post_concurrently(
    url: str, *, key: str, bodies: list[Any], idempotency_keys: list[str | None]
) -> list[tuple[int, Any]]:
    """POST every body at the same moment (a barrier releases all threads together)."""
    barrier = threading.Barrier(len(bodies))
    results: list[tuple[int, Any]] = [(0, None)] * len(bodies)

    def fire(index: int) -> None:
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        if idempotency_keys[index] is not None:
            headers["Idempotency-Key"] = idempotency_keys[index] or ""
        request = urllib.request.Request(
            url, data=json.dumps(bodies[index]).encode(), headers=headers, method="POST"
        )
        barrier.wait()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                results[index] = (response.status, json.loads(response.read()))
        except urllib.error.HTTPError as exc:
            results[index] = (exc.code, json.loads(exc.read() or b"null"))

    threads = [threading.Thread(target=fire, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
