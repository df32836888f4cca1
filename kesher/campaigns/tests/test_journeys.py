"""Journeys: a signup gets the welcome email through a real SMTP server and the tips two days later; a paused
journey holds its runs; a member enters once per occurrence; a refused consent skips the send and says why;
the birthday gift is given once a year."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from kesher.activity.services import activity_record
from kesher.campaigns import journeys, tasks
from kesher.campaigns.models import (
    Campaign,
    ConsentBasis,
    Journey,
    JourneyRun,
    JourneyStatus,
    Message,
    MessageStatus,
    MessagingSettings,
    RunStatus,
)
from kesher.campaigns.tests.conftest import member
from kesher.core.errors import Conflict, ValidationFailed
from kesher.core.models import AuditEntry
from kesher.loyalty.models import LedgerEntry, PointsAccount

pytestmark = pytest.mark.django_db(transaction=True)

IL = ZoneInfo("Asia/Jerusalem")


def _advance(at: datetime) -> int:
    return int(tasks.journeys_advance_task(now=at.isoformat()))


def _subjects(sink: Any, address: str) -> list[str]:
    return [str(item.message["Subject"]).strip() for item in sink.to(address)]


def test_signup_gets_the_welcome_email_and_the_tips_after_two_days(brand, smtp_server):
    journey = journeys.journey_install(brand=brand, kind="welcome")
    dana = member(brand, first_name="Dana", email="dana@example.org", locale="en", consents={"email": True})
    member(brand, first_name="נועה", email="noa@example.org", consents={"email": True})
    sink = smtp_server.sink

    assert _subjects(sink, "dana@example.org") == ["Welcome to קפה טוב, Dana"]
    assert _subjects(sink, "noa@example.org") == ["ברוכים הבאים לקפה טוב, נועה"]
    run = JourneyRun.objects.get(journey=journey, member=dana)
    assert (run.status, run.step) == (RunStatus.WAITING, 2)
    welcome = Message.objects.get(journey_run=run, journey_step=0)
    assert (welcome.status, welcome.advertising, welcome.consent_basis) == (
        MessageStatus.SENT,
        False,
        ConsentBasis.SERVICE,
    )
    now = timezone.now()

    assert _advance(now + timedelta(days=1)) == 0
    assert len(sink.received) == 2

    assert _advance(now + timedelta(days=2, minutes=1)) == 2
    assert _subjects(sink, "dana@example.org") == [
        "Welcome to קפה טוב, Dana",
        "פרסומת: Three ways to get more from קפה טוב",
    ]
    assert _subjects(sink, "noa@example.org")[1] == "פרסומת: שלוש דרכים ליהנות יותר מקפה טוב"
    tips = sink.to("dana@example.org")[1].message
    assert tips["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    run.refresh_from_db()
    assert run.status == RunStatus.DONE
    assert [entry["outcome"] for entry in run.log] == ["queued", "queued"]
    tips_message = Message.objects.get(journey_run=run, journey_step=2)
    assert tips_message.consent_basis == ConsentBasis.CONSENT
    assert tips_message.consent_event_id is not None

    # Safe to run twice: nothing is due any more, nothing is sent again.
    assert _advance(now + timedelta(days=2, minutes=2)) == 0
    assert len(sink.received) == 4
    # Each send step keeps its funnel under a campaign of its own, left out of the campaign list.
    assert Campaign.objects.filter(journey=journey).count() == 2


def test_a_paused_journey_holds_its_runs_and_resuming_goes_on(brand, api, smtp_server):
    journey = journeys.journey_install(brand=brand, kind="welcome")
    member(brand, email="dana@example.org", locale="en", consents={"email": True})
    assert len(smtp_server.sink.received) == 1
    now = timezone.now()

    paused = api.post(f"/campaigns/journeys/{journey.pk}/pause")
    assert paused.status == 200, paused.body
    assert paused.body["status"] == "paused"
    assert _advance(now + timedelta(days=3)) == 0
    assert len(smtp_server.sink.received) == 1
    # Nobody new enters a paused journey either.
    member(brand, email="late@example.org", locale="en", consents={"email": True})
    assert smtp_server.sink.to("late@example.org") == []
    assert JourneyRun.objects.filter(journey=journey).count() == 1
    assert AuditEntry.objects.filter(action="journey.pause", target_id=str(journey.pk)).count() == 1

    resumed = api.post(f"/campaigns/journeys/{journey.pk}/resume")
    assert resumed.body["status"] == "active"
    assert _advance(now + timedelta(days=3)) == 1
    assert len(smtp_server.sink.to("dana@example.org")) == 2


def test_a_member_enters_once_per_occurrence(brand):
    journey = journeys.journey_create(
        brand=brand,
        name="Visitors",
        trigger="activity",
        trigger_activity="visit",
        steps=[{"type": "tag", "tag": "Visitor"}],
    )
    dana = member(brand)
    for _ in range(2):  # the same visit, sent twice by the store
        activity_record(
            brand=brand, member=dana, type="visit", attributes={"store": "tlv"}, idempotency_key="visit-1"
        )
    assert JourneyRun.objects.filter(journey=journey, member=dana).count() == 1
    activity_record(
        brand=brand, member=dana, type="visit", attributes={"store": "tlv"}, idempotency_key="visit-2"
    )
    runs = JourneyRun.objects.filter(journey=journey, member=dana)
    assert runs.count() == 2
    assert set(runs.values_list("status", flat=True)) == {RunStatus.DONE}
    dana.refresh_from_db()
    assert dana.interests.count("visitor") == 1

    first = runs.order_by("created_at").first()
    assert first is not None
    assert journeys.journey_enter(journey=journey, member=dana, occurrence=first.occurrence) is None
    assert runs.count() == 2


def test_refused_consent_skips_the_advertisement_and_records_why(brand, smtp_server):
    journey = journeys.journey_install(brand=brand, kind="welcome")
    dana = member(brand, email="dana@example.org", locale="en", consents={"email": False})
    assert len(smtp_server.sink.received) == 1  # the welcome is a service message
    assert _advance(timezone.now() + timedelta(days=2, minutes=1)) == 1

    assert len(smtp_server.sink.received) == 1
    run = JourneyRun.objects.get(journey=journey, member=dana)
    assert run.status == RunStatus.DONE
    assert run.log == [
        {"step": 0, "type": "send", "outcome": "queued"},
        {"step": 2, "type": "send", "outcome": "no_consent"},
    ]
    assert Message.objects.filter(journey_run=run).count() == 1


def test_a_condition_that_fails_ends_the_run(brand, smtp_server):
    journey = journeys.journey_create(
        brand=brand,
        name="Fans of tea",
        trigger="activity",
        trigger_activity="visit",
        steps=[
            {"type": "condition", "rules": {"conditions": [{"kind": "interests", "any": ["tea"]}]}},
            {"type": "send", "channel": "email", "subject": "Tea", "body": "Tea!", "advertising": False},
        ],
    )
    dana = member(brand, email="dana@example.org", interests=["coffee"])
    activity_record(brand=brand, member=dana, type="visit", attributes={"store": "tlv"})
    run = JourneyRun.objects.get(journey=journey)
    assert run.status == RunStatus.EXITED
    assert run.log == [{"step": 0, "type": "condition", "outcome": "condition_not_met"}]
    assert smtp_server.sink.received == []


def test_birthday_gift_is_given_once_a_year(brand, smtp_server):
    journey = journeys.journey_install(brand=brand, kind="birthday")
    dana = member(
        brand,
        first_name="Dana",
        email="dana@example.org",
        locale="en",
        birthday=date(1990, 3, 10),
        consents={"email": True},
    )
    member(brand, email="other@example.org", birthday=date(1990, 3, 11))
    account = PointsAccount.objects.get(member=dana)
    before = account.balance
    birthday = datetime(2026, 3, 10, 9, 0, tzinfo=IL)

    assert journeys.journeys_start_dates(now=birthday) == 1
    assert journeys.journeys_advance(now=birthday) == 1
    account.refresh_from_db()
    assert account.balance == before + 50
    assert _subjects(smtp_server.sink, "dana@example.org") == ["פרסומת: Happy birthday, Dana!"]

    # Later the same day (and again by the periodic task): no second gift.
    assert journeys.journeys_start_dates(now=birthday + timedelta(hours=5)) == 0
    assert journeys.journeys_advance(now=birthday + timedelta(hours=5)) == 0
    assert _advance(birthday + timedelta(hours=6)) == 0
    account.refresh_from_db()
    assert account.balance == before + 50
    assert len(smtp_server.sink.received) == 1

    next_year = datetime(2027, 3, 10, 9, 0, tzinfo=IL)
    assert journeys.journeys_start_dates(now=next_year) == 1
    assert journeys.journeys_advance(now=next_year) == 1
    account.refresh_from_db()
    assert account.balance == before + 100
    assert sorted(JourneyRun.objects.filter(journey=journey).values_list("occurrence", flat=True)) == [
        "2026",
        "2027",
    ]


def test_win_back_enters_once_per_lapse(brand):
    journey = journeys.journey_install(brand=brand, kind="win_back")
    assert (journey.trigger, journey.inactivity_days) == ("inactivity", 90)
    now = timezone.now()
    member(brand, joined_at=now - timedelta(days=200))
    member(brand)  # joined today: not lapsed
    assert journeys.journeys_start_dates(now=now) == 1
    assert journeys.journeys_start_dates(now=now + timedelta(days=1)) == 0


def test_steps_are_checked_and_nothing_is_saved_on_a_mistake(brand):
    bad_steps: list[list[dict[str, Any]]] = [
        [],
        [{"type": "wait"}],
        [{"type": "send", "channel": "email", "body": "Hi", "advertising": True}],
        [{"type": "send", "channel": "sms", "body": "{% load static %}", "advertising": False}],
        [{"type": "condition"}],
        [{"type": "notify", "email": "not an address", "subject": "x"}],
        [{"type": "teleport"}],
    ]
    for steps in bad_steps:
        with pytest.raises(ValidationFailed):
            journeys.journey_create(
                brand=brand, name="Bad", trigger="activity", trigger_activity="visit", steps=steps
            )
    with pytest.raises(ValidationFailed):
        journeys.journey_create(
            brand=brand,
            name="Bad",
            trigger="activity",
            trigger_activity="no_such_type",
            steps=[{"type": "tag", "tag": "x"}],
        )
    with pytest.raises(ValidationFailed):
        journeys.journey_create(
            brand=brand, name="Bad", trigger="inactivity", steps=[{"type": "tag", "tag": "x"}]
        )
    assert Journey.objects.count() == 0


def test_journeys_api(api, brand, make_api, other_brand):
    installed = api.post("/campaigns/journeys/install", {"kind": "welcome"})
    assert installed.status == 201, installed.body
    assert installed.body["name"] == "סדרת ברוכים הבאים"
    assert installed.body["trigger_activity"] == "signup"
    assert [step["type"] for step in installed.body["steps"]] == ["send", "wait", "send"]
    again = api.post("/campaigns/journeys/install", {"kind": "welcome"})
    assert again.status == 409
    assert again.body["error"]["code"] == "journey_installed"

    created = api.post(
        "/campaigns/journeys",
        {
            "name": "Thanks for visiting",
            "trigger": "activity",
            "trigger_activity": "visit",
            "steps": [
                {"type": "wait", "hours": 1},
                {"type": "points", "points": 5, "reason": "Visit bonus"},
                {"type": "notify", "email": "Staff@Example.org", "subject": "New review by {{ first_name }}"},
            ],
        },
    )
    assert created.status == 201, created.body
    assert created.body["steps"][2]["email"] == "staff@example.org"
    refused = api.post(
        "/campaigns/journeys",
        {"name": "Broken", "trigger": "activity", "trigger_activity": "visit", "steps": [{"type": "wait"}]},
    )
    assert refused.status == 422
    assert refused.body["error"]["field"] == "steps.0.wait"

    member(brand, email="dana@example.org")
    listed = api.get("/campaigns/journeys")
    assert listed.status == 200
    by_name = {journey["name"]: journey for journey in listed.body}
    assert set(by_name) == {"סדרת ברוכים הבאים", "Thanks for visiting"}
    assert by_name["סדרת ברוכים הבאים"]["runs"] == {"waiting": 1, "running": 0, "done": 0, "exited": 0}

    # Another brand sees none of it, and a POS key may not manage journeys.
    assert make_api(other_brand, "all").get("/campaigns/journeys").body == []
    assert make_api(other_brand, "all").post(f"/campaigns/journeys/{created.body['id']}/pause").status == 404
    assert make_api(brand, "pos").get("/campaigns/journeys").status == 403
    assert Journey.objects.get(pk=created.body["id"]).status == JourneyStatus.ACTIVE


def test_installing_twice_is_refused(brand):
    journeys.journey_install(brand=brand, kind="points_expiry")
    with pytest.raises(Conflict):
        journeys.journey_install(brand=brand, kind="points_expiry")
    assert Journey.objects.filter(brand=brand).count() == 1


def test_a_visit_gets_a_thank_you_sms_and_the_next_day_an_offer(brand, sms_server, weekday_noon):
    MessagingSettings.objects.create(brand=brand, sms_provider_url=sms_server.url)
    journeys.journey_install(brand=brand, kind="post_visit")
    noa = member(brand, first_name="נועה", phone="050-1234567", consents={"sms": True})
    activity_record(brand=brand, member=noa, type="visit", attributes={"store": "tlv"})

    assert [request.json["text"] for request in sms_server.requests] == [
        "קפה טוב: תודה שביקרת אצלנו היום, נועה! נשמח לראות אותך שוב בקרוב."
    ]
    assert _advance(weekday_noon + timedelta(hours=23)) == 0
    assert _advance(weekday_noon + timedelta(days=1)) == 1
    assert len(sms_server.requests) == 2
    offer = sms_server.requests[1].json["text"]
    assert offer.startswith("פרסומת: נועה, תודה קטנה על הביקור אתמול")
    assert offer.endswith("\nקפה טוב. להסרה השיבו הסר")


@pytest.mark.postgres
def test_two_workers_advancing_at_once_send_each_step_once(brand, smtp_server):
    journey = journeys.journey_create(
        brand=brand,
        name="Hello",
        trigger="birthday",
        steps=[
            {
                "type": "send",
                "channel": "email",
                "subject": "Hi {{ first_name }}",
                "body": "Hi",
                "advertising": False,
            },
            {"type": "points", "points": 7, "reason": "Hello gift"},
        ],
    )
    people = [member(brand, email=f"m{n}@example.org", birthday=date(1990, 3, 10)) for n in range(20)]
    at = datetime(2026, 3, 10, 9, 0, tzinfo=IL)
    assert journeys.journeys_start_dates(now=at) == 20
    before = dict(PointsAccount.objects.filter(member__in=people).values_list("member_id", "balance"))
    barrier = threading.Barrier(2)
    results: list[int] = []

    def work() -> None:
        try:
            barrier.wait()
            results.append(journeys.journeys_advance(now=at))
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(results) == 20
    assert sorted(len(smtp_server.sink.to(person.email)) for person in people) == [1] * 20
    assert Message.objects.filter(journey_run__journey=journey).count() == 20
    after = dict(PointsAccount.objects.filter(member__in=people).values_list("member_id", "balance"))
    assert after == {pk: balance + 7 for pk, balance in before.items()}
    assert LedgerEntry.objects.filter(account__member__in=people, description="Hello gift").count() == 20


def test_staff_are_notified_and_a_tag_is_added(brand, smtp_server):
    journeys.journey_create(
        brand=brand,
        name="VIP visit",
        trigger="activity",
        trigger_activity="visit",
        steps=[
            {"type": "condition", "consent": "email"},
            {"type": "tag", "tag": "Regular"},
            {"type": "notify", "email": "manager@example.org", "subject": "{{ first_name }} is in the store"},
        ],
    )
    dana = member(brand, first_name="Dana", email="dana@example.org", consents={"email": True})
    activity_record(brand=brand, member=dana, type="visit", attributes={"store": "tlv"})

    assert _subjects(smtp_server.sink, "manager@example.org") == ["Dana is in the store"]
    assert _subjects(smtp_server.sink, "dana@example.org") == []
    dana.refresh_from_db()
    assert "regular" in dana.interests
    run = JourneyRun.objects.get(member=dana)
    assert [entry["outcome"] for entry in run.log] == ["met", "tagged", "notified"]
