"""The `kesher` command, the health check and the OpenAPI document."""

from __future__ import annotations

import pytest

from kesher.brands.models import ApiKey, Brand
from kesher.brands.selectors import api_key_authenticate
from kesher.cli import main
from kesher.loyalty.models import PointsAccount
from kesher.members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def test_brand_and_key_creation_from_the_command_line(capsys):
    assert main(["brand", "create", "--slug", "bakery", "--name", "מאפיית הכרמל"]) == 0
    brand = Brand.objects.get(slug="bakery")
    assert (brand.default_locale, brand.currency, brand.time_zone) == ("he", "ILS", "Asia/Jerusalem")
    assert brand.earning_rules.filter(activity_type="purchase").exists()  # the default program
    capsys.readouterr()
    assert main(["apikey", "create", "--brand", "bakery", "--scope", "pos"]) == 0
    printed_key = capsys.readouterr().out.strip().splitlines()[-1]
    assert api_key_authenticate(raw_key=printed_key) == ApiKey.objects.get(brand=brand)
    assert main(["brand", "create", "--slug", "bakery", "--name", "again"]) == 1
    assert main(["apikey", "create", "--brand", "nosuch", "--scope", "pos"]) == 1


def test_ledger_verify_passes_then_catches_a_breach(brand, capsys):
    member = MemberFactory(brand=brand)
    assert main(["ledger", "verify"]) == 0
    PointsAccount.objects.filter(member=member).update(
        balance=5
    )  # corrupt the account behind the ledger's back
    assert main(["ledger", "verify", "--brand", brand.slug]) == 1
    assert "balance 5 != spendable lots 0" in capsys.readouterr().out


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def test_openapi_document_lists_the_pos_contract(client):
    schema = client.get("/api/v1/openapi.json").json()
    for path in [
        "/api/v1/members",
        "/api/v1/members/{member_id}",
        "/api/v1/members/by-external-id/{external_id}",
        "/api/v1/activities",
        "/api/v1/activities/bulk",
        "/api/v1/members/{member_id}/points",
        "/api/v1/members/{member_id}/ledger",
        "/api/v1/rewards",
        "/api/v1/redemptions",
        "/api/v1/coupons/{code}/redeem",
        "/api/v1/earning-rules",
    ]:
        assert path in schema["paths"], path
    assert client.get("/api/v1/docs").status_code == 200


def test_every_answer_carries_a_request_id(client):
    response = client.get("/healthz", headers={"X-Request-ID": "till-42-abc"})
    assert response["X-Request-ID"] == "till-42-abc"
    assert len(client.get("/healthz")["X-Request-ID"]) == 32


def test_tick_runs_the_time_driven_work(brand, capsys):
    from datetime import timedelta

    from django.utils import timezone

    from kesher.activity.services import activity_record
    from kesher.loyalty.models import LoyaltyProgram, PointsLot

    LoyaltyProgram.objects.filter(brand=brand).update(pending_days=14)
    member = MemberFactory(brand=brand)
    activity_record(brand=brand, member=member, type="purchase", attributes={"amount": "100"})
    PointsLot.objects.filter(account_id=member.pk).update(available_at=timezone.now() - timedelta(days=1))
    assert main(["tick", "--tiers"]) == 0
    assert capsys.readouterr().out.strip() == (
        "released=100 expired=0 coupons_expired=0 expiry_warnings=0 birthdays=0 messages_handed_over=0"
        " journey_steps=0 ab_tests_decided=0 digests_sent=0 helpful_month_badges=0 outbox_relayed=0"
        " webhooks_sent=0 ideas_expired=0 review_requests_sent=0 prospects_erased=0 mentions_taken_in=0"
        " tier_changes=0"
    )
    assert PointsAccount.objects.get(member=member).balance == 100
