"""The owners' webhooks console: the secret shown once, health, edit, enable/disable, rotate, delete, the
delivery log with its attempts, replay; other roles and other brands refused with nothing changed."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from standardwebhooks.webhooks import Webhook

from kesher.brands.models import StaffRole
from kesher.brands.services import staff_grant
from kesher.core.audit import SYSTEM
from kesher.core.models import AuditEntry
from kesher.core.tests.fingerprint import changed_models, rows_fingerprint
from kesher.members.tests.factories import MemberFactory
from kesher.web.tests.conftest import make_user
from kesher.webhooks.models import Attempt, Delivery, DeliveryStatus, Endpoint
from kesher.webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db(transaction=True)


def _client(brand, role=StaffRole.OWNER, email="owner@example.org") -> Client:
    user = make_user(email)
    staff_grant(brand=brand, user=user, role=role)
    client = Client()
    client.force_login(user)
    return client


def _secret_of(html: str) -> str:
    found = re.search(r'data-test="secret">(whsec_[^<]+)<', html)
    assert found, "no secret on the page"
    return found.group(1)


def test_create_shows_the_secret_once_and_never_again(brand, receiver):
    owner = _client(brand)
    url = reverse("webhooks:create", args=[brand.slug])
    answer = owner.post(url, {"url": receiver.url, "events": ["member.created"], "description": "CRM"})
    assert answer.status_code == 200 and answer["Cache-Control"] == "no-store"
    secret = _secret_of(answer.content.decode())
    endpoint = Endpoint.objects.get(brand=brand)
    assert endpoint.events == ["member.created"] and endpoint.description == "CRM"
    assert secret not in endpoint.secret  # stored encrypted
    assert AuditEntry.objects.filter(brand=brand, action="webhook.create").count() == 1
    for page in (
        reverse("webhooks:console", args=[brand.slug]),
        reverse("webhooks:endpoint", args=[brand.slug, endpoint.pk]),
    ):
        shown = owner.get(page)
        assert shown.status_code == 200
        assert secret not in shown.content.decode() and "whsec_" not in shown.content.decode()
    MemberFactory(brand=brand, email="noa@example.org")  # the secret shown is the one that signs
    got = receiver.received[0]
    assert Webhook(secret).verify(got.body, got.headers)["type"] == "member.created"


def test_rotate_shows_a_new_secret_once(brand):
    owner = _client(brand)
    made = endpoint_create(brand=brand, url="http://127.0.0.1:9/h", events=["member.created"], actor=SYSTEM)
    answer = owner.post(reverse("webhooks:rotate", args=[brand.slug, made.endpoint.pk]))
    new = _secret_of(answer.content.decode())
    assert new != made.secret
    page = owner.get(reverse("webhooks:endpoint", args=[brand.slug, made.endpoint.pk])).content.decode()
    assert new not in page and made.secret not in page


def test_edit_events_disable_enable_and_delete(brand):
    owner = _client(brand)
    made = endpoint_create(brand=brand, url="http://127.0.0.1:9/h", events=["member.created"], actor=SYSTEM)
    pk = made.endpoint.pk
    owner.post(
        reverse("webhooks:events", args=[brand.slug, pk]), {"events": ["member.updated", "points.changed"]}
    )
    assert Endpoint.objects.get(pk=pk).events == ["member.updated", "points.changed"]
    Endpoint.objects.filter(pk=pk).update(consecutive_failures=3)
    owner.post(reverse("webhooks:status", args=[brand.slug, pk]), {"active": "0"})
    found = Endpoint.objects.get(pk=pk)
    assert not found.active
    page = owner.get(reverse("webhooks:console", args=[brand.slug])).content.decode()
    assert 'data-test="health-disabled"' in page
    owner.post(reverse("webhooks:status", args=[brand.slug, pk]), {"active": "1"})
    found = Endpoint.objects.get(pk=pk)
    assert found.active and found.consecutive_failures == 0
    answer = owner.post(reverse("webhooks:delete", args=[brand.slug, pk]))
    assert answer.status_code == 303 and not Endpoint.objects.filter(pk=pk).exists()
    actions = set(AuditEntry.objects.filter(brand=brand).values_list("action", flat=True))
    assert {"webhook.update", "webhook.delete"} <= actions


def test_the_log_shows_attempts_and_status_codes_and_replay_makes_a_new_attempt(brand, receiver):
    owner = _client(brand)
    receiver.answers = [(500, {}), (204, {})]
    made = endpoint_create(brand=brand, url=receiver.url, events=["member.created"], actor=SYSTEM)
    MemberFactory(brand=brand, email="noa@example.org")
    delivery = Delivery.objects.get(endpoint=made.endpoint)
    assert delivery.attempts == 1 and delivery.last_status_code == 500
    page = owner.get(reverse("webhooks:endpoint", args=[brand.slug, made.endpoint.pk])).content.decode()
    assert page.count('data-test="delivery-row"') == 1 and 'data-test="attempt-status">500<' in page
    assert 'data-test="health-failing"' in page
    answer = owner.post(reverse("webhooks:replay", args=[brand.slug, made.endpoint.pk, delivery.pk]))
    assert answer.status_code == 303
    assert list(Attempt.objects.filter(delivery=delivery).values_list("number", "status_code")) == [
        (1, 500),
        (2, 204),
    ]
    assert Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.SUCCEEDED
    assert len(receiver.received) == 2
    page = owner.get(reverse("webhooks:endpoint", args=[brand.slug, made.endpoint.pk])).content.decode()
    assert 'data-test="attempt-status">204<' in page


def test_the_log_pages(brand, settings):
    from kesher.webhooks import views

    owner = _client(brand)
    made = endpoint_create(brand=brand, url="http://127.0.0.1:9/h", events=["member.created"], actor=SYSTEM)
    Endpoint.objects.filter(pk=made.endpoint.pk).update(active=False)  # nothing goes out
    from kesher.webhooks.services.fanout import routes_changed

    routes_changed(brand.pk)
    Endpoint.objects.filter(pk=made.endpoint.pk).update(active=True)
    routes_changed(brand.pk)
    from django.utils import timezone

    now = timezone.now()
    Delivery.objects.bulk_create(
        Delivery(
            brand=brand,
            endpoint=made.endpoint,
            msg_id=f"evt_{n}",
            event_type="member.created",
            body="{}",
            status=DeliveryStatus.SUCCEEDED,
            created_at=now,
        )
        for n in range(views.PAGE_SIZE + 3)
    )
    url = reverse("webhooks:endpoint", args=[brand.slug, made.endpoint.pk])
    first = owner.get(url).content.decode()
    assert first.count('data-test="delivery-row"') == views.PAGE_SIZE
    cursor = re.search(r'href="\?cursor=([^"]+)" data-test="deliveries-older"', first)
    assert cursor
    second = owner.get(url + "?cursor=" + cursor.group(1)).content.decode()
    assert second.count('data-test="delivery-row"') == 3


@pytest.mark.parametrize("role", [StaffRole.MARKETER, StaffRole.ANALYST, StaffRole.MODERATOR])
def test_other_roles_are_refused_and_nothing_changes(brand, role):
    made = endpoint_create(brand=brand, url="http://127.0.0.1:9/h", events=["member.created"], actor=SYSTEM)
    pk = made.endpoint.pk
    MemberFactory(brand=brand, email="noa@example.org")
    delivery = Delivery.objects.get()
    someone = _client(brand, role=role, email=f"{role}@example.org")
    before = rows_fingerprint()
    posts = [
        (
            reverse("webhooks:create", args=[brand.slug]),
            {"url": "http://127.0.0.1:9/x", "events": "member.created"},
        ),
        (reverse("webhooks:events", args=[brand.slug, pk]), {"events": "points.changed"}),
        (reverse("webhooks:status", args=[brand.slug, pk]), {"active": "0"}),
        (reverse("webhooks:rotate", args=[brand.slug, pk]), {}),
        (reverse("webhooks:replay", args=[brand.slug, pk, delivery.pk]), {}),
        (reverse("webhooks:delete", args=[brand.slug, pk]), {}),
    ]
    for url, data in posts:
        assert someone.post(url, data).status_code == 403, url
    assert someone.get(reverse("webhooks:console", args=[brand.slug])).status_code == 403
    assert changed_models(before, rows_fingerprint()) == []


def test_another_brands_owner_sees_and_changes_nothing(brand, other_brand):
    made = endpoint_create(brand=brand, url="http://127.0.0.1:9/h", events=["member.created"], actor=SYSTEM)
    pk = made.endpoint.pk
    stranger = _client(other_brand, email="owner@other.example.org")
    before = rows_fingerprint()
    # Through the other brand's own slug: the endpoint is not found there.
    for name, data in [("events", {"events": "points.changed"}), ("status", {"active": "0"}), ("rotate", {})]:
        assert (
            stranger.post(reverse(f"webhooks:{name}", args=[other_brand.slug, pk]), data).status_code == 404
        )
    assert stranger.post(reverse("webhooks:delete", args=[other_brand.slug, pk])).status_code == 404
    assert stranger.get(reverse("webhooks:endpoint", args=[other_brand.slug, pk])).status_code == 404
    # Through the brand's slug: not its staff.
    assert stranger.post(reverse("webhooks:delete", args=[brand.slug, pk])).status_code == 404
    assert stranger.get(reverse("webhooks:console", args=[brand.slug])).status_code == 404
    assert changed_models(before, rows_fingerprint()) == []
    page = stranger.get(reverse("webhooks:console", args=[other_brand.slug])).content.decode()
    assert "127.0.0.1:9/h" not in page


def test_the_console_in_hebrew_is_right_to_left(brand):
    owner = _client(brand)
    page = owner.get(
        reverse("webhooks:console", args=[brand.slug]), HTTP_ACCEPT_LANGUAGE="he"
    ).content.decode()
    assert 'dir="rtl"' in page and "נקודות קצה" in page
