"""A coupon per message from a journey's send step: each member's message carries a code of its own, through
a real SMTP server in Hebrew and English; once per (step, member, run) however often the run is advanced or
retried; out of stock, the step is skipped for that member (no_coupon) and the run goes on."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from kesher.activity.services import activity_record
from kesher.brands.models import StaffMembership
from kesher.campaigns import journeys, services
from kesher.campaigns.journeys import CLAIM_TIMEOUT
from kesher.campaigns.models import Campaign, Journey, JourneyRun, Message, MessageCoupon, RunStatus
from kesher.campaigns.tests.conftest import member
from kesher.core.errors import NotFound, ValidationFailed
from kesher.core.models import AuditEntry
from kesher.loyalty.models import Coupon, Reward
from kesher.loyalty.services import reward_create

pytestmark = pytest.mark.django_db(transaction=True)

IL = ZoneInfo("Asia/Jerusalem")


def _reward(brand: Any, stock: int | None, name: str = "Free coffee") -> Reward:
    return reward_create(
        brand=brand, name=name, cost_points=100, kind="free_item", value=Decimal("12.00"), stock=stock
    )


def _text(received: Any) -> str:
    return str(received.message.get_body(preferencelist=("plain",)).get_content()).replace("\r\n", "\n")


def _coupon_step(reward: Reward, **extra: Any) -> dict[str, Any]:
    return {
        "type": "send",
        "channel": "email",
        "locale": "he",
        "subject": "קופון בשבילך, {{ first_name }}",
        "body": "שלום {{ first_name }}, הקופון שלך: {{ coupon }}",
        "translations": {
            "en": {
                "subject": "A coupon for you, {{ first_name }}",
                "body": "Hi {{ first_name }}, your coupon: {{ coupon.code }}",
            }
        },
        "advertising": False,
        "coupon_reward": str(reward.pk),
        **extra,
    }


def test_each_member_gets_their_own_coupon_by_email_in_hebrew_and_english(api, brand, smtp_server):
    reward = _reward(brand, stock=10)
    created = api.post(
        "/campaigns/journeys",
        {
            "name": "Thanks for visiting",
            "trigger": "activity",
            "trigger_activity": "visit",
            "steps": [_coupon_step(reward)],
        },
    )
    assert created.status == 201, created.body
    assert created.body["steps"][0]["coupon_reward"] == str(reward.pk)
    noa = member(brand, first_name="נועה", email="noa@example.org", locale="he")
    dana = member(brand, first_name="Dana", email="dana@example.org", locale="en")

    activity_record(brand=brand, member=noa, type="visit", attributes={"store": "tlv"}, idempotency_key="n1")
    activity_record(brand=brand, member=dana, type="visit", attributes={"store": "tlv"}, idempotency_key="d1")

    noa_coupon = Coupon.objects.get(member=noa, reward=reward)
    dana_coupon = Coupon.objects.get(member=dana, reward=reward)
    assert noa_coupon.code != dana_coupon.code
    assert (noa_coupon.cost_points, noa_coupon.status) == (0, "issued")
    [to_noa] = smtp_server.sink.to("noa@example.org")
    [to_dana] = smtp_server.sink.to("dana@example.org")
    assert str(to_noa.message["Subject"]).strip() == "קופון בשבילך, נועה"
    assert f"שלום נועה, הקופון שלך: {noa_coupon.code}" in _text(to_noa)
    assert str(to_dana.message["Subject"]).strip() == "A coupon for you, Dana"
    assert f"Hi Dana, your coupon: {dana_coupon.code}" in _text(to_dana)
    run = JourneyRun.objects.get(member=noa)
    assert run.status == RunStatus.DONE
    assert run.log == [{"step": 0, "type": "send", "outcome": "queued"}]
    link = MessageCoupon.objects.get(coupon=noa_coupon)
    assert (link.journey_run_id, link.member_id) == (run.pk, noa.pk)
    reward.refresh_from_db()
    assert reward.stock == 8

    # The step's campaign carries the reward: its preview shows the sample code and issues nothing.
    step_campaign = Campaign.objects.get(journey_id=created.body["id"], journey_step=0)
    assert step_campaign.coupon_reward_id == reward.pk
    preview = api.post(f"/campaigns/{step_campaign.pk}/preview", {"member_id": str(dana.pk)}).body
    assert "your coupon: SAMPLE0COUPON" in preview["text"]
    assert Coupon.objects.filter(reward=reward).count() == 2

    # The next occurrence (another visit) is another run: another message with another coupon.
    activity_record(brand=brand, member=noa, type="visit", attributes={"store": "tlv"}, idempotency_key="n2")
    codes = sorted(Coupon.objects.filter(member=noa, reward=reward).values_list("code", flat=True))
    assert len(codes) == 2
    assert (
        sorted(_text(r).split("הקופון שלך: ")[1].split()[0] for r in smtp_server.sink.to("noa@example.org"))
        == codes
    )


def test_the_console_shows_the_steps_coupon_in_hebrew_and_english(brand):
    reward = _reward(brand, stock=None, name="קפה חינם")
    journey = journeys.journey_create(
        brand=brand, name="Thanks", trigger="activity", trigger_activity="visit", steps=[_coupon_step(reward)]
    )
    user = get_user_model().objects.create_user(username="mira")
    StaffMembership.objects.create(brand=brand, user=user, role="marketer")
    client = Client()
    client.force_login(user)

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "he"
    hebrew = client.get(f"/c/staff/journeys/{journey.pk}/").content.decode()
    assert re.search(r'data-test="step-coupon">קופון לכל הודעה: <bdi>קפה חינם</bdi>', hebrew), hebrew
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.get(f"/c/staff/journeys/{journey.pk}/").content.decode()
    assert 'data-test="step-coupon">Coupon per message: <bdi>קפה חינם</bdi>' in english


def _birthday_journey(brand: Any, reward: Reward) -> Journey:
    """Waits a day after the birthday, sends the coupon, then tags the member (to show the run goes on)."""
    return journeys.journey_create(
        brand=brand,
        name="Birthday coupon",
        trigger="birthday",
        steps=[
            {"type": "wait", "days": 1},
            _coupon_step(reward),
            {"type": "tag", "tag": "birthday-coupon"},
        ],
    )


AT = datetime(2026, 3, 10, 9, 0, tzinfo=IL)


def test_advancing_twice_or_retrying_after_a_failure_issues_the_coupon_once(brand, smtp_server):
    reward = _reward(brand, stock=5)
    journey = _birthday_journey(brand, reward)
    noa = member(brand, email="noa@example.org", locale="en", birthday=date(1990, 3, 10))
    assert journeys.journeys_start_dates(now=AT) == 1
    assert journeys.journeys_advance(now=AT) == 1  # to the wait
    due = AT + timedelta(days=1, minutes=1)

    # The first try fails after issuing the coupon, inside the step's transaction: nothing stays behind.
    with mock.patch("kesher.campaigns.journeys.MessageEvent.objects.create", side_effect=RuntimeError("db")):
        assert journeys.journeys_advance(now=due) == 0
    assert Coupon.objects.count() == 0
    assert MessageCoupon.objects.count() == 0
    assert Message.objects.count() == 0
    reward.refresh_from_db()
    assert reward.stock == 5
    run = JourneyRun.objects.get(journey=journey)
    assert run.status == RunStatus.RUNNING  # left claimed by the failed worker

    # Taken over once the claim is stale, then advanced again: one message, one coupon.
    later = due + CLAIM_TIMEOUT + timedelta(minutes=1)
    assert journeys.journeys_advance(now=later) == 1
    assert journeys.journeys_advance(now=later) == 0
    assert journeys.journey_run_advance(run_id=run.pk, now=later) is False
    coupon = Coupon.objects.get(member=noa)
    assert MessageCoupon.objects.get().coupon_id == coupon.pk
    [received] = smtp_server.sink.to("noa@example.org")
    assert f"your coupon: {coupon.code}" in _text(received)
    reward.refresh_from_db()
    assert reward.stock == 4
    run.refresh_from_db()
    assert run.status == RunStatus.DONE
    assert [entry["outcome"] for entry in run.log] == ["queued", "tagged"]

    # Asking for the step's coupon again (a retry of the same step and run) gives the same code back.
    step_campaign = Campaign.objects.get(journey=journey, journey_step=1)
    again = services.message_coupon_issue(campaign=step_campaign, member_id=noa.pk, journey_run_id=run.pk)
    assert again == coupon.code
    assert Coupon.objects.count() == 1


def test_out_of_stock_skips_the_step_for_that_member_and_the_run_goes_on(brand, smtp_server):
    reward = _reward(brand, stock=1)
    journey = _birthday_journey(brand, reward)
    people = [
        member(brand, email=f"m{n}@example.org", locale="en", birthday=date(1990, 3, 10)) for n in range(2)
    ]
    journeys.journeys_start_dates(now=AT)
    journeys.journeys_advance(now=AT)
    assert journeys.journeys_advance(now=AT + timedelta(days=1, minutes=1)) == 2

    [coupon] = Coupon.objects.filter(reward=reward)
    lucky = coupon.member
    [unlucky] = [person for person in people if person.pk != lucky.pk]
    assert len(smtp_server.sink.received) == 1
    assert f"your coupon: {coupon.code}" in _text(smtp_server.sink.to(lucky.email)[0])
    # No message with an empty code: the step is skipped for the member, with the reason, and the run
    # goes on to its next step.
    assert smtp_server.sink.to(unlucky.email) == []
    assert not Message.objects.filter(member=unlucky).exists()
    run = JourneyRun.objects.get(journey=journey, member=unlucky)
    assert run.status == RunStatus.DONE
    assert run.log == [
        {"step": 1, "type": "send", "outcome": "no_coupon"},
        {"step": 2, "type": "tag", "outcome": "tagged"},
    ]
    reward.refresh_from_db()
    assert reward.stock == 0
    assert MessageCoupon.objects.count() == 1
    # The empty grant left nothing behind (only the real one is audited).
    assert AuditEntry.objects.filter(action="reward.surprise").count() == 1


def test_a_steps_reward_must_be_the_brands_own(api, brand, other_brand):
    foreign = _reward(other_brand, stock=None)
    payload = {
        "name": "Coupon",
        "trigger": "activity",
        "trigger_activity": "visit",
        "steps": [{"type": "wait", "hours": 1}, _coupon_step(foreign)],
    }
    answer = api.post("/campaigns/journeys", payload)
    assert (answer.status, answer.body["error"]["field"]) == (404, "steps.1.coupon_reward")
    with pytest.raises(NotFound):
        journeys.journey_create(
            brand=brand,
            name="Coupon",
            trigger="activity",
            trigger_activity="visit",
            steps=[_coupon_step(foreign)],
        )
    # {{ coupon }} with no reward would send an empty code: refused.
    no_reward = {**_coupon_step(foreign), "coupon_reward": None}
    with pytest.raises(ValidationFailed):
        journeys.journey_create(
            brand=brand, name="Coupon", trigger="activity", trigger_activity="visit", steps=[no_reward]
        )
    assert not Journey.objects.exists()


def test_a_reward_gone_from_the_catalog_skips_the_step_too(brand, smtp_server):
    reward = _reward(brand, stock=None)
    journey = _birthday_journey(brand, reward)
    member(brand, email="noa@example.org", locale="en", birthday=date(1990, 3, 10))
    reward.delete()  # nothing was issued from it yet, so nothing holds it
    journeys.journeys_start_dates(now=AT)
    journeys.journeys_advance(now=AT)
    journeys.journeys_advance(now=AT + timedelta(days=1, minutes=1))

    run = JourneyRun.objects.get(journey=journey)
    assert [(entry["step"], entry["outcome"]) for entry in run.log] == [(1, "no_coupon"), (2, "tagged")]
    assert run.status == RunStatus.DONE
    assert smtp_server.sink.received == []
    assert not Campaign.objects.filter(journey=journey).exists()
