"""Two dispatchers at once on PostgreSQL: FOR UPDATE SKIP LOCKED claims mean no attempt is sent twice."""

from __future__ import annotations

import threading
import uuid
from collections import Counter

import pytest
from django.db import connection

from kesher.core.audit import SYSTEM
from kesher.core.events import Event
from kesher.webhooks.models import Attempt, Delivery, DeliveryStatus
from kesher.webhooks.services import endpoint_create, fan_out, webhooks_dispatch

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_concurrent_dispatchers_never_send_the_same_attempt_twice(brand, receiver, second_receiver):
    for url in (receiver.url, second_receiver.url):
        endpoint_create(brand=brand, url=url, events=["member.created"], actor=SYSTEM)
    events = 150
    for n in range(events):
        fan_out(
            Event(brand_id=brand.pk, type="member.created", data={"member_id": str(uuid.uuid4()), "n": n}),
            kick=False,
        )
    assert Delivery.objects.count() == 2 * events
    start = threading.Barrier(2)
    sent: list[int] = []

    def worker() -> None:
        try:
            start.wait()
            sent.append(webhooks_dispatch(limit=10))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(sent) == 2 * events and all(count > 0 for count in sent)  # both worked, together all
    for got in (receiver, second_receiver):
        ids = Counter(r.headers["webhook-id"] for r in got.received)
        assert len(ids) == events and set(ids.values()) == {1}  # each message exactly once
    assert Attempt.objects.count() == 2 * events
    assert set(Delivery.objects.values_list("status", "attempts").distinct()) == {
        (DeliveryStatus.SUCCEEDED, 1)
    }


def test_an_endpoint_removed_while_a_change_announces_to_it_waits_and_the_change_commits(brand, receiver):
    """The fan-out writes inside the announcing transaction and holds the endpoint (FOR KEY SHARE): a removal
    at that moment waits for the change's commit, then takes the new deliveries with it; the change is
    never failed by the deliveries' foreign key."""
    from django.db import transaction

    from kesher.core.events import event_emit
    from kesher.members.models import Member
    from kesher.members.tests.factories import MemberFactory
    from kesher.webhooks.models import Endpoint
    from kesher.webhooks.services import endpoint_delete

    endpoint = endpoint_create(
        brand=brand, url=receiver.url, events=["member.updated"], actor=SYSTEM
    ).endpoint
    member = MemberFactory(brand=brand, first_name="Noa")
    announced, removed = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def remover() -> None:
        try:
            announced.wait(10)
            endpoint_delete(brand=brand, endpoint_id=endpoint.pk, actor=SYSTEM)
            removed.set()
        except Exception as exc:  # recorded for the assertion below
            outcome["remover"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=remover)
    thread.start()
    with transaction.atomic():
        Member.objects.filter(pk=member.pk).update(first_name="Dana")
        event_emit(brand_id=brand.pk, type="member.updated", data={"member_id": str(member.pk)})
        assert Delivery.objects.filter(endpoint=endpoint).count() == 1  # written in this transaction
        announced.set()
        assert not removed.wait(1.0)  # the removal waits for this transaction
    thread.join(10)
    assert "remover" not in outcome and removed.is_set()
    assert Member.objects.get(pk=member.pk).first_name == "Dana"  # the change committed
    assert not Endpoint.objects.filter(pk=endpoint.pk).exists() and Delivery.objects.count() == 0
