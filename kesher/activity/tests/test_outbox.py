"""With a broker, deferred consumers go through the outbox: written with the activity, relayed in batches."""

from __future__ import annotations

import base64
import json
import threading
from typing import Any

import pytest
import redis
from django.db import connection, transaction

from kesher.activity import tasks
from kesher.activity.models import Activity, OutboxEntry
from kesher.activity.registry import consumers_for
from kesher.activity.services import Draft, activities_record_many, activity_record
from kesher.activity.tasks import _claim, outbox_relay
from kesher.core.tests.worker import celery_on_broker, redis_or_skip
from kesher.members.tests.factories import MemberFactory

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

DEFERRED = sorted(name for name, _ in consumers_for("purchase", immediate=False))


@pytest.fixture
def broker() -> Any:
    with celery_on_broker(redis_or_skip()) as url:
        yield redis.Redis.from_url(url)


def queued(broker: redis.Redis) -> list[tuple[str, Any]]:
    """(task name, its arguments) of every message waiting on the broker."""
    found = []
    for raw in broker.lrange("celery", 0, -1):
        message = json.loads(raw)
        body = json.loads(base64.b64decode(message["body"]))
        found.append((message["headers"]["task"], body[0]))
    return found


def purchase(brand: Any, member: Any, amount: str = "10.00") -> Activity:
    return activity_record(brand=brand, member=member, type="purchase", attributes={"amount": amount})[0]


def test_the_entry_commits_with_the_activity_and_one_relay_is_asked_for(brand, broker, monkeypatch) -> None:
    members = [MemberFactory(brand=brand) for _ in range(4)]  # their signups asked for a relay already
    OutboxEntry.objects.all().delete()
    broker.delete("celery")
    monkeypatch.setattr(tasks, "_next_kick", 0.0)  # as if this process had not asked this second
    recorded = [purchase(brand, member) for member in members]
    entries = {str(e.activity_id): sorted(e.consumers) for e in OutboxEntry.objects.all()}
    assert entries == {str(activity.pk): DEFERRED for activity in recorded}
    sent = [name for name, _ in queued(broker)]
    assert sent == ["kesher.activity.tasks.outbox_relay"]  # four activities, one relay, nothing else


def test_a_rolled_back_activity_leaves_no_entry(brand, broker) -> None:
    member = MemberFactory(brand=brand)
    OutboxEntry.objects.all().delete()
    with pytest.raises(RuntimeError), transaction.atomic():
        purchase(brand, member)
        raise RuntimeError("the till's transaction fails")
    assert not OutboxEntry.objects.exists()
    assert not Activity.objects.filter(member=member, type="purchase").exists()


def test_the_relay_publishes_per_consumer_in_batches_and_empties_the_outbox(brand, broker) -> None:
    members = [MemberFactory(brand=brand) for _ in range(3)]
    drafts = [
        Draft(member=m, type="purchase", attributes={"amount": "5.00"}, idempotency_key=f"k{i}")
        for i, m in enumerate(members)
    ]
    OutboxEntry.objects.all().delete()
    outcomes = activities_record_many(brand=brand, drafts=drafts)
    ids = sorted(str(o.activity.pk) for o in outcomes if o.activity is not None)
    assert OutboxEntry.objects.count() == 3
    broker.delete("celery")
    assert outbox_relay() == 3
    assert not OutboxEntry.objects.exists()
    sent = queued(broker)
    assert sorted(name for _, (_, name) in sent) == DEFERRED  # one task a consumer
    assert all(sorted(activity_ids) == ids for _, (activity_ids, _) in sent)
    assert outbox_relay() == 0 and len(queued(broker)) == len(sent)  # nothing twice


@pytest.mark.postgres
def test_two_relays_at_once_never_take_the_same_entry(brand, broker) -> None:
    member = MemberFactory(brand=brand)
    OutboxEntry.objects.all().delete()
    for n in range(40):
        purchase(brand, member, amount=f"{n + 1}.00")
    taken: list[list[str]] = []
    barrier = threading.Barrier(2)

    def relay() -> None:
        try:
            with transaction.atomic():
                barrier.wait()
                claimed = _claim(30)
                barrier.wait(timeout=10)  # both hold their claims at once
                taken.append([activity_id for activity_id, _ in claimed])
        finally:
            connection.close()

    threads = [threading.Thread(target=relay) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    first, second = taken
    assert not set(first) & set(second)
    assert len(first) + len(second) == 40
    assert not OutboxEntry.objects.exists()
