"""With Redis, each process remembers the keys it has checked; a change to a key or a brand, in any
process, makes every process read them again on its next request."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kesher.api import auth
from kesher.brands.models import ApiKey
from kesher.brands.services import api_key_create, api_key_revoke
from kesher.conftest import ApiClient
from kesher.core.tests.worker import redis_or_skip
from kesher.members.services import member_create


@pytest.fixture
def redis_cache(settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_or_skip()}
    }
    caches["default"].clear()
    auth._remembered.clear()
    yield caches["default"]
    auth._remembered.clear()


@pytest.fixture
def member(brand):
    return member_create(brand=brand, first_name="Dana")


def _key_queries(captured: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "brands_apikey" in q["sql"]]


def test_a_remembered_key_needs_no_query(redis_cache, brand, member):
    client = ApiClient(api_key_create(brand=brand, scope="pos").raw_key)
    assert client.get(f"/members/{member.pk}").status == 200
    with CaptureQueriesContext(connection) as captured:
        for _ in range(3):
            assert client.get(f"/members/{member.pk}").status == 200
    assert _key_queries(captured) == []


def test_a_revocation_is_refused_on_the_next_request(
    redis_cache, brand, member, django_capture_on_commit_callbacks
):
    issued = api_key_create(brand=brand, scope="pos")
    client = ApiClient(issued.raw_key)
    assert client.get(f"/members/{member.pk}").status == 200
    with django_capture_on_commit_callbacks(execute=True):
        api_key_revoke(api_key=ApiKey.objects.get(pk=issued.api_key.pk))
    assert client.get(f"/members/{member.pk}").status == 401


def test_another_process_change_is_seen_through_the_generation(redis_cache, brand, member):
    """Another process's revocation: the row changes and a new generation is written to Redis, while this
    process still remembers the key. Without the new generation this process would go on accepting it."""
    issued = api_key_create(brand=brand, scope="pos")
    client = ApiClient(issued.raw_key)
    assert client.get(f"/members/{member.pk}").status == 200
    ApiKey.objects.filter(pk=issued.api_key.pk).update(revoked_at=timezone.now())  # no signal here
    assert client.get(f"/members/{member.pk}").status == 200  # still remembered: the cache is real
    generation = redis_cache.make_and_validate_key(auth.KEYS_GENERATION)
    auth._redis_client(redis_cache).set(generation, "written-by-another-process")
    assert client.get(f"/members/{member.pk}").status == 401


def test_a_flushed_redis_forgets_what_was_remembered(redis_cache, brand, member):
    issued = api_key_create(brand=brand, scope="pos")
    client = ApiClient(issued.raw_key)
    assert client.get(f"/members/{member.pk}").status == 200
    ApiKey.objects.filter(pk=issued.api_key.pk).update(revoked_at=timezone.now())
    redis_cache.clear()  # a restart without persistence, or a flush: the generation is gone
    assert client.get(f"/members/{member.pk}").status == 401


def test_a_brand_change_is_read_again(redis_cache, brand, member, django_capture_on_commit_callbacks):
    client = ApiClient(api_key_create(brand=brand, scope="pos").raw_key)
    assert client.get(f"/members/{member.pk}").headers["X-RateLimit-Limit"] != "7"
    with django_capture_on_commit_callbacks(execute=True):
        brand.rate_limit_per_minute = 7
        brand.save()
    assert client.get(f"/members/{member.pk}").headers["X-RateLimit-Limit"] == "7"


def test_a_wrong_secret_never_counts_against_the_real_key(redis_cache, brand, member):
    issued = api_key_create(brand=brand, scope="pos", rate_limit_per_minute=2)
    forged = issued.raw_key[:-4] + ("aaaa" if not issued.raw_key.endswith("aaaa") else "bbbb")
    assert [ApiClient(forged).get(f"/members/{member.pk}").status for _ in range(5)] == [401] * 5
    client = ApiClient(issued.raw_key)
    assert [client.get(f"/members/{member.pk}").status for _ in range(3)] == [200, 200, 429]


def test_each_request_gets_its_own_copy_of_the_key_and_brand(redis_cache, brand, member):
    issued = api_key_create(brand=brand, scope="pos")
    first = auth._authenticate_remembering(redis_cache, issued.raw_key)
    second = auth._authenticate_remembering(redis_cache, issued.raw_key)
    assert first is not None and second is not None
    first[0].brand.name = "changed by one request"
    first[0].scope = "all"
    third = auth._authenticate_remembering(redis_cache, issued.raw_key)
    assert third is not None
    assert third[0].brand.name == brand.name and third[0].scope == "pos"
    assert second[0].brand is not third[0].brand
    assert third[0].brand.pk == brand.pk and third[0].pk == issued.api_key.pk
