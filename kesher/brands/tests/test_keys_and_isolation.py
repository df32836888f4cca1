"""Keys are hashed, scoped and revocable; one brand never sees another's rows, on any endpoint."""

from __future__ import annotations

import re
import time

import pytest
from django.core.cache import cache

from kesher.api.api import api as ninja_api
from kesher.brands.models import ApiKey
from kesher.brands.services import api_key_create, api_key_revoke
from kesher.core.audit import SYSTEM
from kesher.loyalty.models import EarningRule, Referral
from kesher.loyalty.services import points_adjust, redemption_create, reward_create
from kesher.members.models import Member
from kesher.members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def test_keys_are_stored_hashed_and_shown_once(brand):
    issued = api_key_create(brand=brand, scope="pos")
    row = ApiKey.objects.get(pk=issued.api_key.pk)
    assert issued.raw_key not in (row.key_hash, row.prefix)
    assert len(row.key_hash) == 64 and issued.raw_key.startswith(f"ksh_{row.prefix}_")


@pytest.mark.parametrize(
    "header", [None, "Bearer", "Bearer nonsense", "Bearer ksh_0000000000_wrong", "Basic abc"]
)
def test_missing_or_unknown_key_is_401_and_changes_nothing(api, header):
    headers = {} if header is None else {"Authorization": header}
    response = api.client.post(
        "/api/v1/members", data='{"first_name": "x"}', content_type="application/json", headers=headers
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    assert Member.objects.count() == 0


def test_revoked_key_stops_working_and_last_use_is_recorded(api, brand):
    key = ApiKey.objects.get(brand=brand)
    assert key.last_used_at is None
    assert api.get("/rewards").status == 200
    key.refresh_from_db()
    assert key.last_used_at is not None
    api_key_revoke(api_key=key)
    assert api.post("/members", {"first_name": "x"}).status == 401
    assert Member.objects.count() == 0


def _sample_ids(other_brand):
    member = MemberFactory(brand=other_brand, external_id="theirs")
    points_adjust(member=member, points=100, reason="seed", actor=SYSTEM)
    reward = reward_create(brand=other_brand, name="theirs", cost_points=10, kind="gift")
    coupon = redemption_create(member=member, reward=reward)
    rule = EarningRule.objects.get(brand=other_brand, activity_type="purchase")
    friend = MemberFactory(brand=other_brand, referral_code=member.referral_code)
    referral = Referral.objects.get(friend=friend)
    # webhooks: the other brand's endpoint and a delivery of it
    from kesher.core.events import Event
    from kesher.webhooks.models import Delivery
    from kesher.webhooks.services import endpoint_create, fan_out

    webhook = endpoint_create(
        brand=other_brand, url="http://127.0.0.1:9/hooks", events=["member.created"], actor=SYSTEM
    ).endpoint
    fan_out(Event(brand_id=other_brand.pk, type="member.created", data={}), kick=False)
    # customers: a probable pair of the other brand and a merge of two others, to undo
    from kesher.customers.models import DuplicatePair
    from kesher.customers.services import members_merge

    twins = sorted((MemberFactory(brand=other_brand) for _ in range(4)), key=lambda twin: str(twin.pk))
    pair = DuplicatePair.objects.create(
        brand=other_brand, member_a_id=twins[0].pk, member_b_id=twins[1].pk, probability=0.99
    )
    merge = members_merge(brand=other_brand, source_id=twins[2].pk, target_id=twins[3].pk, actor=SYSTEM)
    ids = {
        "pair_id": str(pair.pk),
        "merge_id": str(merge.pk),
        "webhook_id": str(webhook.pk),
        # the first of its deliveries (the twins' sign-ups are announced to it too)
        "delivery_id": str(Delivery.objects.filter(endpoint=webhook).order_by("created_at", "pk")[0].pk),
        "member_id": str(member.pk),
        "external_id": "theirs",
        "code": coupon.code,
        "reward_id": str(reward.pk),
        "rule_id": str(rule.pk),
        "referral_id": str(referral.pk),
    }
    return ids, member, reward


# Parts whose tests/ prove another brand's ids are 404 with rows of their own.
OWN_ISOLATION_TESTS = (
    "/community",
    "/campaigns",
    "/reviews",
    "/products",
    "/gallery",
    "/ideas",
    "/challenges",
    "/beta-programs",
    "/surveys",
    "/survey-alerts",
)

BODIES = {
    "/adjust": {"points": 1, "reason": "x"},
    "/transfer": {"to_member_id": "00000000-0000-0000-0000-000000000001", "points": 1},
    "/void": {"reason": "x"},
    "/decision": {"approve": True},
}


def _every_operation():
    schema = ninja_api.get_openapi_schema()
    for path, methods in schema["paths"].items():
        for method in methods:
            yield method.upper(), path.removeprefix("/api/v1")


def test_every_endpoint_with_another_brands_id_is_404(api, brand, other_brand):
    ids, member, reward = _sample_ids(other_brand)
    checked = 0
    for method, path in _every_operation():
        params = re.findall(r"{(\w+)}", path)
        if not params:
            continue
        if path.startswith(OWN_ISOLATION_TESTS):
            continue  # those parts prove their own isolation with their own rows (their tests/)
        concrete = path
        for name in params:
            concrete = concrete.replace("{" + name + "}", ids[name])
        body = next((b for suffix, b in BODIES.items() if path.endswith(suffix)), {})
        if path.endswith("/consents") and method == "POST":
            body = {"channel": "email", "granted": False}
        answer = api.call(method, concrete, body if method != "GET" else None)
        assert answer.status == 404, (method, path, answer.status, answer.body)
        checked += 1
    assert checked >= 10
    # Ids inside bodies are checked too.
    mine = MemberFactory(brand=brand)
    assert (
        api.post(
            "/activities", {"member_id": ids["member_id"], "type": "visit", "attributes": {"store": "x"}}
        ).status
        == 404
    )
    assert api.post("/redemptions", {"member_id": str(mine.pk), "reward_id": str(reward.pk)}).status == 404
    assert (
        api.post("/redemptions", {"member_id": ids["member_id"], "reward_id": str(reward.pk)}).status == 404
    )
    # And lists show only the caller's brand.
    assert [m["id"] for m in api.get("/members").body["items"]] == [str(mine.pk)]
    assert api.get("/rewards").body == []
    member.refresh_from_db()
    assert member.points.balance == 90 and member.status == "active"


def test_rate_limit_headers_and_429_with_retry_after(brand, make_api, settings):
    cache.clear()
    settings.KESHER_RATE_LIMIT_PER_MINUTE = 3
    client = make_api(brand, "pos")
    answers = [client.get("/rewards") for _ in range(4)]
    assert [a.status for a in answers] == [200, 200, 200, 429]
    assert answers[0].headers["X-RateLimit-Limit"] == "3"
    assert answers[0].headers["X-RateLimit-Remaining"] == "2"
    assert int(answers[3].headers["Retry-After"]) >= 1
    assert answers[3].body["error"]["code"] == "rate_limited"


def test_default_rate_limit_is_generous(settings):
    assert settings.KESHER_RATE_LIMIT_PER_MINUTE >= 6000


def test_a_key_can_carry_its_own_limit(brand):
    cache.clear()
    issued = api_key_create(brand=brand, scope="pos", rate_limit_per_minute=2)
    from kesher.conftest import ApiClient

    client = ApiClient(issued.raw_key)
    assert [client.get("/rewards").status for _ in range(3)] == [200, 200, 429]


def test_the_limit_is_counted_in_redis_in_one_round_trip(brand, settings):
    """Where the cache is Redis (production), every process counts against one shared bucket."""
    from django.core.cache import caches

    from kesher.conftest import ApiClient
    from kesher.core.tests.worker import redis_or_skip

    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_or_skip()}
    }
    issued = api_key_create(brand=brand, scope="pos", rate_limit_per_minute=2)  # a new key: a new bucket
    client = ApiClient(issued.raw_key)
    answers = [client.get("/rewards") for _ in range(3)]
    assert [a.status for a in answers] == [200, 200, 429]
    assert [a.headers.get("X-RateLimit-Remaining") for a in answers[:2]] == ["1", "0"]
    assert int(answers[2].headers["Retry-After"]) >= 1
    token_hash = issued.api_key.key_hash
    bucket = caches["default"].make_and_validate_key(f"rl:h:{token_hash[:24]}:{int(time.time() // 60)}")
    redis = caches["default"]._cache.get_client(bucket)
    assert 0 < redis.ttl(bucket) <= 70  # the bucket goes away by itself
