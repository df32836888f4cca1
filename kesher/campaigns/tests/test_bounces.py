"""Bounce and complaint notices from the mail provider: a JSON webhook behind the brand's signed URL (and
signed with X-Kesher-Signature, test_bounce_signatures.py), and standard bounce emails (DSN). Hard bounces
stop mail to the address; complaints withdraw consent."""

from __future__ import annotations

import json
import time
import urllib.parse
from typing import Any

import pytest
from django.test import Client

from kesher.activity.models import Activity
from kesher.campaigns import tracking
from kesher.campaigns.models import EmailSuppression, Message, MessageEvent
from kesher.campaigns.tests.conftest import member
from kesher.members.models import ConsentEvent

pytestmark = pytest.mark.django_db(transaction=True)

NEWS = {
    "name": "News",
    "channel": "email",
    "subject": "News for {{ first_name }}",
    "body": "Hello {{ first_name }}",
    "advertising": True,
    "locale": "en",
}


def _send(api: Any, name: str = "News") -> str:
    campaign_id = api.post("/campaigns", {**NEWS, "name": name}).body["id"]
    api.post(f"/campaigns/{campaign_id}/send")
    return str(campaign_id)


def _webhook(api: Any) -> tuple[str, str]:
    """The brand's bounce URL (its path) and signing secret, as the settings give them to the provider."""
    settings = api.get("/campaigns/settings").body
    url = settings["bounce_webhook_url"]
    assert url.startswith("https://club.kesher.test/c/bounces/")
    return urllib.parse.urlsplit(url).path, settings["bounce_signing_secret"]


def _post(path: str, secret: str, body: bytes, content_type: str) -> Any:
    """Post a notice signed as a provider signs it: X-Kesher-Signature over the raw body, now."""
    signature = tracking.bounce_signature_make(secret, body, int(time.time()))
    return Client().post(
        path, data=body, content_type=content_type, headers={"X-Kesher-Signature": signature}
    )


def _post_json(webhook: tuple[str, str], payload: Any) -> Any:
    path, secret = webhook
    return _post(path, secret, json.dumps(payload).encode(), "application/json")


def test_a_hard_bounce_marks_the_message_and_stops_mail_to_the_address(api, brand, smtp_server):
    noa = member(brand, email="noa@example.org", consents={"email": True}, locale="en")
    member(brand, email="dan@example.org", consents={"email": True}, locale="en")
    campaign_id = _send(api)
    received = smtp_server.sink.to("noa@example.org")[0].message
    path = _webhook(api)

    answer = _post_json(
        path,
        {
            "events": [
                {
                    "type": "bounce",
                    "bounce_type": "hard",
                    "email": "noa@example.org",
                    "message_id": received["Message-ID"],
                    "reason": "550 5.1.1 no such user",
                }
            ]
        },
    )
    assert answer.status_code == 200
    assert answer.json() == {"received": 1, "outcomes": {"suppressed": 1}}
    message = Message.objects.get(campaign_id=campaign_id, member=noa)
    assert (message.status, message.error) == ("bounced", "550 5.1.1 no such user")
    event = MessageEvent.objects.get(message=message, kind="bounced")
    assert event.data == {"reason": "550 5.1.1 no such user", "type": "hard", "via": "provider"}
    assert Activity.objects.filter(member=noa, type="message_bounced").count() == 1
    assert list(EmailSuppression.objects.values_list("email", "reason")) == [
        ("noa@example.org", "hard_bounce")
    ]

    # The same notice again changes nothing.
    _post_json(path, {"type": "bounce", "email": "noa@example.org", "message_id": str(message.pk)})
    assert MessageEvent.objects.filter(message=message, kind="bounced").count() == 1
    assert EmailSuppression.objects.count() == 1

    # The next advertisement leaves the address out.
    before = len(smtp_server.sink.received)
    second = _send(api, "More news")
    assert [r for item in smtp_server.sink.received[before:] for r in item.rcpt_tos] == ["dan@example.org"]
    stats = api.get(f"/campaigns/{second}/stats").body
    assert stats["excluded"]["no_address"] == 1
    assert api.get(f"/campaigns/{campaign_id}/stats").body["bounced"] == 1


def test_a_complaint_withdraws_email_consent_with_proof(api, brand, smtp_server):
    dan = member(brand, email="dan@example.org", consents={"email": True}, locale="en")
    campaign_id = _send(api)
    answer = _post_json(
        _webhook(api), {"type": "complaint", "email": "Dan@Example.org", "reason": "abuse report"}
    )
    assert answer.json() == {"received": 1, "outcomes": {"complaint": 1}}
    dan.refresh_from_db()
    assert dan.consent_email is False
    proof = ConsentEvent.objects.filter(member=dan, channel="email").order_by("-id")[0]
    assert (proof.granted, proof.source, proof.wording) == (False, "complaint", "abuse report")
    message = Message.objects.get(campaign_id=campaign_id)
    assert MessageEvent.objects.filter(message=message, kind="complained").count() == 1
    assert Activity.objects.filter(member=dan, type="message_complained").count() == 1
    assert api.get(f"/campaigns/{campaign_id}/stats").body["complained"] == 1
    assert EmailSuppression.objects.count() == 0  # the address works; the member said no


def test_a_forged_webhook_changes_nothing(api, brand, other_brand, smtp_server):
    noa = member(brand, email="noa@example.org", consents={"email": True}, locale="en")
    _send(api)
    forged = Client().post(
        "/c/bounces/forged:token",
        data=json.dumps({"type": "complaint", "email": "noa@example.org"}),
        content_type="application/json",
    )
    assert forged.status_code == 404
    # Another brand's own (valid) URL does not reach this brand's members or messages.
    other = (
        urllib.parse.urlsplit(tracking.bounce_url(other_brand.pk)).path,
        tracking.bounce_signing_secret(other_brand.pk),
    )
    message = Message.objects.get()
    answer = _post_json(other, {"type": "bounce", "email": "noa@example.org", "message_id": str(message.pk)})
    assert answer.json() == {"received": 1, "outcomes": {"suppressed": 1}}
    message.refresh_from_db()
    assert message.status == "sent"
    noa.refresh_from_db()
    assert noa.consent_email is True
    assert not EmailSuppression.objects.filter(brand=brand).exists()
    assert not MessageEvent.objects.filter(kind="bounced").exists()


def _dsn(recipient: str, status: str, message_id: str) -> bytes:
    return (
        "From: MAILER-DAEMON@mx.example.org\r\n"
        "To: club@kesher.test\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n'
        "\r\n"
        "--b1\r\n"
        "Content-Type: text/plain\r\n"
        "\r\n"
        "Your message could not be delivered.\r\n"
        "--b1\r\n"
        "Content-Type: message/delivery-status\r\n"
        "\r\n"
        "Reporting-MTA: dns; mx.example.org\r\n"
        "\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\n"
        "Action: failed\r\n"
        f"Status: {status}\r\n"
        f"Diagnostic-Code: smtp; {status.replace('.', '')}0 mailbox problem\r\n"
        "\r\n"
        "--b1\r\n"
        "Content-Type: text/rfc822-headers\r\n"
        "\r\n"
        f"Message-ID: {message_id}\r\n"
        "Subject: News\r\n"
        "\r\n"
        "--b1--\r\n"
    ).encode()


def test_a_standard_bounce_email_is_read(api, brand, smtp_server):
    noa = member(brand, email="noa@example.org", consents={"email": True}, locale="en")
    dan = member(brand, email="dan@example.org", consents={"email": True}, locale="en")
    campaign_id = _send(api)
    path, secret = _webhook(api)
    noa_id = smtp_server.sink.to("noa@example.org")[0].message["Message-ID"]
    dan_id = smtp_server.sink.to("dan@example.org")[0].message["Message-ID"]

    hard = _post(path, secret, _dsn("noa@example.org", "5.1.1", noa_id), "message/rfc822")
    assert hard.json() == {"received": 1, "outcomes": {"suppressed": 1}}
    soft = _post(path, secret, _dsn("dan@example.org", "4.2.2", dan_id), "text/plain")
    assert soft.json() == {"received": 1, "outcomes": {"bounced": 1}}

    statuses = dict(Message.objects.filter(campaign_id=campaign_id).values_list("member_id", "status"))
    assert statuses == {noa.pk: "bounced", dan.pk: "bounced"}
    assert list(EmailSuppression.objects.values_list("email", flat=True)) == ["noa@example.org"]
    reason = MessageEvent.objects.get(message__member=noa, kind="bounced").data["reason"]
    assert reason == "5.1.1 smtp; 5110 mailbox problem"
