"""Background work really goes through Celery on Redis when a broker is configured."""

from __future__ import annotations

import json

import pytest
import redis

from kesher.activity.models import ConsumerRun, OutboxEntry
from kesher.activity.registry import consumers_for
from kesher.activity.services import activity_record
from kesher.brands.services import brand_create
from kesher.core.tests.worker import celery_on_broker, celery_worker, redis_or_skip, wait_for
from kesher.loyalty.models import PointsAccount, Referral
from kesher.members.tests.factories import MemberFactory

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def broker():
    with celery_on_broker(redis_or_skip()) as url:
        yield url


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


def test_deferred_consumers_reach_the_worker_through_the_outbox(broker, tmp_path):
    brand = brand_create(slug="outbox", name="Outbox")
    members = [MemberFactory(brand=brand) for _ in range(3)]
    ConsumerRun.objects.all().delete()
    OutboxEntry.objects.all().delete()
    purchases = [
        activity_record(brand=brand, member=member, type="purchase", attributes={"amount": "10.00"})[0]
        for member in members
    ]
    deferred = sorted(name for name, _ in consumers_for("purchase", immediate=False))
    assert deferred  # journeys and conversions wait for the worker
    # Committed with the activities; one relay asked for (this process asks at most once a second).
    assert OutboxEntry.objects.filter(activity_id__in=[p.pk for p in purchases]).count() == 3
    queued = [
        json.loads(raw)["headers"]["task"] for raw in redis.Redis.from_url(broker).lrange("celery", 0, -1)
    ]
    assert queued.count("kesher.activity.tasks.outbox_relay") == 1
    with celery_worker(broker, log=tmp_path / "worker.log"):
        done = wait_for(
            lambda: (
                ConsumerRun.objects.filter(activity_id__in=[p.pk for p in purchases]).count()
                == len(purchases) * len(deferred)
            )
        )
    assert done, (tmp_path / "worker.log").read_text()[-3000:]
    assert not OutboxEntry.objects.exists()
    for purchase in purchases:
        ran = ConsumerRun.objects.filter(activity_id=purchase.pk).values_list("consumer", flat=True)
        assert sorted(ran) == deferred
