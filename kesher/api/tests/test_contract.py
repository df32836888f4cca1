"""The OpenAPI document says what the API takes, and the API holds to it: a PATCH may leave a field out
but not null one that cannot be empty, enums and time formats are declared as they are checked."""

from __future__ import annotations

from typing import Any

import pytest

from kesher.loyalty.models import EarningRule, LoyaltyProgram, Reward

pytestmark = pytest.mark.django_db


def _field_schema(api: Any, schema_name: str, field: str) -> dict[str, Any]:
    document = api.get("/openapi.json").body
    return document["components"]["schemas"][schema_name]["properties"][field]


def _nullable(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "null" or any(part.get("type") == "null" for part in schema.get("anyOf", []))


@pytest.mark.parametrize(
    ("path", "schema_name", "field"),
    [
        ("/program", "ProgramPatch", "allow_transfers"),
        ("/program", "ProgramPatch", "expiry"),
        ("/program", "ProgramPatch", "point_value"),
        ("/campaigns/settings", "SettingsIn", "quiet_start"),
        ("/campaigns/settings", "SettingsIn", "bounce_signature_required"),
    ],
)
def test_a_null_on_a_settings_field_that_cannot_be_empty_is_refused(api, brand, path, schema_name, field):
    before = api.get(path).body
    answer = api.patch(path, {field: None})
    assert answer.status == 422, answer.body
    assert answer.body["error"]["field"] == field
    assert api.get(path).body == before
    assert not _nullable(_field_schema(api, schema_name, field))


@pytest.mark.parametrize("field", ["per_amount", "priority", "stackable", "active", "name", "points"])
def test_a_null_on_an_earning_rule_field_that_cannot_be_empty_is_refused(api, brand, field):
    rule = api.post(
        "/earning-rules", {"name": "Visit", "activity_type": "visit", "effect": "fixed", "points": 5}
    )
    assert rule.status == 201, rule.body
    answer = api.patch(f"/earning-rules/{rule.body['id']}", {field: None})
    assert answer.status == 422, answer.body
    assert answer.body["error"]["field"] == field
    row = EarningRule.objects.get(pk=rule.body["id"])
    assert (row.name, row.points, row.priority, row.active) == ("Visit", 5, 100, True)
    assert not _nullable(_field_schema(api, "EarningRulePatch", field))


@pytest.mark.parametrize("field", ["name", "cost_points", "value", "active", "texts"])
def test_a_null_on_a_reward_field_that_cannot_be_empty_is_refused(api, brand, field):
    reward = api.post("/rewards", {"name": "Coffee", "cost_points": 50, "kind": "free_item"})
    assert reward.status == 201, reward.body
    answer = api.patch(f"/rewards/{reward.body['id']}", {field: None})
    assert answer.status == 422, answer.body
    assert answer.body["error"]["field"] == field
    row = Reward.objects.get(pk=reward.body["id"])
    assert (row.name, row.cost_points, row.active) == ("Coffee", 50, True)


def test_a_field_that_may_be_emptied_still_may(api, brand):
    reward = api.post("/rewards", {"name": "Coffee", "cost_points": 50, "kind": "free_item", "stock": 3}).body
    answer = api.patch(f"/rewards/{reward['id']}", {"stock": None})
    assert answer.status == 200, answer.body
    assert answer.body["stock"] is None
    assert _nullable(_field_schema(api, "RewardPatch", "stock"))


def test_program_enums_are_in_the_document_and_refused_outside_it(api, brand):
    assert _field_schema(api, "ProgramPatch", "expiry")["enum"] == [
        "never",
        "days",
        "end_of_month",
        "end_of_year",
    ]
    answer = api.patch("/program", {"expiry": "weekly"})
    assert answer.status == 422
    assert LoyaltyProgram.objects.get(brand=brand).expiry == "never"


def test_quiet_hours_match_the_format_the_document_declares(api, brand):
    import re

    schema = _field_schema(api, "SettingsOut", "quiet_start")
    assert "format" not in schema
    pattern = re.compile(schema["pattern"])
    body = api.get("/campaigns/settings").body
    assert pattern.match(body["quiet_start"]) and pattern.match(body["quiet_end"])
    answer = api.patch("/campaigns/settings", {"quiet_start": "22:30"})
    assert answer.status == 200, answer.body
    assert pattern.match(answer.body["quiet_start"]) and answer.body["quiet_start"].startswith("22:30")


def test_a_number_is_not_taken_as_a_date(api, brand):
    member = api.post("/members", {"external_id": "pos-1"}).body
    answer = api.patch(f"/members/{member['id']}", {"birthday": 0})
    assert answer.status == 422
    assert answer.body["error"]["field"] == "birthday"
    activity = api.post("/activities", {"member_id": member["id"], "type": "visit", "occurred_at": 0})
    assert activity.status == 422
    assert activity.body["error"]["field"] == "occurred_at"
    assert api.get(f"/members/{member['id']}").body["birthday"] is None


def test_true_or_false_is_not_taken_as_a_number(api, brand):
    answer = api.post("/rewards", {"name": "Coffee", "cost_points": True, "kind": "free_item"})
    assert answer.status == 422
    assert answer.body["error"]["field"] == "cost_points"
    assert not Reward.objects.filter(brand=brand).exists()


def test_what_integrators_send_today_is_still_taken(api, brand):
    """Money as a string or a number, whole numbers for counts, dates and times as ISO strings."""
    member = api.post("/members", {"external_id": "pos-1", "birthday": "1990-05-17"})
    assert member.status == 201, member.body
    for amount in ("99.90", 99.9, 100):
        answer = api.post(
            "/activities",
            {
                "member_id": member.body["id"],
                "type": "purchase",
                "occurred_at": "2026-01-31T09:00:00+02:00",
                "attributes": {"amount": amount, "currency": "ILS"},
            },
        )
        assert answer.status == 201, answer.body
    reward = api.post(
        "/rewards", {"name": "Coffee", "cost_points": 50, "kind": "free_item", "value": "10.00"}
    )
    assert reward.status == 201, reward.body


@pytest.mark.parametrize(
    ("schema_name", "field", "values"),
    [
        (
            "RewardIn",
            "kind",
            ["discount_percent", "discount_fixed", "free_item", "gift", "experience", "donation"],
        ),
        ("EarningRuleIn", "effect", ["fixed", "per_unit", "multiplier"]),
        ("ProgramPatch", "tier_basis", ["points", "spend"]),
    ],
)
def test_the_document_lists_the_values_a_field_takes(api, schema_name, field, values):
    assert _field_schema(api, schema_name, field)["enum"] == values


def test_a_field_called_body_is_named_in_the_error(api, brand):
    member = api.post("/members", {"external_id": "pos-1"}).body
    long = {"member_id": member["id"], "title": "Opening hours?", "body": "x" * 30_001}
    answer = api.post("/community/questions", long)
    assert answer.status == 422
    assert answer.body["error"]["field"] == "body"


def test_a_number_past_what_the_database_holds_is_a_422_and_nothing_is_written(api, brand):
    answer = api.post("/rewards", {"name": "Coffee", "cost_points": 2**70, "kind": "free_item"})
    assert answer.status == 422, answer.body
    assert answer.body["error"]["code"] == "validation_error"
    assert not Reward.objects.filter(brand=brand).exists()


def test_a_question_with_a_word_longer_than_any_index_takes_is_asked_and_found(api, brand):
    member = api.post("/members", {"external_id": "pos-1", "first_name": "Dana"}).body
    body = "opening hours " + "x" * 5000
    answer = api.post(
        "/community/questions", {"member_id": member["id"], "title": "Opening hours?", "body": body}
    )
    assert answer.status == 201, answer.body
    found = api.get("/community/search?q=opening")
    assert found.status == 200
    assert [hit["question"]["id"] for hit in found.body] == [answer.body["id"]]


def test_no_two_schemas_of_the_api_share_a_name():
    """The OpenAPI document names each schema by its class name: two parts' `SettingsIn` would silently
    document one part's fields for the other's operation."""
    import importlib
    import inspect
    from collections import defaultdict

    from django.apps import apps
    from ninja import Schema

    owners: dict[str, set[str]] = defaultdict(set)
    for config in apps.get_app_configs():
        if not config.name.startswith("kesher."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.api")
        except ModuleNotFoundError:
            continue
        for name, value in vars(module).items():
            if inspect.isclass(value) and issubclass(value, Schema) and value.__module__ == module.__name__:
                owners[name].add(module.__name__)
    assert len(owners) > 50  # every part's schemas were found
    assert {name: sorted(found) for name, found in owners.items() if len(found) > 1} == {}
