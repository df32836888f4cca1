"""GET and PATCH /api/v1/brand: the brand's look and senders through the API, manage scope."""

from __future__ import annotations

from typing import Any

import pytest

from kesher.brands.models import Brand
from kesher.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_the_brand_reads_its_look(brand, make_api):
    answer = make_api(brand, "manage").get("/brand")
    assert answer.status == 200
    assert answer.body == {
        "slug": "cafe",
        "name": "קפה טוב",
        "default_locale": "he",
        "primary_color": "#0f766e",
        "accent_color": "#1e3a8a",
        "domain": None,
        "logo_url": None,
        "favicon_url": None,
        "sender_name": "קפה טוב",
        "sender_email": "",
        "sms_sender": "",
        "join_url": "http://testserver/join/cafe/",
    }


def test_the_brand_changes_its_look_once_per_idempotency_key(brand, make_api):
    api = make_api(brand, "manage")
    body = {"primary_color": "#7C2D12", "domain": "club.cafe.co.il", "sender_email": "club@cafe.co.il"}
    first = api.patch("/brand", body, idem="look-1")
    again = api.patch("/brand", body, idem="look-1")
    assert first.status == again.status == 200
    assert first.body == again.body
    assert (first.body["primary_color"], first.body["domain"], first.body["join_url"]) == (
        "#7c2d12",
        "club.cafe.co.il",
        "https://club.cafe.co.il/",
    )
    assert AuditEntry.objects.filter(brand=brand, action="brand.look_update").count() == 1


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"primary_color": "#ffff00"}, "low_contrast", "primary_color"),
        ({"accent_color": "teal"}, "validation_error", "accent_color"),
        ({"domain": "https://club.cafe.co.il"}, "validation_error", "domain"),
        ({"slug": "x"}, "validation_error", "slug"),
    ],
)
def test_a_refused_change_answers_with_its_field_and_changes_nothing(brand, make_api, body, code, field):
    answer = make_api(brand, "manage").patch("/brand", body)
    assert answer.status == 422
    assert (answer.body["error"]["code"], answer.body["error"]["field"]) == (code, field)
    brand.refresh_from_db()
    assert (brand.primary_color, brand.accent_color, brand.domain) == ("#0f766e", "#1e3a8a", None)


def test_a_pos_key_may_not_read_or_change_the_look(brand, make_api):
    api = make_api(brand, "pos")
    assert api.get("/brand").status == 403
    assert api.patch("/brand", {"name": "x"}).status == 403
    assert Brand.objects.get(pk=brand.pk).name == "קפה טוב"


def test_each_key_sees_its_own_brand_only(brand, other_brand, make_api):
    make_api(other_brand, "manage").patch("/brand", {"name": "Other Shop 2"})
    assert make_api(brand, "manage").get("/brand").body["name"] == "קפה טוב"
    assert Brand.objects.get(pk=brand.pk).name == "קפה טוב"


def test_the_openapi_document_describes_the_brand_calls(client: Any, db):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert set(paths["/api/v1/brand"]) == {"get", "patch"}
