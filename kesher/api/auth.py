"""API key authentication (Bearer), scope checks and the per-key rate limit."""

from __future__ import annotations

import math
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from kesher.brands.models import ApiKey, Brand
from kesher.brands.selectors import api_key_authenticate
from kesher.brands.services import hash_api_key, split_api_key
from kesher.core.audit import Actor
from kesher.core.errors import KesherError, PermissionDenied

BUCKET_SECONDS = 70  # a minute's bucket lives a little longer than its minute
LAST_USED_RESOLUTION = 60  # seconds: write last_used_at at most once a minute per key, not on every call
KEYS_GENERATION = "apikeys:generation"  # changes whenever a key or a brand changes (see keys_changed)
KEY_CACHE_SECONDS = 300  # a remembered key is read again from the database at least this often


class RateLimited(KesherError):
    status = 429
    code = "rate_limited"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many requests; retry after {retry_after} seconds")
        self.retry_after = retry_after


@dataclass(frozen=True)
class RateState:
    limit: int
    remaining: int
    reset: int


def _count(bucket: str) -> int:
    """Count one more call in this minute's bucket and say how many there were (without Redis; with it,
    see _count_and_generation). The "ratelimit" cache is each process's own in the embedded mode."""
    backend = caches["ratelimit"]
    backend.add(bucket, 0, timeout=BUCKET_SECONDS)
    try:
        return int(backend.incr(bucket))
    except ValueError:  # the bucket expired between add and incr
        backend.set(bucket, 1, timeout=BUCKET_SECONDS)
        return 1


def _limit_of(api_key: ApiKey) -> int:
    return (
        api_key.rate_limit_per_minute
        or api_key.brand.rate_limit_per_minute
        or settings.KESHER_RATE_LIMIT_PER_MINUTE
    )


def _window() -> tuple[int, int]:
    """This minute's number and the seconds until the next one."""
    now = time.time()
    window = int(now // 60)
    return window, math.ceil((window + 1) * 60 - now)


def _rate_state(limit: int, used: int, reset: int) -> RateState:
    if used > limit:
        raise RateLimited(retry_after=max(reset, 1))
    return RateState(limit=limit, remaining=max(limit - used, 0), reset=reset)


def _check_rate(api_key: ApiKey) -> RateState:
    window, reset = _window()
    return _rate_state(_limit_of(api_key), _count(f"rl:{api_key.prefix}:{window}"), reset)


# --- keys remembered between requests (with Redis) -------------------------------------------------------
#
# Each process remembers the keys it has checked, with the brand read alongside, so a request needs no
# database query to know its key. What makes that safe is a generation value in Redis: any change to a key
# or a brand (a revocation above all) writes a new generation after its commit, and a process trusts what
# it remembers only while the generation it last read is the current one.
#
# The rate limit's count and the generation travel in one round trip to Redis (a sync). A process syncs a
# key at most every KESHER_RATE_LIMIT_SYNC_MS (500 ms by default) while the key is far from its limit,
# adding the calls it counted meanwhile, and on every call once the key has used half its limit; a key it
# does not remember is synced at once. Between syncs a call costs no round trip (about a quarter of a
# member read's CPU). So another process's revocation is refused within that interval, and when several
# processes share a busy key the count may trail by the calls of that interval; 0 syncs on every call.
# Without Redis (the embedded defaults) nothing is remembered and every call is counted at once.

_remembered: dict[str, tuple[str, float, ApiKey]] = {}  # key hash -> (generation, since, key)
_remembered_lock = threading.Lock()
_BRAND_COLUMNS = [field.attname for field in Brand._meta.concrete_fields]
_KEY_COLUMNS = [field.attname for field in ApiKey._meta.concrete_fields]


@dataclass
class _Tally:
    """A remembered key's calls in one minute's bucket, as this process knows them."""

    window: int
    total: int = 0  # the bucket's count in Redis at the last sync, every process's calls
    unsent: int = 0  # calls counted here since then
    synced_at: float = -math.inf


_tallies: dict[str, _Tally] = {}  # key hash -> this minute's tally, for remembered keys only
_generation: tuple[str, float] = ("", -math.inf)  # the last generation read and when (monotonic)


def _redis_client(backend: Any) -> Any:
    """The Redis client under Django's cache, made once per cache object (Django makes a new one on every
    call, which cost as much as the round trip itself). Cache objects are per thread."""
    client = getattr(backend, "_kesher_redis", None)
    if client is None:
        client = backend._kesher_redis = backend._cache.get_client(write=True)
    return client


def keys_changed() -> None:
    """Forget every remembered key, here and (after the current transaction commits) in every process."""
    with _remembered_lock:
        _remembered.clear()
        _tallies.clear()
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return

    def publish() -> None:
        global _generation
        generation = uuid.uuid4().hex
        _redis_client(backend).set(backend.make_and_validate_key(KEYS_GENERATION), generation)
        with _remembered_lock:  # what a request read here before the commit is not trusted either
            _remembered.clear()
            _tallies.clear()
            _generation = (generation, time.monotonic())

    transaction.on_commit(publish)


def _count_and_generation(backend: RedisCache, bucket: str, calls: int = 1) -> tuple[int, str]:
    """One round trip (Django's cache API would take three for the count alone): add `calls` to the
    bucket's count, and read the keys' generation, starting one when Redis has none (after a restart or a
    flush: what was remembered before it is then read again)."""
    bucket_key = backend.make_and_validate_key(bucket)
    generation_key = backend.make_and_validate_key(KEYS_GENERATION)
    client = _redis_client(backend)
    pipe = client.pipeline(transaction=False)
    pipe.incrby(bucket_key, calls)
    pipe.expire(bucket_key, BUCKET_SECONDS, nx=True)
    pipe.get(generation_key)
    used, _, generation = pipe.execute()
    if generation is None:
        client.set(generation_key, uuid.uuid4().hex, nx=True)
        generation = client.get(generation_key)
    return int(used), generation.decode() if isinstance(generation, bytes) else str(generation)


def _bucket(token_hash: str, window: int) -> str:
    return f"rl:h:{token_hash[:24]}:{window}"


def _trusted(token_hash: str, generation: str, now: float) -> ApiKey | None:
    """The key remembered for this token, if it was read under `generation` and not too long ago."""
    remembered = _remembered.get(token_hash)
    if remembered is None or remembered[0] != generation or now - remembered[1] >= KEY_CACHE_SECONDS:
        return None
    return remembered[2]


def _counted_locally(token_hash: str, window: int, now: float) -> tuple[ApiKey, int] | None:
    """A remembered key and its count, when this call may go without a sync (see above)."""
    interval = settings.KESHER_RATE_LIMIT_SYNC_MS / 1000
    generation, read_at = _generation
    api_key = _trusted(token_hash, generation, now)
    if api_key is None or now - read_at >= interval:
        return None
    with _remembered_lock:
        tally = _tallies.get(token_hash)
        if tally is None or tally.window != window or now - tally.synced_at >= interval:
            return None
        used = tally.total + tally.unsent + 1
        if used * 2 > _limit_of(api_key):
            return None
        tally.unsent += 1
    return api_key, used


def _synced(backend: RedisCache, token_hash: str, window: int, now: float) -> tuple[int, str]:
    """Count this call, and those counted here since the last sync, in Redis; read the generation."""
    global _generation
    with _remembered_lock:
        tally = _tallies.get(token_hash)
        unsent = tally.unsent if tally is not None and tally.window == window else 0
        if tally is not None:
            tally.unsent -= unsent
    used, generation = _count_and_generation(backend, _bucket(token_hash, window), unsent + 1)
    _generation = (generation, now)
    with _remembered_lock:
        tally = _tallies.get(token_hash)
        if tally is not None and tally.window == window:
            tally.total, tally.synced_at = max(tally.total, used), now
        elif token_hash in _remembered:  # a new minute for a remembered key
            _tallies[token_hash] = _Tally(window=window, total=used, synced_at=now)
    return used, generation


def _authenticate_remembering(backend: RedisCache, token: str) -> tuple[ApiKey, RateState] | None:
    """The key and its rate state, with the key remembered across requests (see above). The bucket is
    named by the token's hash, so calls with a made-up secret never count against a real key."""
    if split_api_key(token) is None:
        return None
    token_hash = hash_api_key(token)
    window, reset = _window()
    now = time.monotonic()
    local = _counted_locally(token_hash, window, now)
    if local is not None:
        api_key, used = local
        return _copy(api_key), _rate_state(_limit_of(api_key), used, reset)
    used, generation = _synced(backend, token_hash, window, now)
    remembered = _trusted(token_hash, generation, now)
    if remembered is not None:
        api_key = _copy(remembered)
    else:
        found = api_key_authenticate(raw_key=token)
        if found is None:
            return None
        api_key = found
        with _remembered_lock:
            _remembered[token_hash] = (generation, now, _copy(found))
            _tallies[token_hash] = _Tally(window=window, total=used, synced_at=now)
    return api_key, _rate_state(_limit_of(api_key), used, reset)


def _copy(api_key: ApiKey) -> ApiKey:
    """A key and its brand of their own for this request: nothing one request caches on them (a related
    object, a changed attribute) reaches another."""
    brand = api_key.brand
    brand_copy = Brand.from_db(brand._state.db, _BRAND_COLUMNS, [getattr(brand, n) for n in _BRAND_COLUMNS])
    copy = ApiKey.from_db(api_key._state.db, _KEY_COLUMNS, [getattr(api_key, n) for n in _KEY_COLUMNS])
    copy._state.fields_cache["brand"] = brand_copy  # type: ignore[attr-defined]
    return copy


class ApiKeyAuth(HttpBearer):
    openapi_scheme = "bearer"

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        backend = caches["default"]
        if isinstance(backend, RedisCache):
            checked = _authenticate_remembering(backend, token)
            if checked is None:
                return None
            api_key, request.rate_limit = checked  # type: ignore[attr-defined]
        else:
            found = api_key_authenticate(raw_key=token)
            if found is None:
                return None
            api_key = found
            request.rate_limit = _check_rate(api_key)  # type: ignore[attr-defined]
        now = timezone.now()
        if (
            api_key.last_used_at is None
            or (now - api_key.last_used_at).total_seconds() > LAST_USED_RESOLUTION
        ):
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
            remembered = _remembered.get(api_key.key_hash)
            if remembered is not None:  # carried to the next request's copy
                remembered[2].last_used_at = now
        return api_key


def key_of(request: HttpRequest) -> ApiKey:
    return request.auth  # type: ignore[attr-defined,no-any-return]


def brand_of(request: HttpRequest) -> Brand:
    return key_of(request).brand


def actor_of(request: HttpRequest) -> Actor:
    return Actor(api_key=key_of(request))


def require_scope(request: HttpRequest, scope: str) -> None:
    api_key = key_of(request)
    if not api_key.allows(scope):
        raise PermissionDenied(
            f"This key's scope is {api_key.scope!r}; this call needs {scope!r}", code="insufficient_scope"
        )
