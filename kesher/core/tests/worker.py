"""A real Celery worker process on Redis, pointed at the test database (for end-to-end task tests)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection

REDIS_URL = os.environ.get("KESHER_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_or_skip() -> str:
    host, port = "127.0.0.1", 6379
    try:
        with socket.create_connection((host, port), timeout=1):
            pass
    except OSError:
        pytest.skip(f"Redis is not reachable at {host}:{port}")
    return REDIS_URL


def tests_database_url() -> str:
    settings = connection.settings_dict
    user = settings.get("USER") or "root"
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    return f"postgresql://{user}@{host}:{port}/{settings['NAME']}"


@contextmanager
def celery_worker(broker_url: str, *, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Start `kesher worker` against the test database and the given broker; stop it afterwards."""
    env = {
        **os.environ,
        "KESHER_DATABASE_URL": tests_database_url(),
        "KESHER_BROKER_URL": broker_url,
        "KESHER_LOG_FORMAT": "text",
    }
    kesher = Path(sys.executable).with_name("kesher")
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [str(kesher), "worker", "--concurrency", "1"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            yield worker
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()


def wait_for(check, *, timeout: float = 60.0, every: float = 0.2) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(every)
    return False


@contextmanager
def celery_on_broker(url: str) -> Iterator[str]:
    """This process's Celery app sends to the broker at `url` (not eager) while the block runs; the
    broker's database starts empty."""
    import redis
    from kombu import pools

    from config.celery import app

    redis.Redis.from_url(url).flushdb()
    before = (app.conf.task_always_eager, app.conf.broker_url)

    def switch(eager: bool, broker_url: str) -> None:
        app.set_current()  # shared tasks send through the current app
        app.conf.task_always_eager = eager
        app.conf.broker_url = broker_url
        pools.reset()  # connection pools are rebuilt lazily
        app._pool = None
        app.amqp._producer_pool = None

    switch(False, url)
    try:
        yield url
    finally:
        switch(*before)
