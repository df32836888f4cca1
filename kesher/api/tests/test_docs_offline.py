"""The interactive API docs need no internet: every asset comes from Kesher's own static files."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from urllib.parse import urlparse

from django.contrib.staticfiles import finders
from django.test import Client


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
