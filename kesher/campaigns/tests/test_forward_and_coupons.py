"""Forward to a friend (a tracked page, no open relay, the friend's copy without the member's details) and a
coupon issued for each message, exactly once."""

from __future__ import annotations

import re
import urllib.parse
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from django.core.cache import cache
from django.test import Client

from kesher.activity.models import Activity
from kesher.campaigns import services
from kesher.campaigns.models import (
    Campaign,
    CampaignStatus,
    Message,
    MessageCoupon,
    MessageEvent,
    MessageForward,
)
from kesher.campaigns.tests.conftest import member
from kesher.loyalty.models import Coupon, Reward
from kesher.loyalty.services import reward_create

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    cache.clear()  # the per-client forward counter lives in the cache


OFFER = {
    "name": "Offer",
    "channel": "email",
    "subject": "An offer for {{ first_name }}",
    "body": "Hello {{ first_name }}, you have {{ points }} points, card {{ card_number }}.\n\n"
    "See https://shop.example.org/offer",
    "advertising": True,
    "locale": "en",
}


def _text(received: Any) -> str:
    return str(received.message.get_body(preferencelist=("plain",)).get_content()).replace("\r\n", "\n")


def _html(received: Any) -> str:
    return str(received.message.get_body(preferencelist=("html",)).get_content())


def _forward_path(text: str) -> str:
    found = re.search(r"https://club\.kesher\.test/c/f/\S+", text)
    assert found is not None, text
    return urllib.parse.urlsplit(found.group(0)).path


def test_a_member_forwards_to_a_friend_who_gets_the_message_without_the_member(api, brand, smtp_server):
    noa = member(brand, first_name="Noa", email="noa@example.org", consents={"email": True}, locale="en")
    campaign_id = api.post("/campaigns", OFFER).body["id"]
    api.post(f"/campaigns/{campaign_id}/send")
    sink = smtp_server.sink
    mail = sink.to("noa@example.org")[0]
    path = _forward_path(_text(mail))
    assert path in _html(mail)  # the footer link, in both parts

    page = Client().get(path)
    assert page.status_code == 200
    assert b'data-test="forward-send"' in page.content
    answer = Client().post(path, {"to": "Friend@Example.org"})
    assert answer.status_code == 200
    assert b'data-test="forwarded"' in answer.content

    friend = sink.to("friend@example.org")
    assert len(friend) == 1
    copy = friend[0].message
    assert copy["Subject"] == "פרסומת: An offer for club member"
    assert copy["List-Unsubscribe"] is None
    text, html = _text(friend[0]), _html(friend[0])
    assert "Noa thought you would like this message from קפה טוב." in text
    assert "Hello club member, you have 0 points, card ." in text
    assert "https://shop.example.org/offer" in text and "https://shop.example.org/offer" in html
    for personal in (noa.card_number, "/c/l/", "/c/o/", "/c/u/", "/c/f/"):
        assert personal not in text and personal not in html

    message = Message.objects.get(campaign_id=campaign_id)
    assert MessageEvent.objects.filter(message=message, kind="forwarded").count() == 1
    assert Activity.objects.filter(member=noa, type="message_forwarded").count() == 1
    stats = api.get(f"/campaigns/{campaign_id}/stats").body
    assert stats["forwarded"] == 1

    # The same friend again: refused, nothing sent, nothing recorded.
    again = Client().post(path, {"to": "friend@example.org"})
    assert again.status_code == 409
    assert len(sink.to("friend@example.org")) == 1
    assert MessageForward.objects.count() == 1
    assert MessageEvent.objects.filter(message=message, kind="forwarded").count() == 1

    # Not an address, or the member's own: refused.
    assert Client().post(path, {"to": "not an address"}).status_code == 400
    assert Client().post(path, {"to": "noa@example.org"}).status_code == 400
    assert MessageForward.objects.count() == 1

    # At most five friends per message.
    for n in range(2, 6):
        assert Client().post(path, {"to": f"friend{n}@example.org"}).status_code == 200
    over = Client().post(path, {"to": "friend6@example.org"})
    assert over.status_code == 409
    assert b'data-test="forward-limit"' in over.content
    assert sink.to("friend6@example.org") == []
    assert MessageForward.objects.count() == 5
    assert MessageEvent.objects.filter(message=message, kind="forwarded").count() == 5
    assert api.get(f"/campaigns/{campaign_id}/stats").body["forwarded"] == 1  # messages forwarded

    assert Client().get("/c/f/forged:token").status_code == 404


def test_forwarding_is_rate_limited_per_client(api, brand, smtp_server):
    member(brand, email="noa@example.org", consents={"email": True}, locale="en")
    campaign_id = api.post("/campaigns", OFFER).body["id"]
    api.post(f"/campaigns/{campaign_id}/send")
    path = _forward_path(_text(smtp_server.sink.received[0]))
    with mock.patch("kesher.campaigns.views.FORWARDS_PER_HOUR_PER_CLIENT", 1):
        assert Client().post(path, {"to": "a@example.org"}).status_code == 200
        assert Client().post(path, {"to": "b@example.org"}).status_code == 429
    assert smtp_server.sink.to("b@example.org") == []
    assert MessageForward.objects.count() == 1


def test_forward_url_in_the_body_is_a_tracked_link_to_the_forward_page(api, brand, smtp_server):
    member(brand, email="noa@example.org", consents={"email": True}, locale="en")
    payload = {**OFFER, "body": "Hi {{ first_name }}, share it: {{ forward_url }}"}
    campaign_id = api.post("/campaigns", payload).body["id"]
    api.post(f"/campaigns/{campaign_id}/send")
    message = Message.objects.get(campaign_id=campaign_id)
    assert "https://club.kesher.test/c/f/" in message.body
    tracked = re.search(r"https://club\.kesher\.test/c/l/\S+", _text(smtp_server.sink.received[0]))
    assert tracked is not None
    answer = Client().get(urllib.parse.urlsplit(tracked.group(0)).path)
    assert answer.status_code == 302
    assert answer["Location"].startswith("https://club.kesher.test/c/f/")
    assert Client().get(urllib.parse.urlsplit(answer["Location"]).path).status_code == 200


def _reward(brand: Any, stock: int | None) -> Reward:
    return reward_create(
        brand=brand,
        name="Free coffee",
        cost_points=100,
        kind="free_item",
        value=Decimal("12.00"),
        stock=stock,
    )


def test_each_message_carries_its_own_coupon_issued_once(api, brand, smtp_server):
    reward = _reward(brand, stock=2)
    people = [
        member(brand, first_name=f"M{i}", email=f"m{i}@example.org", consents={"email": True}, locale="en")
        for i in range(3)
    ]
    payload = {
        **OFFER,
        "body": "Hi {{ first_name }}, your coupon: {{ coupon }} (code {{ coupon.code }})",
        "coupon_reward": str(reward.pk),
    }
    created = api.post("/campaigns", payload)
    assert created.status == 201, created.body
    assert created.body["coupon_reward"] == str(reward.pk)
    preview = api.post(f"/campaigns/{created.body['id']}/preview", {"member_id": str(people[0].pk)}).body
    assert "your coupon: SAMPLE0COUPON (code SAMPLE0COUPON)" in preview["text"]
    assert Coupon.objects.count() == 0  # a preview issues nothing

    campaign_id = created.body["id"]
    api.post(f"/campaigns/{campaign_id}/send")
    # Stock for two: the third member is left out rather than sent a coupon that is not there.
    coupons = list(Coupon.objects.filter(reward=reward).order_by("member_id"))
    assert len(coupons) == 2
    assert all(c.cost_points == 0 and c.status == "issued" for c in coupons)
    for coupon in coupons:
        received = smtp_server.sink.to(coupon.member.email)
        assert len(received) == 1
        assert f"your coupon: {coupon.code} (code {coupon.code})" in _text(received[0])
    assert len(smtp_server.sink.received) == 2
    campaign = Campaign.objects.get(pk=campaign_id)
    assert campaign.exclusions["no_coupon"] == 1
    assert MessageCoupon.objects.filter(campaign=campaign).count() == 2

    # A retry for the same message (a resumed queuing, another worker) gets the same coupon back.
    first = coupons[0]
    again = services.message_coupon_issue(campaign=campaign, member_id=first.member_id)
    assert again == first.code
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.QUEUING)
    with mock.patch("kesher.campaigns.services.sending.messages_dispatch"):
        services.campaign_queue(campaign_id=campaign.pk)
    assert Coupon.objects.filter(reward=reward).count() == 2
    assert Message.objects.filter(campaign=campaign).count() == 2


def test_a_coupon_reward_of_another_brand_is_refused(api, brand, other_brand):
    foreign = _reward(other_brand, stock=None)
    answer = api.post("/campaigns", {**OFFER, "coupon_reward": str(foreign.pk)})
    assert (answer.status, answer.body["error"]["field"]) == (404, "coupon_reward")
    assert Campaign.objects.count() == 0
