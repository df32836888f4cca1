"""The real server for the API's tests that need one: `kesher run` (granian) on the test database."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _database_url() -> str:
    """The test database this process created, for the server process to use."""
    params = connection.settings_dict
    user = params.get("USER") or ""
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    host = f"{params.get('HOST') or '127.0.0.1'}:{params.get('PORT') or 5432}"
    return f"postgresql://{auth}{host}/{params['NAME']}"


@pytest.fixture
def granian_server(tmp_path: Path) -> Iterator[str]:
    """`kesher run` on the test database: granian, one worker, as production serves Kesher."""
    port = _free_port()
    kesher = shutil.which("kesher") or str(Path(sys.executable).with_name("kesher"))
    env = {
        **os.environ,
        "KESHER_DATABASE_URL": _database_url(),
        "KESHER_RATE_LIMIT_PER_MINUTE": "10000000",
        "KESHER_VAR_DIR": str(tmp_path / "var"),
        "KESHER_EMAIL_URL": "locmem:",
        "KESHER_LOG_LEVEL": "ERROR",
    }
    env.pop("KESHER_CACHE_URL", None)
    env.pop("KESHER_BROKER_URL", None)
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [kesher, "run", "--port", str(port), "--workers", "1", "--threads", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/healthz", timeout=1)
                break
            except OSError:
                if process.poll() is not None:
                    raise AssertionError((tmp_path / "server.log").read_text()) from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()
