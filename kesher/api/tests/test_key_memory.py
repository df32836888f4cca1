"""With Redis, each process remembers the keys it has checked; a change to a key or a brand, in any
process, makes every process read them again: at once in the process that made it, within the sync
interval (KESHER_RATE_LIMIT_SYNC_MS) in the others, and on the next request when the interval is 0."""

from __future__ import annotations

import time

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
    _forget()
    yield caches["default"]
    _forget()


def _forget() -> None:
    auth._remembered.clear()
    auth._tallies.clear()
    auth._generation = ("", float("-inf"))


SYNC_MS = 200


def _past_the_sync_interval() -> None:
    time.sleep(SYNC_MS / 1000 + 0.05)


@pytest.fixture
def sync_interval(settings):
    settings.KESHER_RATE_LIMIT_SYNC_MS = SYNC_MS


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


def _revoked_elsewhere(redis_cache, issued) -> None:
    """Another process's revocation: the row changes and a new generation is written to Redis, while this
    process still remembers the key."""
    ApiKey.objects.filter(pk=issued.api_key.pk).update(revoked_at=timezone.now())  # no signal here
    generation = redis_cache.make_and_validate_key(auth.KEYS_GENERATION)
    auth._redis_client(redis_cache).set(generation, "written-by-another-process")


def test_another_process_change_is_seen_on_the_next_request_when_every_call_syncs(
    redis_cache, brand, member, settings
):
    settings.KESHER_RATE_LIMIT_SYNC_MS = 0
    issued = api_key_create(brand=brand, scope="pos")
    client = ApiClient(issued.raw_key)
    assert client.get(f"/members/{member.pk}").status == 200
    ApiKey.objects.filter(pk=issued.api_key.pk).update(revoked_at=timezone.now())  # no signal here
    assert client.get(f"/members/{member.pk}").status == 200  # still remembered: the cache is real
    _revoked_elsewhere(redis_cache, issued)
    assert client.get(f"/members/{member.pk}").status == 401


def test_another_process_change_is_seen_within_the_sync_interval(redis_cache, brand, member, sync_interval):
    issued = api_key_create(brand=brand, scope="pos")
    client = ApiClient(issued.raw_key)
    assert client.get(f"/members/{member.pk}").status == 200
    _revoked_elsewhere(redis_cache, issued)
    assert client.get(f"/members/{member.pk}").status == 200  # within the interval: not yet known here
    _past_the_sync_interval()
    assert client.get(f"/members/{member.pk}").status == 401
    assert client.get(f"/members/{member.pk}").status == 401


@pytest.mark.parametrize("sync_ms", [0, SYNC_MS])
def test_a_flushed_redis_forgets_what_was_remembered(redis_cache, brand, member, settings, sync_ms):
    settings.KESHER_RATE_LIMIT_SYNC_MS = sync_ms
    issued = api_key_create(brand=brand, scope="pos")
    client = ApiClient(issued.raw_key)
    assert client.get(f"/members/{member.pk}").status == 200
    ApiKey.objects.filter(pk=issued.api_key.pk).update(revoked_at=timezone.now())
    redis_cache.clear()  # a restart without persistence, or a flush: the generation is gone
    if sync_ms:
        _past_the_sync_interval()
    assert client.get(f"/members/{member.pk}").status == 401


def test_between_syncs_a_remembered_key_costs_no_round_trip_and_its_calls_are_added_later(
    redis_cache, brand, member, sync_interval, monkeypatch
):
    issued = api_key_create(brand=brand, scope="pos")
    client = ApiClient(issued.raw_key)
    round_trips: list[int] = []
    count_and_generation = auth._count_and_generation

    def counted(backend, bucket, calls=1):
        round_trips.append(calls)
        return count_and_generation(backend, bucket, calls)

    monkeypatch.setattr(auth, "_count_and_generation", counted)
    answers = [client.get(f"/members/{member.pk}") for _ in range(5)]
    assert [a.status for a in answers] == [200] * 5
    assert round_trips == [1]  # the first call, whose key was not remembered yet
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == [str(6000 - n) for n in range(1, 6)]
    _past_the_sync_interval()
    assert client.get(f"/members/{member.pk}").headers["X-RateLimit-Remaining"] == str(6000 - 6)
    assert round_trips == [1, 5]  # the four counted here, and this one
    window, _ = auth._window()
    bucket = redis_cache.make_and_validate_key(auth._bucket(issued.api_key.key_hash, window))
    assert int(auth._redis_client(redis_cache).get(bucket)) == 6


def test_every_process_calls_count_and_near_the_limit_every_call_is_counted_at_once(
    redis_cache, brand, member, sync_interval
):
    issued = api_key_create(brand=brand, scope="pos", rate_limit_per_minute=10)
    client = ApiClient(issued.raw_key)
    assert client.get(f"/members/{member.pk}").status == 200
    window, _ = auth._window()
    bucket = redis_cache.make_and_validate_key(auth._bucket(issued.api_key.key_hash, window))
    auth._redis_client(redis_cache).incrby(bucket, 7)  # another process's calls
    _past_the_sync_interval()
    statuses = [client.get(f"/members/{member.pk}").status for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert int(auth._redis_client(redis_cache).get(bucket)) == 11


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


def test_what_a_request_read_before_a_change_committed_is_not_trusted_after_it(
    redis_cache, brand, member, sync_interval, django_capture_on_commit_callbacks
):
    """A request in this process that reads the key between the change and its commit remembers the old
    row; the commit's new generation is taken here at once, so the next request reads the key again."""
    issued = api_key_create(brand=brand, scope="pos")
    client = ApiClient(issued.raw_key)
    assert client.get(f"/members/{member.pk}").status == 200
    with django_capture_on_commit_callbacks(execute=True):
        auth.keys_changed()  # as a revocation does, before its commit
        assert client.get(f"/members/{member.pk}").status == 200  # reads and remembers the old row
        ApiKey.objects.filter(pk=issued.api_key.pk).update(revoked_at=timezone.now())
    assert client.get(f"/members/{member.pk}").status == 401
