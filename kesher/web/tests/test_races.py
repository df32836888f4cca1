"""The redeem form sent many times at once (double clicks, impatient reloads) spends once: on PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from kesher.brands.services import brand_create
from kesher.loyalty.models import Coupon, PointsAccount, Reward
from kesher.loyalty.services import ledger_verify
from kesher.web.accounts import memberships_link
from kesher.web.tests.conftest import club_scene

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_ten_copies_of_one_redeem_form_at_once_give_one_coupon():
    scene = club_scene(brand_create(slug="cafe", name="קפה טוב", default_locale="he"))
    memberships_link(user=scene.member_user)
    coffee = Reward.objects.get(brand=scene.brand, cost_points=60)
    form = {"member": str(scene.member.pk), "reward": str(coffee.pk), "token": str(uuid.uuid4())}
    clients = []
    for _ in range(10):
        client = Client()
        client.force_login(scene.member_user)
        clients.append(client)
    start = threading.Barrier(len(clients))

    def send(client: Client) -> tuple[int, str]:
        try:
            start.wait()
            response: Any = client.post("/portal/redeem/", form)
            return response.status_code, response["Location"]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        answers = list(pool.map(send, clients))

    new = Coupon.objects.exclude(pk=scene.coupon.pk).get(member=scene.member)
    assert answers == [(303, f"/portal/?new={new.code}#coupon-{new.code}")] * 10
    assert PointsAccount.objects.get(member=scene.member).balance == 60
    assert ledger_verify() == []


def test_ten_clicks_at_once_on_one_consent_button_record_one_withdrawal():
    from kesher.members.models import ConsentEvent, Member

    scene = club_scene(brand_create(slug="cafe", name="קפה טוב", default_locale="he"))
    memberships_link(user=scene.member_user)
    Member.objects.filter(pk=scene.member.pk).update(consent_sms=True)
    before = ConsentEvent.objects.filter(member=scene.member).count()
    form = {"member": str(scene.member.pk), "channel": "sms", "granted": "0"}
    clients = []
    for _ in range(10):
        client = Client()
        client.force_login(scene.member_user)
        clients.append(client)
    start = threading.Barrier(len(clients))

    def send(client: Client) -> int:
        try:
            start.wait()
            return int(client.post("/portal/settings/consent/", form).status_code)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        answers = list(pool.map(send, clients))

    assert answers == [303] * 10
    events = ConsentEvent.objects.filter(member=scene.member).order_by("occurred_at")
    assert events.count() == before + 1
    assert (events.last().channel, events.last().granted, events.last().source) == ("sms", False, "portal")  # type: ignore[union-attr]
    assert Member.objects.get(pk=scene.member.pk).consent_sms is False
