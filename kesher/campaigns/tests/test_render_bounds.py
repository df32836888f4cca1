"""A campaign template cannot make one message's render long, slow or loop without end: four nested loops
over a member's name (17 MB in 3 s before the bounds) are refused at save and at preview with a 422 naming
the field, and a message past the bounds at send time is failed with the reason instead of sent."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest

from kesher.campaigns import journeys, rendering, services
from kesher.campaigns.models import Campaign, Journey, Message, MessageStatus
from kesher.campaigns.tests.conftest import member
from kesher.core.errors import ValidationFailed

LOOP = "{% for a in first_name %}{% for b in first_name %}{% for c in first_name %}{% for d in first_name %}"
HOSTILE = LOOP + "{{ first_name }}" + "{% endfor %}" * 4
LONG_NAME = "Abigail-Josephine-Maria-Smith"  # 29 characters: 29**4 names, about 20 MB unbounded


def _context(first_name: str = LONG_NAME, **fields: Any) -> dict[str, Any]:
    return rendering.member_context(
        first_name=first_name, last_name="Levi", locale="en", brand="Cafe", interests=[], **fields
    )


def test_the_hostile_template_stops_at_a_bound_naming_the_field() -> None:
    content = rendering.content_compile("s", HOSTILE, [])
    with pytest.raises(rendering.RenderRefused) as refused:
        rendering.content_render(content, _context())
    assert (refused.value.status, refused.value.field, refused.value.code) == (422, "body", "render_limit")


def test_each_bound_is_its_own_refusal(settings: Any) -> None:
    long_output = rendering.content_compile("s", "{% for c in full_name %}" + "x" * 1000 + "{% endfor %}", [])
    with pytest.raises(rendering.RenderRefused, match="longer than 100000 characters"):
        rendering.content_render(long_output, _context("א" * 100))
    many_loops = rendering.content_compile(
        "{% for a in first_name %}{% for b in first_name %}.{% endfor %}{% endfor %}", "b", []
    )
    settings.KESHER_CAMPAIGN_RENDER_MAX_LOOPS = 100
    with pytest.raises(rendering.RenderRefused, match="repeats more than 100 times") as refused:
        rendering.content_render(many_loops, _context())
    assert refused.value.field == "subject"
    settings.KESHER_CAMPAIGN_RENDER_MAX_LOOPS = 10_000
    settings.KESHER_CAMPAIGN_RENDER_MAX_MS = 0  # no time at all: the first piece of output is too late
    with pytest.raises(rendering.RenderRefused, match="longer than 0 ms"):
        rendering.content_render(many_loops, _context())


def test_a_block_past_the_bounds_is_named() -> None:
    content = rendering.content_compile("s", "{{ block }}", [{"interests": [], "text": HOSTILE}])
    with pytest.raises(rendering.RenderRefused) as refused:
        rendering.content_render(content, _context())
    assert refused.value.field == "blocks.0.text"


def test_ordinary_templates_render_as_before() -> None:
    content = rendering.content_compile(
        "{{ first_name }}, {{ points }} points",
        "Hi {{ full_name }}!{% for tag in interests %} #{{ tag }}{% endfor %}"
        "{% if coupon %} {{ coupon }}{% endif %}",
        [],
    )
    context = {
        **_context("Noa", points=120, coupon=rendering.CouponValue("C0DE")),
        "interests": ["tea", "jazz"],
    }
    rendered = rendering.content_render(content, context)
    assert rendered == rendering.Rendered(subject="Noa, 120 points", body="Hi Noa Levi! #tea #jazz C0DE")
    rendering.content_check(content, locale="he")  # and it passes the save-time check


@pytest.mark.django_db
def test_saving_the_hostile_template_is_a_422_and_saves_nothing(api: Any, brand: Any) -> None:
    answer = api.post(
        "/campaigns", {"name": "x", "channel": "email", "subject": "s", "body": HOSTILE, "advertising": False}
    )
    assert answer.status == 422, answer.body
    assert answer.body["error"]["field"] == "body"
    assert answer.body["error"]["code"] == "render_limit"
    assert Campaign.objects.count() == 0
    blocks = api.post(
        "/campaigns",
        {
            "name": "x",
            "channel": "email",
            "subject": "s",
            "body": "{{ block }}",
            "blocks": [{"interests": ["tea"], "text": HOSTILE}],
            "advertising": False,
        },
    )
    assert (blocks.status, blocks.body["error"]["field"]) == (422, "blocks.0.text")
    assert Campaign.objects.count() == 0


@pytest.mark.django_db
def test_a_journey_step_with_the_hostile_template_is_refused(brand: Any) -> None:
    steps = [{"type": "send", "channel": "email", "subject": "s", "body": HOSTILE, "advertising": False}]
    with pytest.raises(ValidationFailed) as refused:
        journeys.journey_create(
            brand=brand, name="j", trigger="activity", trigger_activity="purchase", steps=steps
        )
    assert refused.value.field == "steps"
    assert refused.value.message.startswith("steps: body: the message would be longer than")
    notify = [{"type": "notify", "email": "staff@example.org", "subject": HOSTILE}]
    with pytest.raises(ValidationFailed, match="steps: subject: "):
        journeys.journey_create(
            brand=brand, name="n", trigger="activity", trigger_activity="purchase", steps=notify
        )
    assert Journey.objects.count() == 0


def _saved_before_the_bounds(settings: Any, brand: Any) -> Campaign:
    """A campaign whose template got in when the bounds were wider (or before they existed)."""
    settings.KESHER_CAMPAIGN_RENDER_MAX_LOOPS = 10**9
    settings.KESHER_CAMPAIGN_RENDER_MAX_CHARS = 10**9
    settings.KESHER_CAMPAIGN_RENDER_MAX_MS = 10**6
    with mock.patch("kesher.campaigns.rendering.content_check"):
        campaign = services.campaign_create(
            brand=brand, name="old", channel="email", subject="hi", body=HOSTILE, advertising=False
        )
    settings.KESHER_CAMPAIGN_RENDER_MAX_LOOPS = 10_000
    settings.KESHER_CAMPAIGN_RENDER_MAX_CHARS = 100_000
    settings.KESHER_CAMPAIGN_RENDER_MAX_MS = 250
    return campaign


@pytest.mark.django_db
def test_preview_past_the_bounds_is_a_422_naming_the_field(api: Any, brand: Any, settings: Any) -> None:
    campaign = _saved_before_the_bounds(settings, brand)
    long_named = member(brand, first_name=LONG_NAME, email="a@example.org")
    answer = api.post(f"/campaigns/{campaign.pk}/preview", {"member_id": str(long_named.pk)})
    assert answer.status == 422, answer.body
    assert (answer.body["error"]["field"], answer.body["error"]["code"]) == ("body", "render_limit")
    assert Message.objects.count() == 0


@pytest.mark.django_db
def test_at_send_time_a_message_past_the_bounds_is_failed_with_the_reason_and_the_rest_are_sent(
    brand: Any, settings: Any, smtp_server: Any
) -> None:
    campaign = _saved_before_the_bounds(settings, brand)
    short = member(brand, first_name="Noa", email="noa@example.org")  # 3**4 loops of a short name: fine
    long_named = member(brand, first_name=LONG_NAME, email="abigail@example.org")
    with mock.patch("kesher.campaigns.services.sending.queuing_start"):
        services.campaign_send(campaign=campaign)
    with mock.patch("kesher.campaigns.services.sending.messages_dispatch") as dispatch:
        services.campaign_queue(campaign_id=campaign.pk)
    handed_over = [pk for call in dispatch.call_args_list for pk in call.kwargs["message_ids"]]
    refused = Message.objects.get(member=long_named)
    assert refused.status == MessageStatus.FAILED
    assert refused.error.startswith("body: the message would be longer than")
    assert refused.pk not in handed_over
    sent = Message.objects.get(member=short)
    assert handed_over == [sent.pk]
    services.messages_deliver(message_ids=handed_over, claim_token="t")
    assert [item.rcpt_tos for item in smtp_server.sink.received] == [["noa@example.org"]]
    assert len(smtp_server.sink.received[0].raw) < 10_000
    assert services.messages_deliver(message_ids=[refused.pk], claim_token="t").sent == 0
    assert len(smtp_server.sink.received) == 1
