"""Real deliveries to a local HTTP server: signed per Standard Webhooks (checked with the standardwebhooks
library's own verifier), retried on the schedule, Retry-After honoured, 410 disabling, rotation with both
signatures, owners told when an endpoint keeps failing, and the address guard at delivery."""

from __future__ import annotations

import json
import socket
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from kesher.brands.models import StaffRole
from kesher.brands.services import staff_grant
from kesher.core.audit import SYSTEM
from kesher.members.hooks import member_erase_run
from kesher.members.services import member_update
from kesher.members.tests.factories import MemberFactory
from kesher.webhooks.models import Attempt, Delivery, DeliveryStatus, Endpoint
from kesher.webhooks.services import (
    SCHEDULE,
    endpoint_create,
    endpoint_rotate,
    retry_delay,
    webhooks_dispatch,
)
from kesher.webhooks.services.dispatch import FAILED_DELIVERIES_NOTICE

pytestmark = pytest.mark.django_db(transaction=True)


def _register(brand, url, events=("member.created",)):
    return endpoint_create(brand=brand, url=url, events=list(events), actor=SYSTEM)


def _make_due(delivery: Delivery) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_a_member_created_is_delivered_signed_and_the_library_verifies_it(brand, receiver):
    made = _register(brand, receiver.url)
    member = MemberFactory(brand=brand, first_name="Noa", email="noa@example.org")
    assert len(receiver.received) == 1
    got = receiver.received[0]
    payload = Webhook(made.secret).verify(got.body, got.headers)
    assert payload["type"] == "member.created"
    assert payload["data"]["member_id"] == str(member.pk) and payload["data"]["email"] == "noa@example.org"
    assert got.headers["webhook-id"].startswith("evt_")
    assert got.headers["webhook-signature"].startswith("v1,")
    assert got.headers["content-type"] == "application/json"
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.last_status_code == 200
    assert list(Attempt.objects.values_list("number", "status_code")) == [(1, 200)]
    with pytest.raises(WebhookVerificationError):  # another secret does not verify
        Webhook(_register(brand, receiver.url).secret).verify(got.body, got.headers)


def test_only_endpoints_hearing_the_event_get_it_and_never_another_brands(
    brand, other_brand, receiver, second_receiver
):
    _register(brand, receiver.url, events=["member.updated"])
    _register(other_brand, second_receiver.url, events=["member.created", "member.updated"])
    off = _register(brand, second_receiver.url, events=["member.updated"]).endpoint
    Endpoint.objects.filter(pk=off.pk).update(active=False)
    from kesher.webhooks.services.fanout import routes_changed

    routes_changed(brand.pk)
    member = MemberFactory(brand=brand)  # member.created: nobody of this brand hears it
    assert receiver.received == [] and second_receiver.received == []
    member_update(member=member, changes={"first_name": "Dana"})
    assert [json.loads(r.body)["type"] for r in receiver.received] == ["member.updated"]
    assert json.loads(receiver.received[0].body)["data"]["changed"] == ["first_name"]
    assert second_receiver.received == []
    assert Delivery.objects.filter(brand=other_brand).count() == 0


def test_a_failed_attempt_is_retried_with_the_same_webhook_id_on_the_schedule(brand, receiver):
    receiver.answers = [(500, {}), (200, {})]
    made = _register(brand, receiver.url)
    MemberFactory(brand=brand)
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
    assert delivery.next_attempt_at is not None
    wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
    assert 3.5 <= wait <= 5.6  # 5 s, give or take the jitter
    assert webhooks_dispatch() == 0  # not due yet: nothing is sent
    _make_due(delivery)
    assert webhooks_dispatch() == 1
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"] and first.body == second.body
    Webhook(made.secret).verify(second.body, second.headers)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 2
    assert list(Attempt.objects.order_by("number").values_list("number", "status_code")) == [
        (1, 500),
        (2, 200),
    ]


def test_retry_after_is_honoured(brand, receiver):
    receiver.answers = [(503, {"Retry-After": "120"})]
    _register(brand, receiver.url)
    MemberFactory(brand=brand)
    delivery = Delivery.objects.get()
    assert delivery.next_attempt_at is not None
    wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
    assert 115 <= wait <= 121


def test_the_schedule_spans_about_three_days_with_jitter():
    assert SCHEDULE == (0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
    assert 2.9 < sum(SCHEDULE) / 86400 < 3.2
    waits = {round(retry_delay(3), 3) for _ in range(50)}
    assert len(waits) > 1 and all(1620 <= wait <= 1980 for wait in waits)  # 30 min ± 10 %
    assert retry_delay(len(SCHEDULE)) is None  # the round is spent after ten attempts
    assert retry_delay(1, retry_after=600) == 600


def test_a_410_disables_the_endpoint_and_tells_the_owners(brand, receiver):
    owner = get_user_model().objects.create_user(username="owner", email="owner@example.org", password="x")
    staff_grant(brand=brand, user=owner, role=StaffRole.OWNER)
    receiver.answers = [(410, {})]
    made = _register(brand, receiver.url)
    MemberFactory(brand=brand)
    endpoint = Endpoint.objects.get(pk=made.endpoint.pk)
    assert not endpoint.active and "410" in endpoint.disabled_reason
    assert Delivery.objects.get().status == DeliveryStatus.FAILED
    assert [message.to for message in mail.outbox] == [["owner@example.org"]]
    MemberFactory(brand=brand)  # a disabled endpoint hears nothing more
    assert len(receiver.received) == 1 and Delivery.objects.count() == 1


def test_owners_are_told_once_when_deliveries_keep_failing_every_attempt(brand, receiver):
    owner = get_user_model().objects.create_user(username="owner", email="owner@example.org", password="x")
    staff_grant(brand=brand, user=owner, role=StaffRole.OWNER)
    receiver.answers = [(500, {})]
    made = _register(brand, receiver.url)
    for n in range(FAILED_DELIVERIES_NOTICE + 2):
        MemberFactory(brand=brand)
        # Spend the rest of the round at once: as if the nine retries had all come and failed.
        Delivery.objects.filter(status=DeliveryStatus.PENDING).update(attempts=len(SCHEDULE) - 1)
        Delivery.objects.filter(status=DeliveryStatus.PENDING).update(next_attempt_at=timezone.now())
        webhooks_dispatch()
        if n < FAILED_DELIVERIES_NOTICE - 1:
            assert mail.outbox == []
    assert Delivery.objects.filter(status=DeliveryStatus.FAILED).count() == FAILED_DELIVERIES_NOTICE + 2
    endpoint = Endpoint.objects.get(pk=made.endpoint.pk)
    assert endpoint.consecutive_failures == FAILED_DELIVERIES_NOTICE + 2 and endpoint.active
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["owner@example.org"]
    assert receiver.url in mail.outbox[0].body
    # It recovers: the failure count and the notice are reset.
    receiver.answers = [(200, {})]
    MemberFactory(brand=brand)
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0 and endpoint.owners_told_at is None


def test_during_a_rotation_both_secrets_verify_and_after_it_only_the_new(brand, receiver):
    made = _register(brand, receiver.url)
    rotated = endpoint_rotate(brand=brand, endpoint_id=made.endpoint.pk, actor=SYSTEM)
    assert rotated.secret != made.secret
    MemberFactory(brand=brand)
    got = receiver.received[-1]
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    Webhook(made.secret).verify(got.body, got.headers)
    Webhook(rotated.secret).verify(got.body, got.headers)
    Endpoint.objects.filter(pk=made.endpoint.pk).update(
        previous_secret_until=timezone.now() - timedelta(seconds=1)
    )
    MemberFactory(brand=brand)
    later = receiver.received[-1]
    assert len(later.headers["webhook-signature"].split(" ")) == 1
    Webhook(rotated.secret).verify(later.body, later.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(made.secret).verify(later.body, later.headers)


def test_in_production_an_inward_address_is_refused_at_delivery_too(brand, receiver, settings):
    made = _register(brand, receiver.url)  # registered while private addresses were allowed
    settings.KESHER_WEBHOOKS_ALLOW_PRIVATE = False
    MemberFactory(brand=brand)
    assert receiver.received == []  # nothing left the process
    attempt = Attempt.objects.get()
    assert attempt.status_code is None and "private or reserved" in attempt.error
    assert Delivery.objects.get(endpoint=made.endpoint).status == DeliveryStatus.PENDING  # retried later


def test_the_connection_goes_to_the_address_that_was_checked(brand, receiver, monkeypatch):
    """DNS rebinding: the name is resolved once per attempt, checked, and the post connects to that very
    address (the name in the Host header); a second, different answer is never asked for or used."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def resolve(host, *args, **kwargs):
        if host == "hooks.example.test":
            asked.append(host)
            address = "127.0.0.1" if len(asked) == 1 else "203.0.113.9"  # the rebinding answer
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, receiver.port))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    made = _register(brand, f"http://hooks.example.test:{receiver.port}/in")
    asked.clear()
    MemberFactory(brand=brand)
    assert asked == ["hooks.example.test"]
    got = receiver.received[0]
    assert got.headers["host"] == f"hooks.example.test:{receiver.port}" and got.path == "/in"
    Webhook(made.secret).verify(got.body, got.headers)


def test_an_erased_member_leaves_no_personal_data_in_deliveries(brand, receiver):
    receiver.answers = [(500, {})]
    _register(brand, receiver.url, events=["member.created", "member.updated"])
    member = MemberFactory(brand=brand, first_name="Yael", email="yael@example.org", phone="052-1234567")
    member_update(member=member, changes={"last_name": "Cohen"})
    other = MemberFactory(brand=brand, first_name="Avi", email="avi@example.org")
    assert Delivery.objects.filter(member_id=member.pk).count() == 2
    member_erase_run(member=member)
    for delivery in Delivery.objects.filter(member_id=member.pk):
        assert "yael" not in delivery.body.lower() and "cohen" not in delivery.body.lower()
        assert "1234567" not in delivery.body
        assert json.loads(delivery.body)["data"] == {"member_id": str(member.pk), "redacted": True}
    assert "avi@example.org" in Delivery.objects.get(member_id=other.pk).body  # others untouched
    # A pending one goes out redacted.
    receiver.answers = [(200, {})]
    receiver.received.clear()
    Delivery.objects.update(next_attempt_at=timezone.now())
    webhooks_dispatch()
    assert all(b"yael" not in r.body.lower() for r in receiver.received) and len(receiver.received) == 3


def test_kesher_tick_delivers_a_due_retry(brand, receiver, capsys):
    """The embedded mode's cron: `kesher tick` runs the dispatcher once, so a retry that fell due goes out."""
    from kesher.cli import main

    receiver.answers = [(503, {}), (200, {})]
    _register(brand, receiver.url)
    MemberFactory(brand=brand, email="noa@example.org")
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
    assert main(["tick"]) == 0  # not due yet: nothing goes
    assert len(receiver.received) == 1
    _make_due(delivery)
    capsys.readouterr()
    assert main(["tick"]) == 0
    assert "webhooks_sent=1" in capsys.readouterr().out
    assert len(receiver.received) == 2
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 2
