"""Background work really goes through Celery on Redis when a broker is configured."""

from __future__ import annotations

import json

import pytest
import redis
from kombu import pools

from config.celery import app
from kesher.activity.services import activity_record
from kesher.brands.services import brand_create
from kesher.core.tests.worker import celery_worker, redis_or_skip, wait_for
from kesher.loyalty.models import PointsAccount, Referral
from kesher.members.tests.factories import MemberFactory

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def broker(tmp_path):
    url = redis_or_skip()
    redis.Redis.from_url(url).flushdb()
    before = (app.conf.task_always_eager, app.conf.broker_url)
    _switch_broker(False, url)
    yield url
    _switch_broker(*before)


def _switch_broker(eager: bool, url: str) -> None:
    """Point this process's Celery app at another broker (connection pools are rebuilt lazily)."""
    app.set_current()  # shared tasks send through the current app
    app.conf.task_always_eager = eager
    app.conf.broker_url = url
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


def test_a_referral_is_paid_by_a_worker_after_commit(broker, tmp_path):
    brand = brand_create(slug="worker", name="Worker")
    referrer = MemberFactory(brand=brand)
    friend = MemberFactory(brand=brand, referral_code=referrer.referral_code)
    activity_record(brand=brand, member=friend, type="purchase", attributes={"amount": "10.00"})
    # Committed and queued; nothing in this process paid it.
    assert Referral.objects.get(friend=friend).status == "joined"
    queued = [
        json.loads(raw)["headers"]["task"] for raw in redis.Redis.from_url(broker).lrange("celery", 0, -1)
    ]
    assert queued.count("kesher.loyalty.tasks.referral_pay") == 1
    with celery_worker(broker, log=tmp_path / "worker.log"):
        paid = wait_for(lambda: Referral.objects.get(friend=friend).status == "rewarded")
    assert paid, (tmp_path / "worker.log").read_text()[-3000:]
    assert PointsAccount.objects.get(member=referrer).balance == 100
    assert PointsAccount.objects.get(member=friend).balance == 110
