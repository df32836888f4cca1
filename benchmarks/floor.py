"""The floor: the least any Python web server can do for Kesher's activity calls on this machine.

A bare WSGI application (no Django, no authentication, no validation beyond parsing, no earning rules, no
idempotency check) writes the rows one purchase makes in Kesher (the activity, a points lot, a ledger
entry, the account's new balance, an outbox entry), with the same kinds of keys and indexes, durably, on
the same PostgreSQL, served by the same granian and driven by the same wrk load as Kesher. A single
purchase is one pipelined round trip; a bulk call of 1,000 is five set-based statements.

Whatever Kesher does on top of this costs more, so a target above the floor's figure cannot be met by a
Python server on this machine: it is what `make bench` shows beside the targets. Run by benchmarks.run
in database kesher_bench_floor (`floor_prepare`), served as `benchmarks.floor:application`.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

FLOOR_DB = "kesher_bench_floor"
OUTBOX_CONSUMERS = '["campaigns.conversion", "campaigns.journeys"]'

SCHEMA = """
CREATE TABLE account (
    member_id uuid PRIMARY KEY, brand_id int NOT NULL, balance int NOT NULL DEFAULT 0 CHECK (balance >= 0),
    pending int NOT NULL DEFAULT 0, lifetime_earned int NOT NULL DEFAULT 0,
    lifetime_redeemed int NOT NULL DEFAULT 0);
CREATE TABLE activity (
    id uuid PRIMARY KEY, brand_id int NOT NULL,
    member_id uuid NOT NULL REFERENCES account DEFERRABLE INITIALLY DEFERRED,
    type text NOT NULL, source text NOT NULL, idempotency_key text, occurred_at timestamptz NOT NULL,
    attributes jsonb NOT NULL, points int, UNIQUE (brand_id, source, idempotency_key));
CREATE INDEX ON activity (brand_id, member_id, occurred_at);
CREATE INDEX ON activity (brand_id, type, occurred_at);
CREATE TABLE lot (
    id bigserial PRIMARY KEY, account_id uuid NOT NULL REFERENCES account DEFERRABLE INITIALLY DEFERRED,
    brand_id int NOT NULL, activity_id uuid REFERENCES activity DEFERRABLE INITIALLY DEFERRED,
    points int NOT NULL, remaining int NOT NULL, state text NOT NULL, earned_at timestamptz NOT NULL,
    expires_at timestamptz);
CREATE INDEX ON lot (account_id, state, expires_at);
CREATE INDEX ON lot (activity_id);
CREATE TABLE ledger (
    id uuid PRIMARY KEY, account_id uuid NOT NULL REFERENCES account DEFERRABLE INITIALLY DEFERRED,
    brand_id int NOT NULL, kind text NOT NULL, points int NOT NULL, balance_after int NOT NULL,
    activity_id uuid REFERENCES activity DEFERRABLE INITIALLY DEFERRED, created_at timestamptz NOT NULL);
CREATE INDEX ON ledger (account_id, created_at);
CREATE INDEX ON ledger (activity_id);
CREATE TABLE outbox (
    id bigserial PRIMARY KEY, activity_id uuid NOT NULL, consumers jsonb NOT NULL,
    created_at timestamptz NOT NULL);
"""

HISTORY = """
INSERT INTO activity (id, brand_id, member_id, type, source, occurred_at, attributes, points)
    SELECT gen_random_uuid(), 1, member_id, 'purchase', 'history', now() - n * interval '30 days',
        '{"amount": "50.00"}', 50
    FROM account, generate_series(1, 2) AS n;
INSERT INTO lot (account_id, brand_id, activity_id, points, remaining, state, earned_at)
    SELECT member_id, 1, id, points, points, 'available', occurred_at FROM activity;
INSERT INTO ledger (id, account_id, brand_id, kind, points, balance_after, activity_id, created_at)
    SELECT gen_random_uuid(), member_id, 1, 'earn', points, 0, id, occurred_at FROM activity;
UPDATE account SET balance = 100, lifetime_earned = 100;
"""

ONE_ACTIVITY = (
    "INSERT INTO activity (id, brand_id, member_id, type, source, idempotency_key, occurred_at, attributes,"
    " points) VALUES (%s, 1, %s, 'purchase', %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING id"
)
ONE_ACCOUNT = (
    "UPDATE account SET balance = balance + %s, lifetime_earned = lifetime_earned + %s"
    " WHERE member_id = %s RETURNING balance"
)
ONE_LOT = (
    "INSERT INTO lot (account_id, brand_id, activity_id, points, remaining, state, earned_at, expires_at)"
    " VALUES (%s, 1, %s, %s, %s, 'available', %s, NULL)"
)
ONE_LEDGER = (
    "INSERT INTO ledger (id, account_id, brand_id, kind, points, balance_after, activity_id, created_at)"
    " VALUES (%s, %s, 1, 'earn', %s, %s, %s, %s)"
)
ONE_OUTBOX = "INSERT INTO outbox (activity_id, consumers, created_at) VALUES (%s, %s, %s)"

MANY_ACTIVITIES = (
    "INSERT INTO activity (id, brand_id, member_id, type, source, idempotency_key, occurred_at, attributes,"
    " points) SELECT i, 1, m, 'purchase', s, k, %s, a::jsonb, p"
    " FROM unnest(%s::uuid[], %s::uuid[], %s::text[], %s::text[], %s::text[], %s::int[])"
    " AS v(i, m, s, k, a, p)"
    " ON CONFLICT DO NOTHING"
)
# Accounts in a fixed order, so concurrent calls lock them without deadlocking.
MANY_ACCOUNTS = (
    "UPDATE account SET balance = balance + v.p, lifetime_earned = lifetime_earned + v.p"
    " FROM (SELECT m, sum(p) AS p FROM unnest(%s::uuid[], %s::int[]) AS u(m, p) GROUP BY m ORDER BY m) v"
    " WHERE member_id = v.m"
)
MANY_LOTS = (
    "INSERT INTO lot (account_id, brand_id, activity_id, points, remaining, state, earned_at, expires_at)"
    " SELECT m, 1, i, p, p, 'available', %s, NULL"
    " FROM unnest(%s::uuid[], %s::uuid[], %s::int[]) AS v(m, i, p)"
)
MANY_LEDGER = (
    "INSERT INTO ledger (id, account_id, brand_id, kind, points, balance_after, activity_id, created_at)"
    " SELECT gen_random_uuid(), m, 1, 'earn', p, 0, i, %s"
    " FROM unnest(%s::uuid[], %s::uuid[], %s::int[]) AS v(m, i, p)"
)
MANY_OUTBOX = (
    "INSERT INTO outbox (activity_id, consumers, created_at)"
    " SELECT i, %s::jsonb, %s FROM unnest(%s::uuid[]) AS v(i)"
)

_local = threading.local()
StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def floor_prepare(*, base_url: str, members: int, members_file: Path) -> None:
    """A fresh kesher_bench_floor with `members` accounts, whose ids go to `members_file` for wrk."""
    from benchmarks.seed import database_recreate, database_url

    database_recreate(base_url=base_url, name=FLOOR_DB)
    with psycopg.connect(database_url(base_url, FLOOR_DB), autocommit=True) as conn:
        conn.execute(SCHEMA)  # type: ignore[arg-type]
        conn.execute(
            "INSERT INTO account (member_id, brand_id)"
            " SELECT gen_random_uuid(), 1 FROM generate_series(1, %s)",
            [members],
        )
        # Two purchases of history an account, as a club has: tables that start empty are planned as
        # empty (the foreign key checks' plans included) and measure slower than they will be.
        conn.execute(HISTORY)  # type: ignore[arg-type]
        conn.execute("VACUUM ANALYZE")
        ids = [str(row[0]) for row in conn.execute("SELECT member_id FROM account")]
    members_file.write_text("\n".join(ids) + "\n")


def floor_activities(*, base_url: str, source: str) -> int:
    from benchmarks.seed import database_url

    with psycopg.connect(database_url(base_url, FLOOR_DB)) as conn:
        row = conn.execute("SELECT count(*) FROM activity WHERE source = %s", [source]).fetchone()
    return int(row[0]) if row else 0


def _connection() -> psycopg.Connection[Any]:
    conn = getattr(_local, "connection", None)
    if conn is None:
        conn = _local.connection = psycopg.connect(os.environ["FLOOR_DATABASE_URL"])
    return conn


def _answer(start_response: StartResponse, status: str, body: dict[str, Any]) -> Iterable[bytes]:
    content = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(content)))])
    return [content]


def _one(environ: dict[str, Any], start_response: StartResponse, payload: dict[str, Any]) -> Iterable[bytes]:
    now = datetime.now(UTC)
    activity_id, member_id = uuid.uuid4(), uuid.UUID(payload["member_id"])
    points = int(Decimal(payload["attributes"]["amount"]))
    conn = _connection()
    with conn.transaction(), conn.pipeline():
        conn.execute(
            ONE_ACTIVITY,
            (
                activity_id,
                member_id,
                payload.get("source", "api"),
                environ.get("HTTP_IDEMPOTENCY_KEY"),
                now,
                json.dumps(payload["attributes"]),
                points,
            ),
        )
        account = conn.execute(ONE_ACCOUNT, (points, points, member_id))
        conn.execute(ONE_LOT, (member_id, activity_id, points, points, now))
        conn.execute(ONE_LEDGER, (uuid.uuid4(), member_id, points, 0, activity_id, now))
        conn.execute(ONE_OUTBOX, (activity_id, OUTBOX_CONSUMERS, now))
    balance = account.fetchone()
    return _answer(
        start_response,
        "201 Created",
        {"id": str(activity_id), "points_awarded": points, "balance": balance[0] if balance else None},
    )


def _many(start_response: StartResponse, payload: dict[str, Any]) -> Iterable[bytes]:
    items = payload["activities"]
    now = datetime.now(UTC)
    ids = [uuid.uuid4() for _ in items]
    members = [uuid.UUID(item["member_id"]) for item in items]
    points = [int(Decimal(item["attributes"]["amount"])) for item in items]
    sources = [item.get("source", "api") for item in items]
    keys = [item.get("idempotency_key") for item in items]
    attributes = [json.dumps(item["attributes"]) for item in items]
    conn = _connection()
    with conn.transaction():
        conn.execute(MANY_ACTIVITIES, (now, ids, members, sources, keys, attributes, points))
        conn.execute(MANY_ACCOUNTS, (members, points))
        conn.execute(MANY_LOTS, (now, members, ids, points))
        conn.execute(MANY_LEDGER, (now, members, ids, points))
        conn.execute(MANY_OUTBOX, (OUTBOX_CONSUMERS, now, ids))
    return _answer(start_response, "200 OK", {"created": len(items), "replayed": 0, "failed": 0})


def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    """POST /api/v1/activities and /api/v1/activities/bulk, as wrk sends them to Kesher (and GET for the
    benchmark's wait until the server answers)."""
    if environ["REQUEST_METHOD"] == "GET":
        return _answer(start_response, "200 OK", {"status": "ok"})
    length = int(environ.get("CONTENT_LENGTH") or 0)
    payload = json.loads(environ["wsgi.input"].read(length))
    if environ["PATH_INFO"].endswith("/bulk"):
        return _many(start_response, payload)
    return _one(environ, start_response, payload)
