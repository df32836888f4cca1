"""The suppression list over the API: staff read it page by page and take an address off it, audited;
another brand's list is out of reach and a refused removal changes nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from kesher.brands.models import Brand
from kesher.campaigns.models import EmailSuppression, SuppressionReason
from kesher.campaigns.selectors import email_suppressed
from kesher.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def _suppress(brand: Brand, email: str, detail: str = "550 5.1.1 user unknown") -> EmailSuppression:
    return EmailSuppression.objects.create(
        brand=brand, email=email, reason=SuppressionReason.HARD_BOUNCE, detail=detail
    )


def _rows() -> list[tuple[str, str]]:
    return sorted(EmailSuppression.objects.values_list("brand__slug", "email"))


def _delete(api: Any, email: str, **kw: Any) -> Any:
    return api.call("DELETE", f"/campaigns/suppressions/{email}", **kw)


def test_the_list_comes_in_address_order_page_by_page(api, brand, other_brand):
    for email in (
        "dan@example.org",
        "avi@example.org",
        "gal@example.org",
        "bat@example.org",
        "eli@example.org",
    ):
        _suppress(brand, email)
    _suppress(other_brand, "cat@example.org")
    first = api.get("/campaigns/suppressions?limit=2")
    assert first.status == 200
    assert [item["email"] for item in first.body["items"]] == ["avi@example.org", "bat@example.org"]
    item = first.body["items"][0]
    assert (item["reason"], item["detail"]) == ("hard_bounce", "550 5.1.1 user unknown")
    created = EmailSuppression.objects.get(email="avi@example.org").created_at
    # The API writes times to the millisecond.
    assert datetime.fromisoformat(item["created_at"]) == created.replace(
        microsecond=created.microsecond // 1000 * 1000
    )
    cursor = first.body["next_cursor"]
    second = api.get(f"/campaigns/suppressions?limit=2&cursor={cursor}")
    assert [item["email"] for item in second.body["items"]] == ["dan@example.org", "eli@example.org"]
    third = api.get(f"/campaigns/suppressions?limit=2&cursor={second.body['next_cursor']}")
    assert [item["email"] for item in third.body["items"]] == ["gal@example.org"]
    assert third.body["next_cursor"] is None
    everything = api.get("/campaigns/suppressions")
    assert len(everything.body["items"]) == 5 and everything.body["next_cursor"] is None


def test_a_cursor_not_made_here_is_refused(api, brand):
    for cursor in ("%25%25%25", "bm90LWFuLWFkZHJlc3M", "YWJj!"):
        answer = api.get(f"/campaigns/suppressions?cursor={cursor}")
        assert answer.status == 422, cursor
        assert answer.body["error"]["field"] == "cursor"


def test_removing_an_address_allows_mail_again_and_is_audited(api, brand, other_brand):
    _suppress(brand, "dan@example.org")
    _suppress(brand, "avi@example.org")
    _suppress(other_brand, "dan@example.org")
    answer = _delete(api, "Dan@Example.org")
    assert answer.status == 200
    assert (answer.body["email"], answer.body["reason"]) == ("dan@example.org", "hard_bounce")
    assert _rows() == [("cafe", "avi@example.org"), ("shop", "dan@example.org")]
    assert not email_suppressed(brand_id=brand.pk, email="dan@example.org")
    assert email_suppressed(brand_id=other_brand.pk, email="dan@example.org")
    (audit,) = AuditEntry.objects.filter(action="email_suppression.remove")
    assert audit.brand_id == brand.pk
    assert audit.actor_api_key is not None and audit.actor_api_key.brand_id == brand.pk
    assert audit.data["email"] == "dan@example.org"
    assert audit.data["reason"] == "hard_bounce"
    assert audit.data["detail"] == "550 5.1.1 user unknown"
    # Once removed it is not there to remove again.
    assert _delete(api, "dan@example.org").status == 404


def test_another_brands_address_and_unknown_addresses_are_not_found(api, brand, other_brand):
    _suppress(other_brand, "cat@example.org")
    _suppress(brand, "avi@example.org")
    for email in ("cat@example.org", "nobody@example.org", "not-an-address"):
        answer = _delete(api, email)
        assert answer.status == 404, email
        assert answer.body["error"]["code"] == "not_found"
    assert _rows() == [("cafe", "avi@example.org"), ("shop", "cat@example.org")]
    assert not AuditEntry.objects.filter(action="email_suppression.remove").exists()
    assert [item["email"] for item in api.get("/campaigns/suppressions").body["items"]] == ["avi@example.org"]


def test_a_key_without_manage_scope_is_refused_and_nothing_changes(brand, make_api):
    _suppress(brand, "avi@example.org")
    reader = make_api(brand, "pos")
    assert reader.get("/campaigns/suppressions").status == 403
    answer = _delete(reader, "avi@example.org")
    assert answer.status == 403
    assert answer.body["error"]["code"] == "insufficient_scope"
    assert _rows() == [("cafe", "avi@example.org")]
    assert not AuditEntry.objects.filter(action="email_suppression.remove").exists()
