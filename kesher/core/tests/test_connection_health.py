"""On PostgreSQL a kept connection is checked before each request by its socket, without a round trip, and
a connection the server has closed is still replaced before the request uses it."""

from __future__ import annotations

import io
import json
import time

import psycopg
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.db.backends.postgresql import base as django_postgresql

from kesher.members.services import member_create

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _fresh_connection_after():
    """The database is emptied after each test on the test's connection, which a test may have lost."""
    yield
    connection.close()


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _terminate(pid: int) -> None:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
        deadline = time.monotonic() + 5
        while other.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
            assert time.monotonic() < deadline, "the terminated backend did not go away"
            time.sleep(0.02)


def test_an_idle_healthy_connection_is_usable_without_asking_the_server(monkeypatch):
    _backend_pid()  # open the connection

    def round_trip(self: object) -> bool:
        raise AssertionError("the health check asked the server")

    monkeypatch.setattr(django_postgresql.DatabaseWrapper, "is_usable", round_trip)
    assert connection.is_usable() is True


def test_a_terminated_connection_is_not_usable():
    _terminate(_backend_pid())
    assert connection.is_usable() is False


def _served(path: str, key: str) -> tuple[str, dict[str, object]]:
    """One request through the WSGI handler as the server calls it (Django's test client leaves out the
    start-of-request connection checks)."""
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_AUTHORIZATION": f"Bearer {key}",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.url_scheme": "http",
    }
    statuses: list[str] = []
    body = WSGIHandler()(environ, lambda status, headers, exc_info=None: statuses.append(status))
    try:
        return statuses[0], json.loads(b"".join(body))
    finally:
        body.close()


def test_a_request_after_the_server_closed_the_connection_is_answered_on_a_new_one(brand, api):
    member = member_create(brand=brand, first_name="Noa")
    path = f"/api/v1/members/{member.pk}"
    assert _served(path, api.key)[0] == "200 OK"
    before = _backend_pid()
    _terminate(before)

    status, body = _served(path, api.key)

    assert status == "200 OK"
    assert body["first_name"] == "Noa"
    assert _backend_pid() != before
