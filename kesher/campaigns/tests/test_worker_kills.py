"""The delivery promise under a worker that dies mid-send (docs/campaigns.md, "Delivery promise"): a real
Celery worker on Redis and a real Celery beat send a campaign through a real SMTP server on PostgreSQL,
and the worker is killed (SIGKILL) twice at one point of a send:

- before: it has claimed the message and opened the connection, and has not begun the SMTP transaction;
- during: the server has the whole message (after DATA) and has not answered it yet;
- after: the server accepted it, and the row is not yet marked sent.

Every recipient must get the message; a copy is possible only when the server may have taken the message
before the worker died, and it carries the same Message-ID. The worker keeps the broker's default
visibility timeout (an hour), so the dead worker's claimed messages are sent again through their claim's
lease (a few seconds here) and the minute sweep (every second here), not through the broker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import redis
from celery import Celery
from django.conf import settings as django_settings

from kesher.campaigns import services
from kesher.campaigns.models import CampaignStatus, Message, MessageStatus, MessagingSettings
from kesher.campaigns.services.composing import message_id_header
from kesher.campaigns.tests.conftest import member
from kesher.core.tests.worker import REDIS_URL, redis_or_skip
from kesher.core.tests.worker import tests_database_url as database_url

MEMBERS = 30  # one delivery batch: a dead worker holds the claim on all it had not sent
KILL_AT = (5, 8)  # the sends (counted in each worker) at which the first and the second worker die
LEASE_SECONDS = 3
ROOT = Path(__file__).resolve().parents[3]

WORKER = """
import os, signal
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django
django.setup()
from kesher.campaigns.services import delivery

point, kill_at = os.environ.get("KESHER_TEST_KILL_POINT", ""), int(os.environ.get("KESHER_TEST_KILL_AT", "0"))
real_send, sends = delivery.email_send, [0]

def email_send(channel, ms, message):
    sends[0] += 1
    if point == "before" and sends[0] == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
    ref = real_send(channel, ms, message)
    if point == "after" and sends[0] == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
    return ref

delivery.email_send = email_send
from config.celery import app
# The broker's own visibility timeout is left at its default (an hour): recovery must not depend on it.
app.worker_main(["worker", "--pool", "solo", "--loglevel", "WARNING", "--without-gossip", "--without-mingle",
                 "--without-heartbeat", "--hostname", "campaigns-kills@%h"])
"""

BEAT = """
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django
django.setup()
from config.celery import app
# What beat runs every minute, every second here.
app.conf.beat_schedule = {
    "campaigns-dispatch-due": {"task": "kesher.campaigns.tasks.messages_dispatch_due_task", "schedule": 1.0}
}
app.start(["beat", "--schedule", sys.argv[1], "--loglevel", "WARNING"])
"""


def _env(smtp_port: int, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "KESHER_BROKER_URL": REDIS_URL,
        "KESHER_DATABASE_URL": database_url(),
        "KESHER_EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "KESHER_DEFAULT_FROM_EMAIL": "Kesher <club@kesher.test>",
        "KESHER_BASE_URL": "https://club.kesher.test",
        "KESHER_CAMPAIGNS_CLAIM_LEASE_SECONDS": str(LEASE_SECONDS),
        "KESHER_LOG_FORMAT": "text",
        "KESHER_LOG_LEVEL": "ERROR",
        **extra,
    }


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("point", ["before", "during", "after"])
def test_a_worker_killed_at_any_point_of_a_send_loses_no_message_and_a_copy_keeps_its_message_id(
    brand: Any, smtp_server: Any, tmp_path: Path, point: str
) -> None:
    redis_or_skip()
    assert django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    MessagingSettings.objects.create(brand=brand, sender_email="club@kesher.test")
    for index in range(MEMBERS):
        member(brand, email=f"k{index:03d}@example.org", first_name=f"K{index}", consents={"email": True})
    campaign = services.campaign_create(
        brand=brand, name="kills", channel="email", subject="s", body="hi {{ first_name }}", advertising=True
    )
    workers: list[subprocess.Popen[bytes]] = []
    killed_at: list[float] = []

    def start_worker() -> None:
        kills = len(workers)
        faults = {}
        if point != "during" and kills < len(KILL_AT):
            faults = {"KESHER_TEST_KILL_POINT": point, "KESHER_TEST_KILL_AT": str(KILL_AT[kills])}
        command = [sys.executable, "-c", WORKER]
        workers.append(subprocess.Popen(command, cwd=ROOT, env=_env(smtp_server.port, **faults)))

    if point == "during":
        # The n-th message the server holds whole, before it answers: the sending worker dies there.
        targets = {KILL_AT[0], KILL_AT[0] + KILL_AT[1]}

        def kill_after_data(count: int) -> None:
            if count in targets:
                os.kill(workers[-1].pid, signal.SIGKILL)

        smtp_server.sink.on_data = kill_after_data

    redis.Redis.from_url(REDIS_URL).flushdb()
    beat = subprocess.Popen(
        [sys.executable, "-c", BEAT, str(tmp_path / "beat-schedule")], cwd=ROOT, env=_env(smtp_server.port)
    )
    producer = Celery(broker=REDIS_URL, set_as_current=False)  # the shared tasks keep the project's app
    try:
        start_worker()
        with mock.patch(
            "kesher.campaigns.services.sending.queuing_start",
            lambda campaign_id: producer.send_task(
                "kesher.campaigns.tasks.campaign_queue_task", args=[str(campaign_id)]
            ),
        ):
            services.campaign_send(campaign=campaign)  # its queuing task goes to Redis at the commit
        deadline = time.monotonic() + 240  # generous for a loaded CI machine; a quiet one takes ~30 s
        while Message.objects.filter(campaign=campaign).exclude(status=MessageStatus.SENT).exists() or (
            Message.objects.filter(campaign=campaign).count() < MEMBERS
        ):
            assert time.monotonic() < deadline, "timed out waiting for every message to leave"
            assert beat.poll() is None, "celery beat stopped"
            if workers[-1].poll() is not None:
                assert workers[-1].returncode == -signal.SIGKILL
                killed_at.append(time.monotonic())
                start_worker()
            time.sleep(0.1)
    finally:
        for process in [*workers, beat]:
            _stop(process)
        producer.close()

    assert len(killed_at) == len(KILL_AT)
    messages = {m.to: m for m in Message.objects.filter(campaign=campaign).select_related("brand")}
    copies: dict[str, list[str]] = defaultdict(list)
    for item in smtp_server.sink.received:
        for address in item.rcpt_tos:
            copies[address].append(str(item.message["Message-ID"]))
    # Every recipient got the message, each copy under the one Message-ID of that member's message.
    assert sorted(copies) == sorted(messages)
    ms = MessagingSettings.objects.get(brand=brand)
    for address, ids in copies.items():
        assert set(ids) == {message_id_header(messages[address], ms)}, address
    # A copy only where the server may have taken the message before its worker died: once per kill.
    extra = sum(len(ids) - 1 for ids in copies.values())
    assert extra == {"before": 0, "during": len(KILL_AT), "after": len(KILL_AT)}[point]
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT

    # The figures: how long after each kill the next message reached the server.
    arrivals = sorted(item.at for item in smtp_server.sink.received)
    recovery = [min(at for at in arrivals if at > kill) - kill for kill in killed_at]
    print(
        f"\nkill point {point}: {len(killed_at)} kills, {MEMBERS} messages, {len(arrivals)} arrived, "
        f"{extra} copies, next message {', '.join(f'{s:.1f}' for s in recovery)} s after each kill "
        f"(lease {LEASE_SECONDS} s)"
    )
