"""Concurrent proofs on PostgreSQL: two deciders of one A/B test send the winner once; two forwards at the
cap cannot both get under it; two queuings of one coupon campaign issue each coupon once; two workers
advancing a journey's coupon step, and two issuers of one step's coupon for one run, issue it once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from kesher.campaigns import journeys, services
from kesher.campaigns.journey_steps import SendStep, steps_parse
from kesher.campaigns.models import (
    Campaign,
    CampaignStatus,
    JourneyRun,
    Message,
    MessageCoupon,
    MessageForward,
)
from kesher.campaigns.tests.conftest import member
from kesher.campaigns.tests.test_ab_tests import AB
from kesher.core.errors import Conflict
from kesher.loyalty.models import Coupon
from kesher.loyalty.services import reward_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def _at_once(work: Callable[[], Any], times: int = 2) -> list[Any]:
    barrier = threading.Barrier(times)
    results: list[Any] = []

    def run() -> None:
        try:
            barrier.wait()
            try:
                results.append(work())
            except Conflict as exc:
                results.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_deciders_at_once_send_the_winner_once(api, brand, smtp_server):
    people = [
        member(brand, email=f"m{i}@example.org", consents={"email": True}, locale="en") for i in range(8)
    ]
    created = api.post("/campaigns", {**AB, "ab_test_percent": 50}).body
    api.post(f"/campaigns/{created['id']}/send")
    assert len(smtp_server.sink.received) == 4
    queued_at = Campaign.objects.get(pk=created["id"]).ab_test_queued_at
    assert queued_at is not None

    results = _at_once(lambda: services.ab_tests_decide(now=queued_at + timedelta(hours=3)))

    assert sorted(results) == [0, 1]
    assert sorted(len(smtp_server.sink.to(str(p.email))) for p in people) == [1] * 8
    assert Message.objects.filter(campaign_id=created["id"]).count() == 8
    assert Campaign.objects.get(pk=created["id"]).status == CampaignStatus.SENT


def test_two_forwards_at_the_cap_cannot_both_pass(api, brand, smtp_server):
    member(brand, email="noa@example.org", consents={"email": True}, locale="en")
    created = api.post(
        "/campaigns",
        {
            **AB,
            "variants": [],
            "ab_test_percent": None,
            "ab_wait_hours": None,
            "ab_metric": None,
            "subject": "Hi",
            "body": "Hi {{ first_name }}",
        },
    ).body
    api.post(f"/campaigns/{created['id']}/send")
    message = Message.objects.get(campaign_id=created["id"])
    for n in range(services.FORWARDS_PER_MESSAGE - 1):
        services.message_forward(message=message, to=f"f{n}@example.org")
    addresses = iter(["late1@example.org", "late2@example.org"])
    lock = threading.Lock()

    def forward() -> Any:
        with lock:
            to = next(addresses)
        return services.message_forward(message=message, to=to)

    results = _at_once(forward)

    assert sorted(r if isinstance(r, str) else "ok" for r in results) == ["forward_limit", "ok"]
    assert MessageForward.objects.filter(message=message).count() == services.FORWARDS_PER_MESSAGE


def test_two_queuings_of_a_coupon_campaign_issue_each_coupon_once(brand):
    reward = reward_create(brand=brand, name="Coffee", cost_points=10, kind="free_item", value=Decimal("5"))
    people = [member(brand, email=f"m{i}@example.org", consents={"email": True}) for i in range(30)]
    campaign = services.campaign_create(
        brand=brand,
        name="C",
        channel="email",
        subject="s",
        body="{{ coupon }}",
        advertising=True,
        coupon_reward=reward,
    )
    with mock.patch("kesher.campaigns.services.sending.queuing_start"):
        services.campaign_send(campaign=campaign)
    with mock.patch("kesher.campaigns.services.sending.messages_dispatch"):
        _at_once(lambda: services.campaign_queue(campaign_id=campaign.pk))

    assert Message.objects.filter(campaign=campaign).count() == 30
    assert MessageCoupon.objects.filter(campaign=campaign).count() == 30
    assert Coupon.objects.filter(reward=reward).count() == 30
    codes = dict(MessageCoupon.objects.filter(campaign=campaign).values_list("member_id", "coupon__code"))
    for message in Message.objects.filter(campaign=campaign):
        assert message.body == codes[message.member_id]
    assert set(codes) == {p.pk for p in people}


def _coupon_journey(brand: Any, reward: Any) -> Any:
    return journeys.journey_create(
        brand=brand,
        name="Birthday coupon",
        trigger="birthday",
        steps=[
            {
                "type": "send",
                "channel": "email",
                "subject": "For you",
                "body": "{{ coupon }}",
                "advertising": False,
                "coupon_reward": str(reward.pk),
            },
        ],
    )


def test_two_workers_advancing_a_coupon_step_at_once_issue_each_coupon_once(brand, smtp_server):
    reward = reward_create(
        brand=brand, name="Coffee", cost_points=10, kind="free_item", value=Decimal("5"), stock=100
    )
    journey = _coupon_journey(brand, reward)
    people = [member(brand, email=f"m{i}@example.org", birthday=date(1990, 3, 10)) for i in range(20)]
    at = datetime(2026, 3, 10, 9, 0, tzinfo=ZoneInfo("Asia/Jerusalem"))
    assert journeys.journeys_start_dates(now=at) == 20

    results = _at_once(lambda: journeys.journeys_advance(now=at))

    assert sorted(results, reverse=True)[0] <= 20 and sum(results) == 20
    codes = dict(
        MessageCoupon.objects.filter(campaign__journey=journey).values_list("member_id", "coupon__code")
    )
    assert set(codes) == {p.pk for p in people}
    assert len(set(codes.values())) == 20
    assert Coupon.objects.filter(reward=reward).count() == 20
    reward.refresh_from_db()
    assert reward.stock == 80
    for person in people:
        [received] = smtp_server.sink.to(str(person.email))
        body = received.message.get_body(preferencelist=("plain",)).get_content()
        assert codes[person.pk] in body
    assert Message.objects.filter(journey_run__journey=journey).count() == 20


def test_two_issuers_of_one_steps_coupon_for_one_run_get_the_same_coupon(brand):
    """Below the run's claim and lock: the (step, run) unique row alone keeps the coupon single, also when
    the reward has no stock to count (nothing else makes the two wait for each other)."""
    reward = reward_create(brand=brand, name="Coffee", cost_points=10, kind="free_item", value=Decimal("5"))
    journey = _coupon_journey(brand, reward)
    step = steps_parse(journey.steps)[0]
    assert isinstance(step, SendStep)
    campaign = journeys._step_campaign(journey, 0, step)
    for n in range(5):
        person = member(brand, email=f"m{n}@example.org")
        run = journeys.journey_enter(journey=journey, member=person, occurrence="2026")
        assert isinstance(run, JourneyRun)

        def issue(person: Any = person, run: Any = run) -> Any:
            fresh = Campaign.objects.select_related("brand", "coupon_reward").get(pk=campaign.pk)
            return services.message_coupon_issue(campaign=fresh, member_id=person.pk, journey_run_id=run.pk)

        results = _at_once(issue)

        assert len(results) == 2 and results[0] == results[1]
        assert list(Coupon.objects.filter(member=person).values_list("code", flat=True)) == [results[0]]
        assert MessageCoupon.objects.get(journey_run=run).coupon.code == results[0]
