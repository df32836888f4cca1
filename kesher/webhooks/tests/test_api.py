"""The webhooks API: register (secret once, encrypted at rest), list, read, change, rotate, remove, the
delivery log with its attempts, replay; the address guard at registration; one brand never sees another's."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from kesher.core.crypto import text_decrypt
from kesher.core.events import Event
from kesher.core.models import AuditEntry
from kesher.core.tests.fingerprint import changed_models, rows_fingerprint
from kesher.webhooks.models import Attempt, Delivery, DeliveryStatus, Endpoint
from kesher.webhooks.services import fan_out

pytestmark = pytest.mark.django_db

URL = "http://127.0.0.1:9/hooks"


def _create(api, url=URL, events=("member.created", "points.changed")):
    return api.post("/webhooks", {"url": url, "events": list(events)})


def test_register_shows_the_secret_once_and_keeps_it_encrypted(api, brand):
    answer = _create(api)
    assert answer.status == 201, answer.body
    secret = answer.body["secret"]
    assert secret.startswith("whsec_") and len(secret) > 30
    endpoint = Endpoint.objects.get(pk=answer.body["id"])
    assert secret not in endpoint.secret and text_decrypt(endpoint.secret) == secret
    assert answer.body["events"] == ["member.created", "points.changed"]
    read = api.get(f"/webhooks/{endpoint.pk}")
    assert read.status == 200 and "secret" not in read.body and read.body["health"]["state"] == "new"
    listed = api.get("/webhooks")
    assert [row["id"] for row in listed.body] == [str(endpoint.pk)] and "secret" not in listed.body[0]
    assert AuditEntry.objects.filter(action="webhook.create", target_id=str(endpoint.pk)).exists()


def test_unknown_events_and_bad_urls_are_refused_and_nothing_is_made(api):
    before = rows_fingerprint()
    assert _create(api, events=["member.exploded"]).body["error"]["code"] == "unknown_event_type"
    assert _create(api, url="ftp://127.0.0.1/x").status == 422
    assert _create(api, url="http://user:pw@127.0.0.1/x").status == 422
    assert _create(api, url="http://no-such-host.invalid/x").status == 422
    assert api.post("/webhooks", {"url": URL, "events": []}).status == 422
    assert changed_models(before, rows_fingerprint()) == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://10.1.2.3/x",
        "http://192.168.0.10/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/x",
        "http://224.0.0.1/x",
        "http://0.0.0.0/x",
        "http://localhost/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://100.64.0.1/x",
    ],
)
def test_in_production_inward_addresses_are_refused_at_registration(api, settings, url):
    settings.KESHER_WEBHOOKS_ALLOW_PRIVATE = False
    before = rows_fingerprint()
    answer = _create(api, url=url)
    assert answer.status == 422 and answer.body["error"]["code"] == "webhook_address_refused", answer.body
    assert changed_models(before, rows_fingerprint()) == []


def test_in_production_a_public_address_is_accepted(api, settings):
    settings.KESHER_WEBHOOKS_ALLOW_PRIVATE = False
    assert _create(api, url="http://93.184.215.14/hooks").status == 201  # a literal public address


def test_in_the_embedded_mode_loopback_is_allowed(api, settings):
    settings.KESHER_WEBHOOKS_ALLOW_PRIVATE = True
    assert _create(api, url="http://127.0.0.1:8000/hooks").status == 201


def test_change_switch_off_rotate_and_remove(api, brand):
    created = _create(api).body
    path = f"/webhooks/{created['id']}"
    changed = api.patch(path, {"events": ["coupon.burned"], "active": False}, idem="p1")
    assert changed.status == 200 and changed.body["events"] == ["coupon.burned"]
    assert changed.body["active"] is False and changed.body["health"]["state"] == "disabled"
    rotated = api.post(f"{path}/rotate")
    assert rotated.status == 200 and rotated.body["secret"] != created["secret"]
    endpoint = Endpoint.objects.get(pk=created["id"])
    assert text_decrypt(endpoint.secret) == rotated.body["secret"]
    assert text_decrypt(endpoint.previous_secret) == created["secret"]
    assert endpoint.previous_secret_until is not None
    assert timedelta(hours=23) < endpoint.previous_secret_until - timezone.now() <= timedelta(hours=24)
    assert api.call("DELETE", path).status == 204
    assert not Endpoint.objects.filter(pk=created["id"]).exists()
    assert api.get(path).status == 404


def _event(brand, n=0):
    return Event(brand_id=brand.pk, type="member.created", data={"member_id": str(uuid.uuid4()), "n": n})


def test_the_delivery_log_is_paged_with_attempts_and_a_delivery_replays(api, brand):
    created = _create(api).body
    for n in range(5):
        fan_out(_event(brand, n), kick=False)
    delivery = Delivery.objects.order_by("created_at").first()
    assert delivery is not None
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.FAILED, attempts=10, last_status_code=500, next_attempt_at=None
    )
    Attempt.objects.create(delivery=delivery, number=10, at=timezone.now(), status_code=500, duration_ms=3)
    path = f"/webhooks/{created['id']}/deliveries"
    first = api.get(f"{path}?limit=3")
    assert first.status == 200 and len(first.body["items"]) == 3 and first.body["next_cursor"]
    rest = api.get(f"{path}?limit=3&cursor={first.body['next_cursor']}")
    assert len(rest.body["items"]) == 2 and rest.body["next_cursor"] is None
    seen = [row["id"] for row in first.body["items"] + rest.body["items"]]
    assert len(set(seen)) == 5
    failed = api.get(f"{path}?status=failed").body["items"]
    assert [row["id"] for row in failed] == [str(delivery.pk)]
    assert failed[0]["attempt_log"][0]["status_code"] == 500 and failed[0]["webhook_id"] == delivery.msg_id
    replayed = api.post(f"{path}/{delivery.pk}/replay", idem="replay-1")
    assert replayed.status == 202 and replayed.body["status"] == "pending"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.round_start == 10
    assert delivery.next_attempt_at is not None and delivery.next_attempt_at <= timezone.now()


def test_another_brands_endpoints_and_deliveries_are_not_found(api, brand, other_brand, make_api):
    theirs = make_api(other_brand, "all")
    created = _create(theirs).body
    fan_out(Event(brand_id=other_brand.pk, type="member.created", data={}), kick=False)
    delivery = Delivery.objects.get()
    before = rows_fingerprint()
    path = f"/webhooks/{created['id']}"
    assert api.get(path).status == 404
    assert api.patch(path, {"active": False}).status == 404
    assert api.post(f"{path}/rotate").status == 404
    assert api.get(f"{path}/deliveries").status == 404
    assert api.post(f"{path}/deliveries/{delivery.pk}/replay").status == 404
    assert api.call("DELETE", path).status == 404
    assert api.get("/webhooks").body == []
    assert changed_models(before, rows_fingerprint()) == []
    # Nor through one's own endpoint.
    mine = _create(api).body
    assert api.post(f"/webhooks/{mine['id']}/deliveries/{delivery.pk}/replay").status == 404


def test_pos_keys_may_not_manage_webhooks(brand, make_api):
    pos = make_api(brand, "pos")
    before = rows_fingerprint()
    answer = _create(pos)
    assert answer.status == 403 and answer.body["error"]["code"] == "insufficient_scope"
    assert changed_models(before, rows_fingerprint()) == []


def test_event_types_are_listed(api):
    names = {row["name"] for row in api.get("/webhooks/event-types").body}
    assert {"member.created", "member.updated", "activity.recorded", "points.changed"} <= names
    assert {"reward.redeemed", "coupon.burned"} <= names


def test_an_event_nobody_hears_costs_no_query(brand, django_assert_num_queries):
    from kesher.webhooks.services.fanout import routes_of

    routes_of(brand.pk)  # the process learns the brand has no endpoints
    with django_assert_num_queries(0):
        for n in range(20):
            assert fan_out(_event(brand, n)) == 0
