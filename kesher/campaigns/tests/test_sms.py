"""SMS campaigns through a local HTTP server standing in for the provider (generic JSON and Twilio's form),
delivery receipts and replies by webhook, and the hours when no SMS may go."""

from __future__ import annotations

import base64
import io
from datetime import datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.test import Client

from kesher.activity.models import Activity
from kesher.campaigns import services, tracking
from kesher.campaigns.models import Message, MessageEvent, MessageStatus, MessagingSettings
from kesher.campaigns.quiet_hours import sms_allowed, sms_next_allowed
from kesher.campaigns.tests.conftest import member
from kesher.members.models import ConsentEvent

TRANSACTIONS = pytest.mark.django_db(transaction=True)  # sending starts after commit

ISRAEL = ZoneInfo("Asia/Jerusalem")
SALE = {
    "name": "Weekend sale",
    "channel": "sms",
    "body": "{{ first_name }}, 20% הנחה השבוע! https://shop.example.org/s",
    "advertising": True,
}


def _send(api, payload=SALE):  # type: ignore[no-untyped-def]
    created = api.post("/campaigns", payload)
    assert created.status == 201, created.body
    sent = api.post(f"/campaigns/{created.body['id']}/send")
    assert sent.status == 202, sent.body
    return created.body["id"]


@TRANSACTIONS
def test_advertisement_sms_through_a_generic_http_provider(api, brand, sms_server, weekday_noon):
    MessagingSettings.objects.create(
        brand=brand,
        sms_provider_url=sms_server.url.replace("http://", "http://club:s3cret@") + "/send",
        sms_sender="Cafe",
    )
    noa = member(brand, first_name="נועה", phone="050-1234567", consents={"sms": True})
    member(brand, first_name="רון", phone="050-7654321", consents={"sms": False})
    member(brand, first_name="גיל", phone=None, consents={"sms": True})

    campaign_id = _send(api)

    assert len(sms_server.requests) == 1
    request = sms_server.requests[0]
    assert request.path == "/send"
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"club:s3cret").decode()
    body = request.json
    assert body["to"] == "+972501234567"
    assert body["from"] == "Cafe"
    assert body["text"].startswith("פרסומת: נועה, 20% הנחה השבוע! https://club.kesher.test/c/l/")
    assert body["text"].endswith("\nקפה טוב. להסרה השיבו הסר")
    message = Message.objects.get(campaign_id=campaign_id, member=noa)
    assert body["reference"] == str(message.pk)
    assert body["status_url"] == tracking.receipt_url(message.pk)
    assert (message.status, message.provider_ref) == (MessageStatus.SENT, "prov-1")
    assert message.consent_event_id == ConsentEvent.objects.get(member=noa, channel="sms", granted=True).pk

    # The provider's delivery receipt arrives at the URL we gave it.
    receipt = Client().post(
        body["status_url"].removeprefix("https://club.kesher.test"),
        {"status": "delivered"},
        content_type="application/json",
    )
    assert receipt.status_code == 204
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED
    assert Activity.objects.filter(member=noa, type="message_delivered").count() == 1
    stats = api.get(f"/campaigns/{campaign_id}/stats").body
    assert (
        stats["sent"],
        stats["delivered"],
        stats["excluded"]["no_consent"],
        stats["excluded"]["no_address"],
    ) == (
        1,
        1,
        1,
        1,
    )


@TRANSACTIONS
def test_twilio_format_and_its_status_callback(api, brand, sms_server, weekday_noon):
    base = sms_server.url.replace("http://", "twilio+http://AC123:tok@") + "?from=%2B15005550006"
    MessagingSettings.objects.create(brand=brand, sms_provider_url=base)
    dan = member(brand, first_name="Dan", phone="050-1112222", locale="en", consents={"sms": True})
    campaign_id = _send(
        api, {**SALE, "advertising": False, "body": "Hi {{ first_name }}, your table is ready"}
    )

    request = sms_server.requests[0]
    assert request.path == "/2010-04-01/Accounts/AC123/Messages.json"
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"AC123:tok").decode()
    form = request.form
    assert form["To"] == "+972501112222"
    assert form["From"] == "+15005550006"
    assert (
        form["Body"] == "קפה טוב: Hi Dan, your table is ready"
    )  # a service message: no mark, no refusal line
    message = Message.objects.get(campaign_id=campaign_id, member=dan)
    assert message.provider_ref.startswith("SM")
    callback = form["StatusCallback"].removeprefix("https://club.kesher.test")
    Client().post(
        callback, {"MessageSid": message.provider_ref, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    )
    message.refresh_from_db()
    assert message.status == MessageStatus.BOUNCED
    assert MessageEvent.objects.get(message=message, kind="bounced").data["reason"] == "30003"


@TRANSACTIONS
def test_reply_word_withdraws_sms_consent(api, brand, sms_server, weekday_noon):
    MessagingSettings.objects.create(brand=brand, sms_provider_url=sms_server.url)
    noa = member(brand, phone="050-1234567", consents={"sms": True})
    campaign_id = _send(api)
    inbound = tracking.inbound_url(brand.pk).removeprefix("https://club.kesher.test")
    answer = Client().post(inbound, {"From": "+972501234567", "Body": " הסר "})
    assert answer.status_code == 200 and answer["Content-Type"] == "text/xml"
    noa.refresh_from_db()
    assert noa.consent_sms is False
    refusal = ConsentEvent.objects.filter(member=noa, channel="sms").order_by("-id")[0]
    assert (refusal.granted, refusal.source) == (False, "sms_reply")
    assert api.get(f"/campaigns/{campaign_id}/stats").body["unsubscribed"] == 1
    # Any other reply changes nothing; a forged inbound address is refused.
    other = member(brand, phone="050-2222222", consents={"sms": True})
    Client().post(inbound, {"from": "0502222222", "text": "תודה!"}, content_type="application/json")
    other.refresh_from_db()
    assert other.consent_sms is True
    assert Client().post("/c/sms/inbound/forged", {"From": "0502222222", "Body": "STOP"}).status_code == 404


@TRANSACTIONS
def test_no_consent_no_sms(api, brand, sms_server, weekday_noon):
    MessagingSettings.objects.create(brand=brand, sms_provider_url=sms_server.url)
    member(brand, phone="050-1234567", consents={"sms": False, "email": True})
    campaign_id = _send(api)
    assert sms_server.requests == []
    assert Message.objects.filter(campaign_id=campaign_id).count() == 0


@TRANSACTIONS
def test_provider_refusal_is_a_bounce_and_provider_outage_a_retry(api, brand, sms_server, weekday_noon):
    MessagingSettings.objects.create(brand=brand, sms_provider_url=sms_server.url)
    bad = member(brand, phone="050-1234567", consents={"sms": True})
    busy = member(brand, phone="050-7654321", consents={"sms": True})
    sms_server.answers["+972501234567"] = (400, {"error": "invalid number"})
    sms_server.answers["+972507654321"] = (503, {"error": "busy"})
    campaign_id = _send(api)
    by_member = {m.member_id: m for m in Message.objects.filter(campaign_id=campaign_id)}
    assert by_member[bad.pk].status == MessageStatus.BOUNCED
    waiting = by_member[busy.pk]
    assert waiting.status == MessageStatus.QUEUED
    assert waiting.not_before == weekday_noon + timedelta(minutes=1)
    with mock.patch("django.utils.timezone.now", return_value=weekday_noon + timedelta(minutes=1)):
        assert services.messages_dispatch_due() == 1
    waiting.refresh_from_db()
    assert (waiting.status, waiting.attempts) == (MessageStatus.SENT, 2)
    assert len(sms_server.requests) == 3


@TRANSACTIONS
def test_friday_night_campaign_waits_for_the_end_of_shabbat(api, brand, sms_server):
    MessagingSettings.objects.create(brand=brand, sms_provider_url=sms_server.url)
    member(brand, phone="050-1234567", consents={"sms": True})
    friday_evening = datetime(2026, 3, 13, 19, 0, tzinfo=ISRAEL)
    with mock.patch("django.utils.timezone.now", return_value=friday_evening):
        campaign_id = _send(api)
    assert sms_server.requests == []
    message = Message.objects.get(campaign_id=campaign_id)
    assert message.not_before is not None
    local = message.not_before.astimezone(ISRAEL)
    assert (local.date().isoformat(), message.status) == ("2026-03-14", MessageStatus.QUEUED)
    assert 18 <= local.hour <= 19  # after havdalah on Saturday evening, before the night's quiet hours
    with mock.patch("django.utils.timezone.now", return_value=message.not_before - timedelta(minutes=5)):
        assert services.messages_dispatch_due() == 0
    out = io.StringIO()
    with mock.patch("django.utils.timezone.now", return_value=message.not_before):
        call_command("campaigns_dispatch_due", stdout=out)  # what beat (or cron) runs every minute
    assert out.getvalue().strip() == "1 messages handed over"
    assert len(sms_server.requests) == 1


@pytest.mark.parametrize(
    ("local", "allowed"),
    [
        (datetime(2026, 3, 10, 12, 0, tzinfo=ISRAEL), True),  # a Tuesday noon
        (datetime(2026, 3, 10, 21, 30, tzinfo=ISRAEL), False),  # night
        (datetime(2026, 3, 11, 7, 59, tzinfo=ISRAEL), False),  # still night
        (datetime(2026, 3, 11, 8, 0, tzinfo=ISRAEL), True),
        (datetime(2026, 3, 13, 12, 0, tzinfo=ISRAEL), True),  # Friday noon, before candle lighting
        (datetime(2026, 3, 13, 18, 0, tzinfo=ISRAEL), False),  # Friday evening: Shabbat
        (datetime(2026, 3, 14, 12, 0, tzinfo=ISRAEL), False),  # Saturday noon
        (datetime(2026, 3, 14, 19, 30, tzinfo=ISRAEL), True),  # Saturday evening after havdalah
        (datetime(2026, 9, 21, 12, 0, tzinfo=ISRAEL), False),  # Yom Kippur, a Monday
        (datetime(2026, 9, 22, 12, 0, tzinfo=ISRAEL), True),
    ],
)
def test_quiet_hours(local, allowed):
    assert sms_allowed(MessagingSettings(), local, "Asia/Jerusalem") is allowed


def test_next_allowed_after_a_night_and_when_the_brand_opts_out_of_quiet_hours():
    night = datetime(2026, 3, 10, 23, 10, tzinfo=ISRAEL)
    assert sms_next_allowed(MessagingSettings(), night, "Asia/Jerusalem") == datetime(
        2026, 3, 11, 8, 0, tzinfo=ISRAEL
    )
    always = MessagingSettings(
        quiet_start=datetime.min.time(), quiet_end=datetime.min.time(), quiet_on_shabbat=False
    )
    saturday = datetime(2026, 3, 14, 12, 0, tzinfo=ISRAEL)
    assert sms_next_allowed(always, saturday, "Asia/Jerusalem") == saturday
