"""Fixtures every test shares: brands, API keys and a small JSON client for the API."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.db import connection
from django.test import Client

from kesher.brands.models import Brand
from kesher.brands.services import api_key_create, brand_create

IN_CI = os.environ.get("CI", "").lower() == "true"

# The live test server listens with socketserver's backlog of 5; the race tests open 50 connections at once.
ThreadedWSGIServer.request_queue_size = 128


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Concurrency proofs need PostgreSQL; on SQLite they are left to the PostgreSQL pass of `make test`."""
    from django.conf import settings

    on_sqlite = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
    if not on_sqlite:
        return
    kept = [item for item in items if "postgres" not in item.keywords]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if "postgres" in item.keywords])
        items[:] = kept


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """In CI nothing skips: a service or browser that should be there and is not is a failure."""
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which must not happen: {report.longrepr}"


@pytest.fixture(scope="session", autouse=True)
def _cache_of_this_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The embedded mode's shared file cache in a folder of this run's own: nothing cached by an earlier
    run (or the other database's pass) reaches this one, and var/cache is left to `kesher run`."""
    from django.conf import settings
    from django.test import override_settings

    caches = {alias: dict(config) for alias, config in settings.CACHES.items()}
    if caches["default"]["BACKEND"].endswith("SharedFileCache"):
        caches["default"]["LOCATION"] = str(tmp_path_factory.mktemp("cache"))
    with override_settings(CACHES=caches):
        yield


@pytest.fixture(autouse=True)
def _plain_static_files(settings: Any) -> None:
    """Tests render pages without running collectstatic first: no manifest of hashed names."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def brand(db: None) -> Brand:
    return brand_create(slug="cafe", name="קפה טוב", default_locale="he")


@pytest.fixture
def other_brand(db: None) -> Brand:
    return brand_create(slug="shop", name="Other Shop", default_locale="en")


@dataclass
class Answer:
    status: int
    body: Any
    headers: Any


class ApiClient:
    """Talks JSON to /api/v1 with one key, the way an integration would."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.client = Client()

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        idem: str | None = None,
        raw: bytes | None = None,
        key: str | None = None,
    ) -> Answer:
        headers = {"Authorization": f"Bearer {key if key is not None else self.key}"}
        if idem is not None:
            headers["Idempotency-Key"] = idem
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        response = getattr(self.client, method.lower())(
            "/api/v1" + path, data=data, content_type="application/json", headers=headers
        )
        content = response.content
        return Answer(response.status_code, json.loads(content) if content else None, response.headers)

    def get(self, path: str, **kw: Any) -> Answer:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Answer:
        return self.call("POST", path, body if body is not None else {}, **kw)

    def patch(self, path: str, body: Any, **kw: Any) -> Answer:
        return self.call("PATCH", path, body, **kw)


@pytest.fixture
def make_api() -> Callable[..., ApiClient]:
    def make(brand: Brand, scope: str = "all") -> ApiClient:
        return ApiClient(api_key_create(brand=brand, scope=scope).raw_key)

    return make


@pytest.fixture
def api(brand: Brand, make_api: Callable[..., ApiClient]) -> ApiClient:
    return make_api(brand, "all")


@pytest.fixture
def db_vendor(db: None) -> str:
    return connection.vendor
