"""The one input rule over the API and the pages: control characters refused with the field named, text
kept in NFC, chunked bodies read and bounded, JSON errors for paths no operation has, 415 for non-JSON."""

from __future__ import annotations

import io
import json
import unicodedata
from typing import Any

import pytest
from django.test import Client

from kesher.activity.models import Activity
from kesher.core.input import BadInput, text_clean
from kesher.members.models import Member


def _error(answer: Any) -> dict[str, Any]:
    assert answer.headers["Content-Type"].startswith("application/json"), answer.body
    return answer.body["error"]


@pytest.mark.parametrize("value", ["a%00b", "a%01b", "a%0Ab", "a%1Fb"])
def test_a_control_character_in_a_query_parameter_is_refused_naming_it(api, value):
    answer = api.get(f"/members?q={value}")
    assert answer.status == 422
    assert _error(answer)["field"] == "q"


def test_a_nul_in_a_path_parameter_is_refused(api):
    answer = api.get("/members/by-external-id/a%00b")
    assert answer.status == 422
    assert _error(answer)["field"] == "path"


def test_a_nul_deep_in_a_json_body_is_refused_naming_the_field_and_nothing_is_written(api, brand):
    member = api.post("/members", {"external_id": "pos-1", "first_name": "Dana"}).body
    body = {
        "member_id": member["id"],
        "type": "purchase",
        "attributes": {"amount": "10.00", "items": [{"sku": "A1", "name": "caf\u0000e", "quantity": 1}]},
    }
    before = Activity.objects.filter(brand=brand).count()
    answer = api.post("/activities", body, idem="nul-1")
    assert answer.status == 422
    assert _error(answer)["field"] == "attributes.items.0.name"
    assert Activity.objects.filter(brand=brand).count() == before


def test_a_lone_surrogate_in_a_json_string_is_refused(api, brand):
    answer = api.post("/members", raw=b'{"external_id": "pos-1", "first_name": "\\ud800"}')
    assert answer.status == 422
    assert _error(answer)["field"] == "first_name"
    assert not Member.objects.filter(brand=brand).exists()


def test_a_nul_in_a_json_key_is_refused(api):
    answer = api.post("/members", {"external_id": "pos-1", "first_name": "Dana", "x\u0000": 1})
    assert answer.status == 422
    assert _error(answer)["field"] == "x\u0000"


def test_a_control_character_in_the_idempotency_key_is_refused(api, brand):
    member = api.post("/members", {"external_id": "pos-1"}).body
    body = {"member_id": member["id"], "type": "visit"}
    before = Activity.objects.filter(brand=brand).count()
    client = Client()
    response = client.post(
        "/api/v1/activities",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {api.key}", "Idempotency-Key": "k\x01y"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "Idempotency-Key"
    assert Activity.objects.filter(brand=brand).count() == before


def test_tab_newline_and_carriage_return_are_allowed_in_bodies_only():
    assert text_clean("a\tb\nc\r\nd", field="body") == "a\tb\nc\r\nd"
    with pytest.raises(BadInput):
        text_clean("a\tb", field="q", multiline=False)
    with pytest.raises(BadInput):
        text_clean("a\x0bb", field="body")


def test_text_is_kept_in_nfc(api, brand):
    decomposed = "Rene\u0301 \u05e9\u05c1\u05b8\u05dc\u05d5\u05b9\u05dd"  # e + combining acute; shin + dots
    answer = api.post("/members", {"external_id": "pos-1", "first_name": decomposed})
    assert answer.status == 201, answer.body
    assert Member.objects.get(brand=brand).first_name == unicodedata.normalize("NFC", decomposed)
    assert Member.objects.get(brand=brand).first_name.startswith("Ren\u00e9")


def test_a_query_parameter_is_found_in_nfc(api, brand):
    api.post("/members", {"external_id": "Ren\u00e9"})
    answer = api.get("/members/by-external-id/Rene%CC%81")
    assert answer.status == 200, answer.body


def test_a_body_that_is_not_json_is_refused_with_415(api, brand):
    response = Client().post(
        "/api/v1/members",
        data="external_id=pos-1",
        content_type="text/plain",
        headers={"Authorization": f"Bearer {api.key}"},
    )
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    assert not Member.objects.filter(brand=brand).exists()


@pytest.mark.parametrize(
    "path",
    [
        "/campaigns/not-a-uuid",
        "/campaigns/not-a-uuid/stats",
        "/campaigns/segments/1",
        "/campaigns/journeys/null",
        "/campaigns/journeys/x/pause",
        "/no-such-thing",
    ],
)
def test_a_path_no_operation_has_gets_the_json_404(api, path):
    answer = api.get(path)
    assert answer.status == 404
    assert _error(answer)["code"] == "not_found"


def _chunked(api: Any, path: str, body: bytes) -> Any:
    """What a WSGI server that decodes chunked bodies hands over: no Content-Length, the input ending with
    the body (wsgi.input_terminated)."""
    client = Client()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/v1" + path,
        "CONTENT_TYPE": "application/json",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "HTTP_AUTHORIZATION": f"Bearer {api.key}",
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": True,
    }
    return client.request(**environ)


def test_a_chunked_body_is_read(api, brand):
    response = _chunked(api, "/members", json.dumps({"external_id": "pos-1"}).encode())
    assert response.status_code == 201, response.content
    assert Member.objects.filter(brand=brand, external_id="pos-1").exists()


def test_a_chunked_body_over_the_limit_gets_413(api, brand, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"external_id": "pos-1", "first_name": "x" * 2000}).encode()
    response = _chunked(api, "/members", body)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"
    assert not Member.objects.filter(brand=brand).exists()


def _marketer(client: Client, brand: Any) -> None:
    from django.contrib.auth import get_user_model

    from kesher.brands.services import staff_grant

    user = get_user_model().objects.create_user(username="m", email="m@example.org", password="x")
    staff_grant(brand=brand, user=user, role="marketer")
    client.force_login(user)


RULE_FORM = {"activity_type": "visit", "effect": "fixed", "points": "4", "per_amount": "1", "multiplier": "1"}


def test_a_form_field_with_a_nul_is_refused_and_nothing_is_written(client, brand):
    from kesher.loyalty.models import EarningRule

    _marketer(client, brand)
    before = EarningRule.objects.filter(brand=brand).count()
    response = client.post(f"/console/{brand.slug}/rules/", {**RULE_FORM, "name": "Friday\x00coffee"})
    assert response.status_code == 400
    assert EarningRule.objects.filter(brand=brand).count() == before


def test_a_form_field_is_kept_in_nfc(client, brand):
    from kesher.loyalty.models import EarningRule

    _marketer(client, brand)
    response = client.post(f"/console/{brand.slug}/rules/", {**RULE_FORM, "name": "Cafe\u0301 Friday"})
    assert response.status_code == 303
    assert EarningRule.objects.filter(brand=brand, name="Caf\u00e9 Friday").exists()


def test_a_page_query_parameter_with_a_nul_is_refused(client, brand):
    _marketer(client, brand)
    assert client.get(f"/console/{brand.slug}/members/?q=05%002").status_code == 400
