"""The interactive API docs need no internet: every asset comes from Kesher's own static files."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from kesher.web.tests.test_browser import browser  # noqa: F401


class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in {"src", "href"} and value:
                self.urls.append(value)


def test_the_docs_page_names_no_other_host_and_its_assets_are_kesher_s_own() -> None:
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    parser = _References()
    parser.feed(html)
    assert any(url.endswith("swagger-ui-bundle.js") for url in parser.urls)
    for url in parser.urls:
        parsed = urlparse(url)
        assert not parsed.scheme and not parsed.netloc, url
        assert url.startswith("/static/"), url
        assert finders.find(url.removeprefix("/static/")), f"{url} is not among the static files"
    assert not re.search(r"https?://", html)
    settings_json = re.search(
        r'<script type="application/json" id="swagger-settings">(.*?)</script>', html, re.S
    )
    assert settings_json is not None
    swagger = json.loads(settings_json.group(1))
    assert swagger["validatorUrl"] is None and swagger["url"] == "/api/v1/openapi.json"


@pytest.mark.browser
def test_swagger_ui_renders_in_chromium_with_every_request_to_kesher(
    browser: Any,  # noqa: F811
    live_server: Any,
    transactional_db: None,
    settings: Any,
) -> None:
    settings.WHITENOISE_USE_FINDERS = True  # the live server serves static files without collectstatic
    settings.WHITENOISE_AUTOREFRESH = True
    context = browser.new_context(base_url=live_server.url)
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto("/api/v1/docs")
    page.locator(".swagger-ui .info .title").wait_for()
    assert "Kesher API" in page.locator(".swagger-ui .info .title").inner_text()
    page.locator(".opblock-tag").first.wait_for()  # the document was fetched and drawn
    assert requested, "the page made no requests"
    own = urlparse(live_server.url).netloc
    foreign = [
        url for url in requested if urlparse(url).scheme in {"http", "https"} and urlparse(url).netloc != own
    ]
    assert foreign == []
    assert any(url.endswith("/api/v1/openapi.json") for url in requested)
    context.close()
    assert Path(finders.find("ninja/swagger-ui-bundle.js") or "").stat().st_size > 100_000
