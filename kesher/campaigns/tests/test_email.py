"""Email campaigns through a real SMTP server: what arrives, what the law asks of it, and what one click on
its unsubscribe link does."""

from __future__ import annotations

import smtplib
import urllib.parse
from datetime import timedelta
from email.headerregistry import Address
from typing import Any
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone

from kesher.activity.models import Activity
from kesher.campaigns import services
from kesher.campaigns.models import (
    Campaign,
    CampaignStatus,
    EventKind,
    Message,
    MessageEvent,
    MessageStatus,
    MessagingSettings,
)
from kesher.campaigns.tests.conftest import member
from kesher.members.models import ConsentEvent

pytestmark = pytest.mark.django_db(transaction=True)

SPRING = {
    "name": "Spring",
    "channel": "email",
    "subject": "מבצע אביב, {{ first_name }}",
    "body": "שלום {{ first_name }},\n\nיש לך {{ points }} נקודות.\nלפרטים: https://shop.example.org/spring?x=1.",
    "advertising": True,
    "translations": {
        "en": {
            "subject": "Spring sale, {{ first_name }}",
            "body": "Hello {{ first_name }}, see https://shop.example.org/en",
        }
    },
}


def _part(message: Any, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None, f"no text/{subtype} part"
    return str(part.get_content()).replace("\r\n", "\n")


def _create_and_send(api: Any, payload: dict[str, Any]) -> tuple[str, Any]:
    created = api.post("/campaigns", payload)
    assert created.status == 201, created.body
    sent = api.post(f"/campaigns/{created.body['id']}/send")
    return created.body["id"], sent


def test_advertisement_arrives_personal_marked_and_unsubscribable_in_one_click(api, brand, smtp_server):
    noa = member(brand, first_name="נועה", email="noa@example.org", consents={"email": True}, locale="he")
    dan = member(brand, first_name="Dan", email="dan@example.org", consents={"email": True}, locale="en")
    member(brand, first_name="רון", email="ron@example.org", consents={"email": False})
    member(brand, first_name="גיל", email=None, consents={"sms": True})

    campaign_id, sent = _create_and_send(api, SPRING)

    assert sent.status == 202
    assert sent.body["started"] is True
    assert sent.body["audience"] == {
        "in_segment": 4,
        "reachable": 2,
        "no_address": 1,
        "no_consent": 1,
        "inactive": 0,
    }
    sink = smtp_server.sink
    assert sorted(r for item in sink.received for r in item.rcpt_tos) == [
        "dan@example.org",
        "noa@example.org",
    ]

    hebrew = sink.to("noa@example.org")[0].message
    assert hebrew["Subject"] == "פרסומת: מבצע אביב, נועה"
    sender = hebrew["From"].addresses[0]
    assert sender == Address(display_name="קפה טוב", addr_spec="club@kesher.test")
    assert hebrew["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = hebrew["List-Unsubscribe"].strip().strip("<>")
    assert unsubscribe.startswith("https://club.kesher.test/c/u/")
    html = _part(hebrew, "html")
    text = _part(hebrew, "plain")
    assert 'dir="rtl"' in html and 'lang="he"' in html
    assert "שלום נועה," in html and "שלום נועה," in text
    assert "shop.example.org/spring?x=1" not in text.split("https://club.kesher.test/c/l/")[0]  # tracked
    assert "https://club.kesher.test/c/o/" in html  # the open pixel
    assert unsubscribe in html and unsubscribe in text

    english = sink.to("dan@example.org")[0].message
    assert english["Subject"] == "פרסומת: Spring sale, Dan"
    assert 'dir="ltr"' in _part(english, "html")
    assert "Hello Dan," in _part(english, "plain")

    # Each message records the consent grant it relied on.
    noa_message = Message.objects.get(campaign_id=campaign_id, member=noa)
    grant = ConsentEvent.objects.get(member=noa, channel="email", granted=True)
    assert (noa_message.consent_basis, noa_message.consent_event_id) == ("consent", grant.pk)

    # RFC 8058: a POST to the List-Unsubscribe URL, with no session and no CSRF token, unsubscribes.
    path = urllib.parse.urlsplit(unsubscribe).path
    answer = Client(enforce_csrf_checks=True).post(
        path, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert answer.status_code == 200
    noa.refresh_from_db()
    assert noa.consent_email is False
    withdrawal = ConsentEvent.objects.filter(member=noa, channel="email").order_by("-id")[0]
    assert (withdrawal.granted, withdrawal.source) == (False, "unsubscribe_link")
    assert Activity.objects.filter(member=noa, type="message_unsubscribed").count() == 1
    dan.refresh_from_db()
    assert dan.consent_email is True

    stats = api.get(f"/campaigns/{campaign_id}/stats").body
    assert {k: stats[k] for k in ("status", "messages", "queued", "sent", "unsubscribed", "failed")} == {
        "status": "sent",
        "messages": 2,
        "queued": 2,
        "sent": 2,
        "unsubscribed": 1,
        "failed": 0,
    }
    assert stats["excluded"]["no_consent"] == 1

    # Sending again sends nothing new.
    again = api.post(f"/campaigns/{campaign_id}/send")
    assert again.status == 200
    assert again.body["started"] is False
    assert len(sink.received) == 2
    assert Message.objects.filter(campaign_id=campaign_id).count() == 2


def test_unsubscribe_link_opened_in_a_browser_asks_first(api, brand, smtp_server):
    noa = member(brand, email="noa@example.org", consents={"email": True})
    _create_and_send(api, SPRING)
    unsubscribe = smtp_server.sink.received[0].message["List-Unsubscribe"].strip().strip("<>")
    path = urllib.parse.urlsplit(unsubscribe).path
    page = Client().get(path)
    assert page.status_code == 200
    assert b'data-test="confirm-unsubscribe"' in page.content
    noa.refresh_from_db()
    assert noa.consent_email is True  # a GET (a link scanner) changes nothing
    assert Client().post(path).status_code == 200
    assert Client().post(path).status_code == 200  # twice is fine, and proves once
    noa.refresh_from_db()
    assert noa.consent_email is False
    assert ConsentEvent.objects.filter(member=noa, channel="email", granted=False).count() == 1
    assert Client().get("/c/u/forged:token").status_code == 404


def test_no_consent_means_nothing_is_sent(api, brand, smtp_server):
    member(brand, email="a@example.org", consents={"email": False})
    member(brand, email="b@example.org", consents={"sms": True})
    campaign_id, sent = _create_and_send(api, SPRING)
    assert sent.body["audience"]["reachable"] == 0
    assert smtp_server.sink.received == []
    assert Message.objects.filter(campaign_id=campaign_id).count() == 0
    assert Campaign.objects.get(pk=campaign_id).status == CampaignStatus.SENT


def test_service_message_needs_no_consent_and_says_what_it_is(api, brand, smtp_server):
    noa = member(brand, first_name="נועה", email="noa@example.org", consents={"email": False})
    payload = {**SPRING, "advertising": False, "subject": "הקבלה שלך", "translations": {}}
    campaign_id, _ = _create_and_send(api, payload)
    received = smtp_server.sink.to("noa@example.org")
    assert len(received) == 1
    assert received[0].message["Subject"] == "הקבלה שלך"
    message = Message.objects.get(campaign_id=campaign_id, member=noa)
    assert (message.consent_basis, message.consent_event_id, message.advertising) == ("service", None, False)
    assert MessageEvent.objects.get(message=message, kind="sent").data["consent_basis"] == "service"


def test_consent_withdrawn_after_queuing_withholds_the_message(
    brand, smtp_server, django_capture_on_commit_callbacks
):
    noa = member(brand, email="noa@example.org", consents={"email": True})
    campaign = services.campaign_create(
        brand=brand, name="x", channel="email", subject="s", body="hi {{ first_name }}", advertising=True
    )
    with mock.patch("kesher.campaigns.services.sending.queuing_start"):
        services.campaign_send(campaign=campaign)
    with mock.patch("kesher.campaigns.services.sending.messages_dispatch"):
        assert services.campaign_queue(campaign_id=campaign.pk) == 1
    from kesher.members.services import consent_set

    consent_set(member=noa, channel="email", granted=False, source="portal")
    message = Message.objects.get(campaign=campaign)
    outcome = services.messages_deliver(message_ids=[message.pk], claim_token="t1")
    assert (outcome.sent, outcome.suppressed) == (0, 1)
    assert smtp_server.sink.received == []
    message.refresh_from_db()
    assert message.status == MessageStatus.SUPPRESSED


def _queued(brand: Any, count: int, **campaign_fields: Any) -> tuple[Campaign, list[Message]]:
    for index in range(count):
        member(brand, email=f"m{index}@example.org", first_name=f"M{index}", consents={"email": True})
    campaign = services.campaign_create(
        brand=brand,
        name="batch",
        channel="email",
        subject="s",
        body="hi {{ first_name }}",
        advertising=campaign_fields.pop("advertising", True),
        **campaign_fields,
    )
    with mock.patch("kesher.campaigns.services.sending.queuing_start"):
        services.campaign_send(campaign=campaign)
    with mock.patch("kesher.campaigns.services.sending.messages_dispatch"):
        services.campaign_queue(campaign_id=campaign.pk)
    return campaign, list(Message.objects.filter(campaign=campaign).order_by("to"))


def test_a_message_is_sent_once_however_often_delivery_runs(brand, smtp_server):
    campaign, messages = _queued(brand, 3)
    ids = [m.pk for m in messages]
    first = services.messages_deliver(message_ids=ids, claim_token="task-a")
    second = services.messages_deliver(message_ids=ids, claim_token="task-b")
    again = services.messages_deliver(message_ids=ids, claim_token="task-a")
    assert (first.sent, second.sent, again.sent) == (3, 0, 0)
    assert len(smtp_server.sink.received) == 3
    assert sorted(r.rcpt_tos[0] for r in smtp_server.sink.received) == [m.to for m in messages]
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT


def test_a_task_that_died_after_claiming_takes_its_message_back_and_no_other_task_may(brand, smtp_server):
    _campaign, messages = _queued(brand, 2)
    held, other = messages
    # The worker running task "dead" claimed `held`, then died before a byte went out.
    Message.objects.filter(pk=held.pk).update(status=MessageStatus.SENDING, claim_token="dead", attempts=1)
    stranger = services.messages_deliver(message_ids=[held.pk, other.pk], claim_token="stranger")
    assert stranger.sent == 1
    assert [r.rcpt_tos for r in smtp_server.sink.received] == [[other.to]]
    # The broker hands the same task out again: it finishes what it held.
    resumed = services.messages_deliver(message_ids=[held.pk, other.pk], claim_token="dead")
    assert resumed.sent == 1
    assert sorted(r.rcpt_tos[0] for r in smtp_server.sink.received) == sorted([held.to, other.to])
    held.refresh_from_db()
    assert (held.status, held.attempts) == (MessageStatus.SENT, 2)


def test_refused_mailbox_is_a_bounce_and_an_activity(brand, smtp_server):
    _campaign, messages = _queued(brand, 2)
    smtp_server.sink.refuse.add(messages[0].to)
    outcome = services.messages_deliver(message_ids=[m.pk for m in messages], claim_token="t")
    assert (outcome.sent, outcome.bounced) == (1, 1)
    bounced = Message.objects.get(pk=messages[0].pk)
    assert bounced.status == MessageStatus.BOUNCED
    assert MessageEvent.objects.filter(message=bounced, kind="bounced").count() == 1
    activity = Activity.objects.get(member_id=bounced.member_id, type="message_bounced")
    assert activity.attributes["message_id"] == str(bounced.pk)


def test_mail_server_down_defers_then_sends_once_when_it_is_back(brand, smtp_server):
    _campaign, messages = _queued(brand, 2)
    ids = [m.pk for m in messages]
    with mock.patch("kesher.campaigns.channels.get_connection") as broken:
        broken.return_value.open.side_effect = ConnectionRefusedError("refused")
        outcome = services.messages_deliver(message_ids=ids, claim_token="t1")
    assert (outcome.sent, outcome.deferred, outcome.failed) == (0, 2, 0)
    assert all(m.status == MessageStatus.QUEUED for m in Message.objects.filter(pk__in=ids))
    assert services.messages_dispatch_due(now=timezone.now()) == 0  # not yet due
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(minutes=2)):
        assert services.messages_dispatch_due() == 2
    assert len(smtp_server.sink.received) == 2
    assert services.messages_deliver(message_ids=ids, claim_token="t2").sent == 0
    assert len(smtp_server.sink.received) == 2


def test_data_refused_after_being_sent_is_never_retried(brand, smtp_server):
    _campaign, messages = _queued(brand, 1)
    with mock.patch(
        "django.core.mail.backends.smtp.EmailBackend._send",
        side_effect=smtplib.SMTPServerDisconnected("gone"),
    ):
        outcome = services.messages_deliver(message_ids=[messages[0].pk], claim_token="t")
    assert (outcome.sent, outcome.failed) == (0, 1)
    failed = Message.objects.get(pk=messages[0].pk)
    assert failed.status == MessageStatus.FAILED
    assert "SMTPServerDisconnected" in failed.error
    assert services.messages_deliver(message_ids=[failed.pk], claim_token="t").sent == 0
    assert smtp_server.sink.received == []


def test_weekly_cap_leaves_out_members_who_had_enough_advertisements(brand, smtp_server):
    MessagingSettings.objects.create(brand=brand, weekly_advertising_cap=1)
    first, _ = _queued(brand, 2)
    services.messages_deliver(message_ids=list(first.messages.values_list("pk", flat=True)), claim_token="a")
    second = services.campaign_create(
        brand=brand, name="again", channel="email", subject="s", body="hi {{ first_name }}", advertising=True
    )
    with mock.patch("kesher.campaigns.services.sending.queuing_start"):
        services.campaign_send(campaign=second)
    assert services.campaign_queue(campaign_id=second.pk) == 0
    second.refresh_from_db()
    assert second.exclusions["frequency_cap"] == 2
    assert len(smtp_server.sink.received) == 2
    # A service message is not an advertisement and is not capped.
    service = services.campaign_create(
        brand=brand, name="svc", channel="email", subject="s", body="hi {{ first_name }}", advertising=False
    )
    with mock.patch("kesher.campaigns.services.sending.queuing_start"):
        services.campaign_send(campaign=service)
    assert services.campaign_queue(campaign_id=service.pk) == 2


def test_content_blocks_follow_interests(api, brand, smtp_server):
    member(brand, email="f@example.org", first_name="Fay", interests=["fashion"], consents={"email": True})
    member(brand, email="p@example.org", first_name="Pat", interests=["baby"], consents={"email": True})
    member(brand, email="o@example.org", first_name="Oz", interests=[], consents={"email": True})
    payload = {
        "name": "Blocks",
        "channel": "email",
        "subject": "For you",
        "body": "Hi {{ first_name }}\n\n{{ block }}",
        "advertising": True,
        "locale": "en",
        "blocks": [
            {"interests": ["fashion"], "text": "TRENDS for {{ first_name }}"},
            {"interests": ["baby", "parenting"], "text": "PARENTING"},
            {"text": "NEWS"},
        ],
    }
    _create_and_send(api, payload)
    texts = {item.rcpt_tos[0]: _part(item.message, "plain") for item in smtp_server.sink.received}
    assert texts["f@example.org"].startswith("Hi Fay\n\nTRENDS for Fay")
    assert texts["p@example.org"].startswith("Hi Pat\n\nPARENTING")
    assert texts["o@example.org"].startswith("Hi Oz\n\nNEWS")


def test_open_pixel_and_tracked_link_are_recorded_once_each_and_as_activities(api, brand, smtp_server):
    noa = member(brand, email="noa@example.org", consents={"email": True})
    campaign_id, _ = _create_and_send(api, SPRING)
    html = _part(smtp_server.sink.received[0].message, "html")
    pixel = html.split('<img src="')[1].split('"')[0]
    link = html.split('<a href="')[1].split('"')[0]
    client = Client()
    for _ in range(3):
        image = client.get(urllib.parse.urlsplit(pixel).path)
        assert image.status_code == 200 and image["Content-Type"] == "image/gif"
    redirect = client.get(urllib.parse.urlsplit(link).path)
    assert redirect.status_code == 302
    assert redirect["Location"] == "https://shop.example.org/spring?x=1"
    client.get(urllib.parse.urlsplit(link).path)
    assert client.get("/c/l/" + "A" * 22 + ".0:forged").status_code == 404
    assert client.get("/c/o/forged.gif").status_code == 200  # an image whatever happens
    stats = api.get(f"/campaigns/{campaign_id}/stats").body
    assert (stats["opened"], stats["clicked"]) == (1, 1)
    assert MessageEvent.objects.filter(kind=EventKind.CLICKED).count() == 2
    assert Activity.objects.filter(member=noa, type="message_opened").count() == 1
    clicked = Activity.objects.get(member=noa, type="message_clicked")
    assert clicked.attributes["url"] == "https://shop.example.org/spring?x=1"
    assert clicked.attributes["campaign_id"] == campaign_id


def test_a_purchase_after_the_message_is_its_conversion(api, brand, smtp_server):
    noa = member(brand, email="noa@example.org", consents={"email": True})
    campaign_id, _ = _create_and_send(api, SPRING)
    bought = api.post(
        "/activities",
        {"member_id": str(noa.pk), "type": "purchase", "attributes": {"amount": "120.00"}},
        idem="p-1",
    )
    assert bought.status == 201, bought.body
    stats = api.get(f"/campaigns/{campaign_id}/stats").body
    assert stats["converted"] == 1
    converted = Activity.objects.get(member=noa, type="message_converted")
    assert converted.attributes["purchase_id"] == bought.body["id"]
