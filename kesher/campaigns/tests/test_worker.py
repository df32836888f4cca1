"""A real Celery worker on Redis sends a campaign through a real SMTP server; the worker is killed (SIGKILL)
in the middle of an SMTP conversation and started again, and every member still gets exactly one email."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from celery import Celery
from django.conf import settings as django_settings

from kesher.campaigns import services
from kesher.campaigns.models import CampaignStatus, Message, MessageStatus
from kesher.campaigns.tests.conftest import member
from kesher.core.tests.worker import REDIS_URL as TEST_REDIS_URL

# The suite's Redis database (KESHER_TEST_REDIS_URL), so two suites on one machine do not share one.
REDIS_URL = os.environ.get("KESHER_CAMPAIGNS_TEST_REDIS_URL", TEST_REDIS_URL)
MEMBERS = 150
KILL_AT_RECIPIENT = 60  # in the first delivery batch of 100
ROOT = Path(__file__).resolve().parents[3]

WORKER = """
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django
django.setup()
from config.celery import app
# Redeliver the task of a worker that died within seconds, not the default hour.
app.conf.broker_transport_options = {"visibility_timeout": 3}
app.worker_main(["worker", "--pool", "solo", "--loglevel", "WARNING", "--without-gossip", "--without-mingle",
                 "--without-heartbeat", "--hostname", "campaigns-test@%h"])
"""


def _redis_or_skip() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).flushdb()
    except redis.exceptions.ConnectionError as exc:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {exc}")


def _start_worker(smtp_port: int) -> subprocess.Popen[bytes]:
    database = django_settings.DATABASES["default"]
    host = f"{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}"
    url = f"postgresql://{database['USER']}@{host}/{database['NAME']}"
    env = {
        **os.environ,
        "KESHER_BROKER_URL": REDIS_URL,
        "KESHER_DATABASE_URL": url,
        "KESHER_EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "KESHER_DEFAULT_FROM_EMAIL": "Kesher <club@kesher.test>",
        "KESHER_BASE_URL": "https://club.kesher.test",
        "KESHER_LOG_FORMAT": "text",
        "KESHER_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen([sys.executable, "-c", WORKER], cwd=ROOT, env=env)


def _wait(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_killing_the_worker_mid_send_still_delivers_each_message_exactly_once(brand, smtp_server):
    _redis_or_skip()
    for index in range(MEMBERS):
        member(brand, email=f"m{index:03d}@example.org", first_name=f"M{index}", consents={"email": True})
    campaign = services.campaign_create(
        brand=brand, name="crash", channel="email", subject="s", body="hi {{ first_name }}", advertising=True
    )
    workers: list[subprocess.Popen[bytes]] = [_start_worker(smtp_server.port)]
    killed: list[str] = []

    def kill_mid_conversation(address: str, count: int) -> None:
        # The worker has claimed this message and waits for our answer to RCPT TO: it dies right here.
        if count == KILL_AT_RECIPIENT and not killed:
            killed.append(address)
            os.kill(workers[0].pid, signal.SIGKILL)

    smtp_server.sink.on_rcpt = kill_mid_conversation
    producer = Celery(broker=REDIS_URL, set_as_current=False)  # shared tasks must keep the project app
    try:
        with mock.patch(
            "kesher.campaigns.services.sending.queuing_start",
            lambda campaign_id: producer.send_task(
                "kesher.campaigns.tasks.campaign_queue_task", args=[str(campaign_id)]
            ),
        ):
            services.campaign_send(campaign=campaign)
        _wait(lambda: workers[0].poll() is not None, 120, "the worker to be killed mid-send")
        assert workers[0].returncode == -signal.SIGKILL
        held = Message.objects.get(campaign=campaign, to=killed[0])
        assert held.status == MessageStatus.SENDING  # claimed, never finished: the dead worker's
        workers.append(_start_worker(smtp_server.port))
        _wait(
            lambda: (
                not Message.objects.filter(
                    campaign=campaign, status__in=[MessageStatus.QUEUED, MessageStatus.SENDING]
                ).exists()
            ),
            240,  # generous: a loaded CI machine is slow, and a quiet one takes about 20 s
            "every message to leave",
        )
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                try:
                    worker.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    worker.kill()
        producer.close()

    delivered = Counter(rcpt for item in smtp_server.sink.received for rcpt in item.rcpt_tos)
    assert len(delivered) == MEMBERS
    assert set(delivered.values()) == {1}, [address for address, n in delivered.items() if n > 1]
    assert delivered[killed[0]] == 1
    statuses = Counter(Message.objects.filter(campaign=campaign).values_list("status", flat=True))
    assert statuses == {MessageStatus.SENT: MEMBERS}
    held.refresh_from_db()
    assert held.attempts == 2
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT
