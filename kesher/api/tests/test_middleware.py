"""API requests take the short middleware chain; pages keep the whole one."""

from __future__ import annotations

import pytest
from django.test import Client

from kesher.members.services import member_create


@pytest.fixture
def member(brand):
    return member_create(brand=brand, first_name="Noa", email="noa@example.com")


def test_an_api_answer_has_the_api_chain_headers_and_nothing_of_the_pages(api, member):
    answer = api.call("GET", f"/members/{member.pk}", key=None)
    assert answer.status == 200 and answer.body["id"] == str(member.pk)
    headers = answer.headers
    assert headers["X-Request-ID"] and headers["X-RateLimit-Limit"]  # before the shortcut
    assert headers["X-Content-Type-Options"] == "nosniff"  # SecurityMiddleware
    assert headers["Content-Language"] in ("he", "en")  # LocaleMiddleware
    assert "X-Frame-Options" not in headers  # the pages' clickjacking middleware was skipped
    assert "Set-Cookie" not in headers  # no session, no CSRF cookie


@pytest.mark.parametrize("language", ["he", "en"])
def test_the_api_answers_in_the_language_asked_for(api, language):
    answer = Client().get(
        "/api/v1/members/not-a-uuid",
        headers={"Authorization": f"Bearer {api.key}", "Accept-Language": language},
    )
    assert answer.status_code == 404
    assert answer.headers["Content-Language"] == language
    assert answer.json()["error"]["code"] == "member_not_found"


def test_an_unexpected_error_in_an_api_view_is_a_500_not_a_crash(api, member, monkeypatch):
    from kesher.members import selectors

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(selectors, "member_get", broken)
    client = Client(raise_request_exception=False)
    answer = client.get(f"/api/v1/members/{member.pk}", headers={"Authorization": f"Bearer {api.key}"})
    assert answer.status_code == 500
    assert answer.headers["X-Request-ID"]


def test_pages_still_go_through_the_whole_chain(db):
    answer = Client().get("/accounts/login/")
    assert answer.status_code == 200
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert "csrftoken" in answer.cookies
