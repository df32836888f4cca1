"""Numbers past their bounds: refused with a 4xx naming the field, never a database error, nothing changed.

The bounds are core/limits.py's; balances and counters are 64-bit, so sums past 2**31 simply work.
"""

from __future__ import annotations

import json
import re
import uuid
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models import Sum

from kesher.activity.models import Activity
from kesher.api.api import api as ninja_api
from kesher.brands.services import staff_grant
from kesher.core.audit import SYSTEM
from kesher.core.errors import ValidationFailed
from kesher.core.limits import MAX_POINTS_HELD, MAX_POINTS_PER_OPERATION
from kesher.loyalty.models import EarningRule, LedgerEntry, PointsAccount, Reward
from kesher.loyalty.services import earning_rule_create, ledger_verify, points_adjust, program_update
from kesher.members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

# The issue's probes. Where a field's documented range takes 2**31 (a rule's budget), that one must pass
# the schema instead, and the walk checks it is no server error.
PROBES = [2**31, 2**63, -(2**63) - 1, 1e30]


def snapshot() -> dict[str, Any]:
    """Rows of every Kesher table, and the points every account holds. A refusal's idempotency record is
    left out: a refusal is an answer too, kept under its Idempotency-Key for a replay."""
    counts: dict[str, Any] = {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label
        in {"members", "activity", "loyalty", "community", "campaigns", "magazine", "core", "brands"}
        and model._meta.label != "core.IdempotencyRecord"
    }
    counts["points"] = PointsAccount.objects.aggregate(
        balance=Sum("balance"), pending=Sum("pending"), earned=Sum("lifetime_earned")
    )
    return counts


def account_of(member: Any) -> tuple[int, int]:
    account = PointsAccount.objects.get(member=member)
    return account.balance, LedgerEntry.objects.filter(account=account).count()


def adjust(api: Any, member: Any, points: Any) -> Any:
    return api.post(f"/members/{member.pk}/points/adjust", {"points": points, "reason": "test"})


# --- the issue's two examples -------------------------------------------------------------------------


def test_the_issues_adjustments_are_refused_through_the_api_naming_points(api, brand):
    member = MemberFactory(brand=brand)
    before = snapshot()
    answer = adjust(api, member, 2_147_483_648)
    assert answer.status == 422, answer.body
    assert answer.body["error"]["field"] == "points"
    assert snapshot() == before

    assert adjust(api, member, 1_000_000_000).status == 201
    assert adjust(api, member, 336).status == 201
    assert account_of(member) == (1_000_000_336, 2)
    answer = adjust(api, member, 1_200_000_000)
    assert answer.status == 422, answer.body
    assert answer.body["error"]["field"] == "points"
    assert "less than or equal to 1000000000" in answer.body["error"]["message"]
    assert account_of(member) == (1_000_000_336, 2)


def test_the_issues_adjustments_are_refused_on_the_console_page(client, brand):
    user = get_user_model().objects.create_user(username="owner", email="o@example.org", password="x")
    staff_grant(brand=brand, user=user, role="owner")
    client.force_login(user)
    client.cookies["django_language"] = "en"
    member = MemberFactory(brand=brand)
    page = f"/console/{brand.slug}/members/{member.pk}/"
    before = snapshot()
    response = client.post(page, {"points": "2147483648", "reason": "typo"})
    assert response.status_code == 422
    assert "Ensure this value is less than or equal to 1000000000." in response.content.decode()
    assert 'max="1000000000"' in response.content.decode()
    assert snapshot() == before
    client.cookies["django_language"] = "he"
    response = client.post(page, {"points": "-2147483648", "reason": "typo"})
    assert response.status_code == 422
    page_text = response.content.decode()
    assert "יש לוודא שערך זה גדול מ או שווה ל־-1000000000." in page_text
    assert '<html lang="he" dir="rtl">' in page_text
    assert snapshot() == before

    points_adjust(member=member, points=1_000_000_000, reason="big", actor=SYSTEM)
    points_adjust(member=member, points=336, reason="small", actor=SYSTEM)
    response = client.post(page, {"points": "1200000000", "reason": "typo"})
    assert response.status_code == 422
    assert account_of(member) == (1_000_000_336, 2)


@pytest.mark.parametrize("points", [2_147_483_648, 1_200_000_000, -(2**63) - 1])
def test_the_service_behind_the_console_and_the_cli_refuses_the_same(brand, points):
    member = MemberFactory(brand=brand)
    points_adjust(member=member, points=1_000_000_336 - 10**9, reason="small", actor=SYSTEM)
    points_adjust(member=member, points=10**9, reason="big", actor=SYSTEM)
    before = snapshot()
    with pytest.raises(ValidationFailed) as refusal:
        points_adjust(member=member, points=points, reason="typo", actor=SYSTEM)
    assert (refusal.value.field, refusal.value.code) == ("points", "number_out_of_range")
    assert refusal.value.message == "points must be from -1,000,000,000 to 1,000,000,000"
    assert snapshot() == before
    assert account_of(member) == (1_000_000_336, 2)


def test_a_balance_grows_past_32_bits(api, brand):
    member = MemberFactory(brand=brand)
    for _ in range(3):
        assert adjust(api, member, MAX_POINTS_PER_OPERATION).status == 201
    assert adjust(api, member, -1).status == 201
    points = api.get(f"/members/{member.pk}/points").body
    assert (points["balance"], points["lifetime_earned"]) == (2_999_999_999, 3_000_000_000)
    ledger = api.get(f"/members/{member.pk}/ledger").body["items"]
    assert [entry["balance_after"] for entry in ledger] == [2_999_999_999, 3_000_000_000, 2 * 10**9, 10**9]
    assert ledger_verify(brand=brand) == []


# --- what an account may hold ---------------------------------------------------------------------------


@pytest.fixture
def full_member(brand):
    """A member holding five points short of the most an account may hold. Earning that takes a million
    maximal operations, so the counters are written directly (the lots are not: the ledger check is off)."""
    member = MemberFactory(brand=brand)
    PointsAccount.objects.filter(member=member).update(
        balance=MAX_POINTS_HELD - 5, lifetime_earned=MAX_POINTS_HELD - 5
    )
    return member


def test_a_credit_past_what_an_account_may_hold_is_a_409_and_changes_nothing(api, brand, full_member):
    before = snapshot()
    answer = adjust(api, full_member, 6)
    assert answer.status == 409, answer.body
    assert answer.body["error"] == {
        "code": "points_limit_reached",
        "message": f"An account holds at most {MAX_POINTS_HELD:,} points; "
        f"this one holds {MAX_POINTS_HELD - 5:,}",
        "field": "points",
    }
    purchase = {
        "member_id": str(full_member.pk),
        "type": "purchase",
        "attributes": {"amount": "6.00", "currency": "ILS"},
    }
    answer = api.post("/activities", purchase, idem="buy-6")
    assert answer.status == 409 and answer.body["error"]["field"] == "attributes"
    assert snapshot() == before
    program_update(brand=brand, changes={"allow_transfers": True}, actor=SYSTEM)
    sender = MemberFactory(brand=brand)
    points_adjust(member=sender, points=10, reason="gift", actor=SYSTEM)
    after_gift = snapshot()
    answer = api.post(
        f"/members/{sender.pk}/points/transfer", {"to_member_id": str(full_member.pk), "points": 6}
    )
    assert answer.status == 409 and answer.body["error"]["code"] == "points_limit_reached"
    assert snapshot() == after_gift
    assert account_of(full_member) == (MAX_POINTS_HELD - 5, 0)
    assert not Activity.objects.filter(member=full_member, type="purchase").exists()

    assert adjust(api, full_member, 5).status == 201
    assert api.get(f"/members/{full_member.pk}/points").body["balance"] == MAX_POINTS_HELD


def test_a_bulk_call_refuses_only_the_activity_past_the_bound(api, brand, full_member):
    other = MemberFactory(brand=brand)
    items = [
        {"member_id": str(other.pk), "type": "purchase", "attributes": {"amount": "10.00"}, "reference": "a"},
        {
            "member_id": str(full_member.pk),
            "type": "purchase",
            "attributes": {"amount": "9.00"},
            "reference": "b",
        },
        {"member_id": str(other.pk), "type": "purchase", "attributes": {"amount": "7.00"}, "reference": "c"},
    ]
    answer = api.post("/activities/bulk", {"activities": items})
    assert answer.status == 200, answer.body
    assert [result["status"] for result in answer.body["results"]] == [201, 409, 201]
    assert answer.body["results"][1]["error"]["code"] == "points_limit_reached"
    assert account_of(other) == (17, 2)
    assert account_of(full_member) == (MAX_POINTS_HELD - 5, 0)
    assert not Activity.objects.filter(member=full_member, type="purchase").exists()


def test_a_purchase_earning_more_than_one_operation_may_give_is_refused(api, brand):
    earning_rule_create(
        brand=brand,
        name="a hundred million a shekel",
        activity_type="purchase",
        effect="per_unit",
        points=100_000_000,
        per_amount=Decimal("1"),
    )
    member = MemberFactory(brand=brand)
    before = snapshot()
    purchase = {"member_id": str(member.pk), "type": "purchase", "attributes": {"amount": "11.00"}}
    answer = api.post("/activities", purchase, idem="big")
    assert answer.status == 422, answer.body
    assert answer.body["error"]["field"] == "attributes"
    assert snapshot() == before
    purchase["attributes"] = {"amount": "9.00"}
    assert api.post("/activities", purchase, idem="fine").body["balance"] == 900_000_009


# --- every number of the OpenAPI document ---------------------------------------------------------------


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _sample(schema: dict[str, Any], components: dict[str, Any]) -> Any:
    """A valid value for a schema: enough to fill the fields a request requires."""
    schema = _resolve(schema, components)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [option for option in schema[key] if _resolve(option, components).get("type") != "null"]
            return _sample(options[0], components)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object":
        return {name: _sample(schema["properties"][name], components) for name in schema.get("required", [])}
    if kind == "array":
        return [_sample(schema.get("items", {}), components) for _ in range(schema.get("minItems", 0))]
    if kind in ("integer", "number"):
        return max(1, schema.get("minimum", 1))
    if kind == "boolean":
        return False
    fmt = schema.get("format")
    if fmt == "uuid":
        return str(uuid.uuid4())
    if fmt == "date-time":
        return "2026-01-01T10:00:00+02:00"
    if fmt == "date":
        return "2000-01-01"
    if fmt == "email":
        return "someone@example.org"
    return "x" * max(1, schema.get("minLength", 1))


def _numbers(
    schema: dict[str, Any], components: dict[str, Any], path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], dict[str, Any]]]:
    """(path, schema) of every integer or number inside a schema ("*" for an item of a list)."""
    schema = _resolve(schema, components)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return [found for option in schema[key] for found in _numbers(option, components, path)]
    kind = schema.get("type")
    if kind in ("integer", "number"):
        return [(path, schema)]
    if kind == "object":
        return [
            found
            for name, sub in schema.get("properties", {}).items()
            for found in _numbers(sub, components, (*path, name))
        ]
    if kind == "array":
        return _numbers(schema.get("items", {}), components, (*path, "*"))
    return []


def _with(
    body: Any, path: tuple[str, ...], value: Any, schema: dict[str, Any], components: dict[str, Any]
) -> Any:
    """The body with `value` at `path`; an item of a list the sample left empty is first filled with a
    valid sample item, so the probe is the only thing wrong with it."""
    if not path:
        return value
    schema = _resolve(schema, components)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [option for option in schema[key] if _resolve(option, components).get("type") != "null"]
            schema = _resolve(options[0], components)
    head, rest = path[0], path[1:]
    if head == "*":
        items = schema.get("items", {})
        return [_with(body[0] if body else _sample(items, components), rest, value, items, components)]
    body = dict(body or {})
    body[head] = _with(body.get(head), rest, value, schema.get("properties", {}).get(head, {}), components)
    return body


def _operations() -> list[tuple[str, str, str, tuple[str, ...], Any, dict[str, Any]]]:
    """(method, path, where, field path, the operation's sample (query, body), the number's schema) for
    every number in the document."""
    document = ninja_api.get_openapi_schema()
    components = document["components"]["schemas"]
    found: list[tuple[str, str, str, tuple[str, ...], Any, dict[str, Any]]] = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            body_schema = (
                operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            )
            body = _sample(body_schema, components) if body_schema else None
            required = {
                parameter["name"]: _sample(parameter["schema"], components)
                for parameter in operation.get("parameters", [])
                if parameter["in"] == "query" and parameter.get("required")
            }
            for parameter in operation.get("parameters", []):
                for _, number in _numbers(parameter["schema"], components):
                    found.append(
                        (method, path, "query", (parameter["name"],), (required, body, body_schema), number)
                    )
            for field, number in _numbers(body_schema, components) if body_schema else []:
                found.append((method, path, "body", field, (required, body, body_schema), number))
    return found


def test_every_number_in_the_openapi_document_refuses_values_past_its_bound(api, brand):
    member = MemberFactory(brand=brand)
    points_adjust(member=member, points=40, reason="start", actor=SYSTEM)
    operations = _operations()
    assert len(operations) >= 55  # the walk covers the whole document, not a handful
    before = snapshot()
    accepted = []  # probes inside a field's range, sent after the others: they may change things
    components = ninja_api.get_openapi_schema()["components"]["schemas"]
    for method, path, where, field, (sample_query, sample_body, body_schema), number in operations:
        # Every number says its range (an enum is a range too).
        assert "enum" in number or (
            ("minimum" in number or "exclusiveMinimum" in number)
            and ("maximum" in number or "exclusiveMaximum" in number)
        ), (method, path, field, number)
        allowed = number.get("enum") or []
        concrete = re.sub(r"{member_id}", str(member.pk), path.removeprefix("/api/v1"))
        concrete = re.sub(r"{(\w+)}", lambda match: str(uuid.uuid4()), concrete)
        for value in PROBES:
            within = value in allowed or (
                not allowed
                and number.get("minimum", number.get("exclusiveMinimum", 0)) <= value
                and value <= number.get("maximum", number.get("exclusiveMaximum", 0))
            )
            query, body = dict(sample_query), sample_body
            if where == "query":
                query[field[0]] = json.dumps(value)
            else:
                body = _with(body, field, value, body_schema, components)
            concrete_query = concrete + ("?" + urlencode(query) if query else "")
            body = body if method != "get" else None
            if within:
                accepted.append((method, concrete_query, body))
                continue
            answer = api.call(method.upper(), concrete_query, body, idem=str(uuid.uuid4()))
            assert 400 <= answer.status < 500, (method, path, field, value, answer.status, answer.body)
            error = answer.body["error"]
            named = ".".join(part for part in field if part != "*")
            assert error["field"] is not None and re.sub(r"\.\d+", "", error["field"]) == named, (
                method,
                path,
                field,
                value,
                error,
            )
    assert snapshot() == before
    assert accepted  # 2**31 points of a rule's budget, or a tier's threshold of 2**31 shekels
    for method, concrete_query, body in accepted:
        answer = api.call(method.upper(), concrete_query, body, idem=str(uuid.uuid4()))
        assert answer.status < 500, (method, concrete_query, body, answer.status, answer.body)


@pytest.mark.parametrize(
    ("activity_type", "attributes", "field"),
    [
        ("purchase", {"amount": "1e30"}, "attributes.amount"),
        ("purchase", {"amount": 2**63}, "attributes.amount"),
        ("purchase", {"amount": "12.345"}, "attributes.amount"),
        (
            "purchase",
            {"amount": "10", "items": [{"sku": "a", "quantity": 2**31}]},
            "attributes.items.0.quantity",
        ),
        (
            "purchase",
            {"amount": "10", "items": [{"sku": "a", "unit_price": 1e30}]},
            "attributes.items.0.unit_price",
        ),
        ("return", {"purchase_id": "x", "amount": -(2**63) - 1}, "attributes.amount"),
        ("birthday", {"year": 2**31}, "attributes.year"),
        ("points_expiring", {"points": 2**63, "expires_on": "2026-01-01"}, "attributes.points"),
    ],
)
def test_numbers_inside_activity_attributes_are_bounded(api, brand, activity_type, attributes, field):
    member = MemberFactory(brand=brand)
    before = snapshot()
    activity = {"member_id": str(member.pk), "type": activity_type, "attributes": attributes}
    answer = api.post("/activities", activity, idem="one")
    assert answer.status == 422, answer.body
    assert answer.body["error"]["field"] == field
    bulk = api.post("/activities/bulk", {"activities": [{**activity, "reference": "r"}]})
    assert bulk.body["results"][0]["status"] == 422
    assert bulk.body["results"][0]["error"]["field"] == field
    assert snapshot() == before


@pytest.mark.parametrize("value", [MAX_POINTS_HELD + 1, 2**63, -(2**63) - 1, 1e30])
def test_a_segments_points_rule_is_bounded(api, brand, value):
    before = snapshot()
    rules = {"conditions": [{"kind": "points", "above": value}]}
    for path, body in [
        ("/campaigns/segments", {"name": "rich", "rules": rules}),
        ("/campaigns/segments/count", {"rules": rules}),
    ]:
        answer = api.post(path, body, idem=str(uuid.uuid4()))
        assert answer.status == 422, (path, answer.body)
        assert answer.body["error"]["field"] == "rules.conditions.0.points.above"
    assert snapshot() == before


def test_decimals_with_too_many_digits_are_a_422(api, brand):
    before = snapshot()
    reward: dict[str, Any] = {"name": "x", "cost_points": 5, "kind": "gift"}
    cases: list[tuple[dict[str, Any], str]] = [
        ({**reward, "value": "12345678901.00"}, "value"),
        ({**reward, "value": "1.001"}, "value"),
        ({"name": "Gold", "threshold": "1234567890123.00"}, "threshold"),
        ({"name": "Gold", "threshold": "10", "multiplier": "1000"}, "multiplier"),
    ]
    for body, field in cases:
        path = "/rewards" if "kind" in body else "/tiers"
        answer = api.post(path, body, idem=str(uuid.uuid4()))
        assert answer.status == 422, (body, answer.body)
        assert answer.body["error"]["field"] == field
    assert snapshot() == before


@pytest.mark.parametrize(
    ("page", "form"),
    [
        (
            "rules/",
            {
                "name": "r",
                "activity_type": "visit",
                "effect": "fixed",
                "points": "2147483648",
                "per_amount": "1",
                "multiplier": "1",
            },
        ),
        (
            "rules/",
            {
                "name": "r",
                "activity_type": "visit",
                "effect": "fixed",
                "points": "1",
                "per_amount": "1e30",
                "multiplier": "1",
            },
        ),
        (
            "rules/",
            {
                "name": "r",
                "activity_type": "visit",
                "effect": "fixed",
                "points": "1",
                "per_amount": "1",
                "multiplier": "1",
                "budget_points": str(2**63),
            },
        ),
        ("rewards/", {"name": "r", "kind": "gift", "cost_points": str(2**31), "value": "0"}),
        ("rewards/", {"name": "r", "kind": "gift", "cost_points": "5", "value": "99999999999999"}),
        ("rewards/", {"name": "r", "kind": "gift", "cost_points": "5", "value": "0", "stock": str(2**63)}),
        ("tiers/", {"name": "t", "threshold": "1e30", "multiplier": "1"}),
        ("tiers/", {"name": "t", "threshold": "10", "multiplier": "12345.5"}),
    ],
)
def test_console_forms_refuse_numbers_past_their_bounds(client, brand, page, form):
    user = get_user_model().objects.create_user(username="owner", email="o@example.org", password="x")
    staff_grant(brand=brand, user=user, role="owner")
    client.force_login(user)
    before = snapshot()
    response = client.post(f"/console/{brand.slug}/{page}", form)
    assert response.status_code == 422
    assert snapshot() == before
    assert not EarningRule.objects.filter(brand=brand, name="r").exists()
    assert not Reward.objects.filter(brand=brand, name="r").exists()
