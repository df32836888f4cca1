"""Portal notices (the third channel), the staff pages of journeys, and the Hebrew-birthday trigger."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from hdate.hebrew_date import HebrewDate

from kesher.brands.models import Brand, StaffMembership
from kesher.campaigns import journeys
from kesher.campaigns.models import Journey, JourneyRun, Message, MessageEvent
from kesher.campaigns.tests.conftest import member
from kesher.core.models import AuditEntry
from kesher.members.models import Member

pytestmark = pytest.mark.django_db(transaction=True)


def _signed_in(brand: Brand, name: str, **fields: Any) -> tuple[Member, Client]:
    user = get_user_model().objects.create_user(username=name, password="x")
    person = member(brand, **fields)
    Member.objects.filter(pk=person.pk).update(user=user)
    client = Client()
    client.force_login(user)
    return person, client


def _badge(client: Client) -> int:
    """What the header's badge shows: every page links to the notices and fetches this count."""
    page = client.get("/portal/").content.decode()
    assert 'data-test="notices-link"' in page and "/c/notices/unread" in page
    answer = client.get("/c/notices/unread")
    assert answer.status_code == 200
    return int(answer.json()["unread"])


NOTICE = {"name": "Notice", "channel": "portal", "subject": "Hello {{ first_name }}", "locale": "en"}


def test_portal_notices_reach_signed_in_members_by_the_consent_rules(api, brand):
    noa, noa_client = _signed_in(
        brand, "noa", first_name="Noa", email="noa@example.org", consents={"email": True}
    )
    dan, dan_client = _signed_in(brand, "dan", first_name="Dan", email="dan@example.org", consents={})
    member(brand, email="gil@example.org", consents={"email": True})  # no portal login

    # An advertisement in the portal relies on email consent; a service notice needs none.
    ad = api.post(
        "/campaigns",
        {**NOTICE, "advertising": True, "body": "A sale, {{ first_name }}: https://shop.example.org"},
    )
    assert ad.status == 201, ad.body
    sent = api.post(f"/campaigns/{ad.body['id']}/send").body
    assert sent["audience"] == {
        "in_segment": 3,
        "reachable": 1,
        "no_address": 1,
        "no_consent": 1,
        "inactive": 0,
    }
    service = api.post("/campaigns", {**NOTICE, "advertising": False, "body": "Your card is ready"}).body
    api.post(f"/campaigns/{service['id']}/send")

    ad_message = Message.objects.get(campaign_id=ad.body["id"])
    assert (ad_message.member_id, ad_message.status, ad_message.subject) == (
        noa.pk,
        "sent",
        "פרסומת: Hello Noa",
    )
    assert ad_message.consent_basis == "consent" and ad_message.consent_event_id is not None
    assert Message.objects.filter(campaign_id=service["id"], status="sent").count() == 2

    page = noa_client.get("/c/notices/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('data-test="notice"') == 2
    assert _badge(noa_client) == 2
    assert "/c/l/" in html  # links in a notice are tracked

    # Mark one read: the badge counts one, the funnel has an open.
    answer = noa_client.post("/c/notices/read", {"id": str(ad_message.pk)})
    assert answer.status_code == 302
    html = noa_client.get("/c/notices/").content.decode()
    assert _badge(noa_client) == 1
    assert MessageEvent.objects.filter(message=ad_message, kind="opened").count() == 1
    assert api.get(f"/campaigns/{ad.body['id']}/stats").body["opened"] == 1

    # Someone else's notice cannot be marked.
    dan_notice = Message.objects.get(campaign_id=service["id"], member=dan)
    assert noa_client.post("/c/notices/read", {"id": str(dan_notice.pk)}).status_code == 404
    assert not MessageEvent.objects.filter(message=dan_notice, kind="opened").exists()

    # Mark all read.
    noa_client.post("/c/notices/read")
    assert _badge(noa_client) == 0
    assert Client().get("/c/notices/unread").json() == {"unread": 0}  # signed out: nothing to count
    assert dan_client.get("/c/notices/").content.decode().count('data-test="notice"') == 1


def test_a_portal_notice_has_no_test_send(api, brand):
    _signed_in(brand, "noa", email="noa@example.org", consents={"email": True})
    created = api.post("/campaigns", {**NOTICE, "advertising": False, "body": "Hi {{ first_name }}"}).body
    answer = api.post(f"/campaigns/{created['id']}/test", {"to": "staff@example.org"})
    assert (answer.status, answer.body["error"]["field"]) == (422, "to")
    preview = api.post(f"/campaigns/{created['id']}/preview", {}).body
    assert preview["subject"].startswith("Hello ")


def _staff(brand: Brand, role: str, name: str) -> tuple[Any, Client]:
    user = get_user_model().objects.create_user(username=name)
    StaffMembership.objects.create(brand=brand, user=user, role=role)
    client = Client()
    client.force_login(user)
    return user, client


def test_staff_switch_on_follow_and_pause_journeys(brand, other_brand):
    user, client = _staff(brand, "marketer", "mira")
    listing = client.get("/c/staff/journeys/")
    assert listing.status_code == 200
    assert listing.content.decode().count('data-test="install-') == 6  # the whole library

    answer = client.post("/c/staff/journeys/install", {"brand": str(brand.pk), "kind": "birthday"})
    assert answer.status_code == 302
    journey = Journey.objects.get(brand=brand, kind="birthday")
    assert AuditEntry.objects.get(action="journey.create", target_id=str(journey.pk)).actor_user_id == user.pk
    # Another brand's library is not this user's to switch on.
    refused = client.post("/c/staff/journeys/install", {"brand": str(other_brand.pk), "kind": "welcome"})
    assert refused.status_code == 403
    assert not Journey.objects.filter(brand=other_brand).exists()

    now = datetime(2026, 3, 10, 9, 0, tzinfo=ZoneInfo("UTC"))
    people = [member(brand, email=f"m{i}@example.org") for i in range(3)]
    for person in people:
        journeys.journey_enter(journey=journey, member=person, occurrence="2026", now=now + timedelta(days=1))
    JourneyRun.objects.filter(member=people[0]).update(status="done")
    JourneyRun.objects.filter(member=people[1]).update(status="exited")

    html = client.get("/c/staff/journeys/").content.decode()
    assert html.count('data-test="install-') == 5
    assert 'data-test="runs-waiting">1<' in html
    page = client.get(f"/c/staff/journeys/{journey.pk}/").content.decode()
    assert page.count("<li data-type=") == len(journey.steps)
    assert 'data-test="runs-done">1<' in page and 'data-test="runs-exited">1<' in page

    assert client.post(f"/c/staff/journeys/{journey.pk}/status", {"status": "paused"}).status_code == 302
    journey.refresh_from_db()
    assert journey.status == "paused"
    audit = AuditEntry.objects.get(action="journey.pause", target_id=str(journey.pk))
    assert audit.actor_user_id == user.pk
    assert 'data-test="journey-resume"' in client.get(f"/c/staff/journeys/{journey.pk}/").content.decode()

    # An analyst reads but may not pause or resume.
    _, analyst = _staff(brand, "analyst", "ana")
    assert analyst.get(f"/c/staff/journeys/{journey.pk}/").status_code == 200
    assert analyst.post(f"/c/staff/journeys/{journey.pk}/status", {"status": "active"}).status_code == 403
    journey.refresh_from_db()
    assert journey.status == "paused"
    assert AuditEntry.objects.filter(action="journey.resume").count() == 0
    # Someone with no role in the brand sees nothing.
    _, stranger = _staff(other_brand, "marketer", "olga")
    assert stranger.get(f"/c/staff/journeys/{journey.pk}/").status_code == 403


def _same_hebrew_day_in(year: int, today: date) -> date:
    """A day of `year` whose Hebrew day and month are those of `today`, on another Gregorian date."""
    target = HebrewDate.from_gdate(today)
    day = date(year, 1, 1)
    while day.year == year:
        hebrew = HebrewDate.from_gdate(day)
        if (hebrew.month, hebrew.day) == (target.month, target.day) and (day.month, day.day) != (
            today.month,
            today.day,
        ):
            return day
        day += timedelta(days=1)
    raise AssertionError("no such day")


def test_hebrew_birthday_journey_starts_on_the_hebrew_date_once_a_hebrew_year(api, brand):
    now = datetime(2026, 3, 10, 9, 0, tzinfo=ZoneInfo("Asia/Jerusalem"))
    today = now.date()
    born = _same_hebrew_day_in(1994, today)  # 5754, like 5786 a year with one Adar
    hebrew_kid = member(brand, email="h@example.org", birthday=born)
    gregorian_kid = member(brand, email="g@example.org", birthday=date(1995, 3, 10))
    steps = [{"type": "tag", "tag": "birthday"}]
    hebrew = api.post("/campaigns/journeys", {"name": "Hebrew", "trigger": "hebrew_birthday", "steps": steps})
    assert hebrew.status == 201, hebrew.body
    api.post("/campaigns/journeys", {"name": "Gregorian", "trigger": "birthday", "steps": steps})

    assert journeys.journeys_start_dates(now=now) == 2
    runs = {
        (run.journey.name, run.member_id, run.occurrence)
        for run in JourneyRun.objects.select_related("journey")
    }
    year = HebrewDate.from_gdate(today).year
    assert runs == {("Hebrew", hebrew_kid.pk, f"hebrew:{year}"), ("Gregorian", gregorian_kid.pk, "2026")}
    assert journeys.journeys_start_dates(now=now + timedelta(hours=3)) == 0  # once per occurrence


def test_a_journey_step_can_leave_a_portal_notice_but_not_a_coupon_without_a_reward(brand):
    from kesher.activity.services import activity_record
    from kesher.core.errors import ValidationFailed

    noa, noa_client = _signed_in(brand, "noa", first_name="Noa", email="noa@example.org", consents={})
    journey = journeys.journey_create(
        brand=brand,
        name="Thanks",
        trigger="activity",
        trigger_activity="visit",
        steps=[
            {
                "type": "send",
                "channel": "portal",
                "subject": "Thanks {{ first_name }}",
                "body": "Come again",
                "advertising": False,
                "locale": "en",
            },
            {
                "type": "send",
                "channel": "portal",
                "subject": "An offer",
                "body": "10% off",
                "advertising": True,
                "locale": "en",
            },
        ],
    )
    activity_record(brand=brand, member=noa, type="visit", attributes={"store": "tlv"}, idempotency_key="v1")
    run = JourneyRun.objects.get(journey=journey, member=noa)
    assert [(entry["step"], entry["outcome"]) for entry in run.log] == [(0, "queued"), (1, "no_consent")]
    assert _badge(noa_client) == 1
    assert Message.objects.get(journey_run=run).subject == "Thanks Noa"

    with pytest.raises(ValidationFailed):
        journeys.journey_create(
            brand=brand,
            name="Coupon",
            trigger="activity",
            trigger_activity="visit",
            steps=[
                {
                    "type": "send",
                    "channel": "email",
                    "subject": "s",
                    "body": "{{ coupon }}",
                    "advertising": False,
                }
            ],
        )
    assert Journey.objects.filter(name="Coupon").count() == 0
