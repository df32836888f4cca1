"""A/B variants: a test share of the audience gets the variants split evenly, the winner by open (or click)
rate is chosen after the wait and goes to everyone else, each member getting exactly one message."""

from __future__ import annotations

import re
import urllib.parse
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from kesher.campaigns import services
from kesher.campaigns.models import AbState, Campaign, CampaignStatus, CampaignVariant, Message
from kesher.campaigns.tests.conftest import member
from kesher.core.models import AuditEntry

pytestmark = pytest.mark.django_db(transaction=True)

AB: dict[str, Any] = {
    "name": "Spring test",
    "channel": "email",
    "advertising": True,
    "variants": [
        {
            "subject": "Spring A, {{ first_name }}",
            "body": "Hello {{ first_name }}, https://shop.example.org/a",
        },
        {"subject": "Spring B, {{ first_name }}", "body": "Hi {{ first_name }}, https://shop.example.org/b"},
    ],
    "ab_test_percent": 40,
    "ab_wait_hours": 2,
    "ab_metric": "opened",
}


def _pixel_path(raw_html: str) -> str:
    found = re.search(r'src="(https://club\.kesher\.test/c/o/[^"]+)"', raw_html)
    assert found is not None
    return urllib.parse.urlsplit(found.group(1)).path


def _html(received: Any) -> str:
    part = received.message.get_body(preferencelist=("html",))
    return str(part.get_content())


def test_the_winner_by_open_rate_goes_to_the_rest_and_nobody_gets_two(api, brand, smtp_server):
    people = [
        member(brand, first_name=f"M{i}", email=f"m{i}@example.org", consents={"email": True}, locale="en")
        for i in range(10)
    ]
    created = api.post("/campaigns", AB)
    assert created.status == 201, created.body
    assert [v["name"] for v in created.body["variants"]] == ["A", "B"]
    assert created.body["subject"] == "Spring A, {{ first_name }}"  # the first variant stands for it
    assert (created.body["ab_test_percent"], created.body["ab_wait_hours"], created.body["ab_metric"]) == (
        40,
        2,
        "opened",
    )
    campaign_id = created.body["id"]
    b_id = created.body["variants"][1]["id"]
    preview = api.post(f"/campaigns/{campaign_id}/preview", {"member_id": str(people[0].pk), "variant": b_id})
    assert preview.body["subject"] == "פרסומת: Spring B, M0"
    unknown = api.post(f"/campaigns/{campaign_id}/preview", {"variant": str(people[0].pk)})
    assert (unknown.status, unknown.body["error"]["field"]) == (404, "variant")
    assert api.post(f"/campaigns/{campaign_id}/send").status == 202

    # 40% of 10: four members, the variants two each.
    sink = smtp_server.sink
    assert len(sink.received) == 4
    subjects = sorted(item.message["Subject"].split(",")[0] for item in sink.received)
    assert subjects == ["פרסומת: Spring A", "פרסומת: Spring A", "פרסומת: Spring B", "פרסומת: Spring B"]
    campaign = Campaign.objects.get(pk=campaign_id)
    assert (campaign.status, campaign.ab_state) == (CampaignStatus.SENDING, AbState.TESTING)

    # One B message is opened: B leads 50% to 0%.
    b_mail = next(item for item in sink.received if "Spring B" in item.message["Subject"])
    assert Client().get(_pixel_path(_html(b_mail))).status_code == 200
    stats = api.get(f"/campaigns/{campaign_id}/stats").body
    assert [
        (v["name"], v["messages"], v["sent"], v["opened"], v["open_rate"]) for v in stats["variants"]
    ] == [
        ("A", 2, 2, 0, 0.0),
        ("B", 2, 2, 1, 0.5),
    ]
    assert (stats["ab_state"], stats["ab_winner"]) == ("testing", None)

    # Before the wait is over nothing is decided; after it, B goes to the other six.
    sent_at = campaign.ab_test_queued_at
    assert sent_at is not None
    assert services.ab_tests_decide(now=sent_at + timedelta(hours=1)) == 0
    assert len(sink.received) == 4
    assert services.ab_tests_decide(now=sent_at + timedelta(hours=2, minutes=1)) == 1
    assert len(sink.received) == 10
    later = [item.message["Subject"] for item in sink.received[4:]]
    assert all(subject.startswith("פרסומת: Spring B, M") for subject in later)
    assert sorted(r for item in sink.received for r in item.rcpt_tos) == sorted(str(p.email) for p in people)

    campaign.refresh_from_db()
    winner = CampaignVariant.objects.get(campaign=campaign, name="B")
    assert (campaign.status, campaign.ab_state, campaign.ab_winner_id) == ("sent", "decided", winner.pk)
    assert Message.objects.filter(campaign=campaign).count() == 10
    assert Message.objects.filter(campaign=campaign, variant__isnull=True).count() == 6
    audit = AuditEntry.objects.get(action="campaign.ab_winner", target_id=str(campaign.pk))
    assert audit.data == {"winner": "B", "metric": "opened", "rates": {"A": 0.0, "B": 0.5}}

    # Deciding again (a second beat, a second worker) sends nothing more.
    assert services.ab_tests_decide(now=sent_at + timedelta(hours=5)) == 0
    assert len(sink.received) == 10
    stats = api.get(f"/campaigns/{campaign_id}/stats").body
    assert (stats["ab_state"], stats["ab_winner"], stats["sent"], stats["opened"]) == (
        "decided",
        str(winner.pk),
        10,
        1,
    )
    assert [v["winner"] for v in stats["variants"]] == [False, True]


def test_click_rate_decides_and_a_tie_goes_to_the_first(api, brand, smtp_server):
    for i in range(4):
        member(brand, email=f"m{i}@example.org", consents={"email": True}, locale="en")
    created = api.post("/campaigns", {**AB, "ab_metric": "clicked", "ab_test_percent": 50}).body
    api.post(f"/campaigns/{created['id']}/send")
    assert len(smtp_server.sink.received) == 2
    campaign = Campaign.objects.get(pk=created["id"])
    assert campaign.ab_test_queued_at is not None
    assert services.ab_tests_decide(now=campaign.ab_test_queued_at + timedelta(hours=3)) == 1
    campaign.refresh_from_db()
    assert (
        campaign.ab_winner is not None and campaign.ab_winner.name == "A"
    )  # 0% against 0%: the earlier variant
    assert len(smtp_server.sink.received) == 4


def test_the_campaign_page_shows_each_variant(api, brand, smtp_server, admin_client):
    for i in range(5):
        member(brand, email=f"m{i}@example.org", consents={"email": True}, locale="en")
    created = api.post("/campaigns", {**AB, "ab_test_percent": 100}).body
    api.post(f"/campaigns/{created['id']}/send")
    page = admin_client.get(f"/c/staff/{created['id']}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('data-test="variant"') == 2
    assert "Spring B, {{ first_name }}" in html


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"variants": AB["variants"][:1]}, "variants"),
        ({"variants": [{"subject": "", "body": "x"}, {"subject": "s", "body": "y"}]}, "variants.0.subject"),
        ({"variants": [], "body": "b", "subject": "s"}, "ab_test_percent"),
        ({"channel": "sms", "ab_metric": "opened"}, "ab_metric"),
        (
            {"variants": [{"subject": "s", "body": "{{ secret }}"}, {"subject": "s", "body": "y"}]},
            "variants.0",
        ),
    ],
)
def test_a_broken_ab_test_is_refused_and_nothing_is_made(api, brand, change, field):
    answer = api.post("/campaigns", {**AB, **change})
    assert answer.status == 422, answer.body
    assert answer.body["error"]["field"] == field
    assert Campaign.objects.count() == 0
    assert CampaignVariant.objects.count() == 0


def test_beat_runs_the_decision(settings):
    from config.celery import app

    entry = app.conf.beat_schedule["campaigns-ab-decide"]
    assert entry["task"] == "kesher.campaigns.tasks.ab_tests_decide_task"
    assert entry["schedule"] == 300.0


def test_embedded_cron_command_decides_due_tests(api, brand, smtp_server):
    from io import StringIO

    from django.core.management import call_command

    for i in range(2):
        member(brand, email=f"m{i}@example.org", consents={"email": True}, locale="en")
    created = api.post("/campaigns", {**AB, "ab_test_percent": 100, "ab_wait_hours": 1}).body
    api.post(f"/campaigns/{created['id']}/send")
    Campaign.objects.filter(pk=created["id"]).update(ab_test_queued_at=timezone.now() - timedelta(hours=2))
    out = StringIO()
    call_command("campaigns_dispatch_due", stdout=out)
    assert out.getvalue().strip().splitlines() == ["0 messages handed over", "1 A/B tests decided"]
    assert Campaign.objects.get(pk=created["id"]).status == "sent"
