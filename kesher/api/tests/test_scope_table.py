"""Which API key scope may call which operation: one table, tried call by call for every scope.

`SCOPES` names every operation of the OpenAPI document (a new one the table does not mention fails the
test). For each key (none, pos, manage, all) every operation is called with real ids and a valid body:
an allowed call is never 401/403 (and with the `all` key it succeeds, which proves the body valid, so a
refusal for another key is the scope's and not the body's); a refused one is 401 without a key and 403
`insufficient_scope` with one, and a refused write changes no row.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pytest

from kesher.api.api import api as ninja_api
from kesher.conftest import ApiClient
from kesher.core.tests.fingerprint import changed_models, rows_fingerprint
from kesher.loyalty.models import Referral

pytestmark = pytest.mark.django_db

ANY = "any key"  # pos, manage and all
MANAGE = "manage"  # manage and all
PUBLIC = "public"  # no key needed

# (METHOD, path under /api/v1) → who may call it.
SCOPES: dict[tuple[str, str], str] = {
    ("GET", "/openapi.json"): PUBLIC,
    ("POST", "/members"): ANY,
    ("GET", "/members"): MANAGE,
    ("GET", "/members/find"): ANY,
    ("GET", "/members/by-external-id/{external_id}"): ANY,
    ("GET", "/members/{member_id}"): ANY,
    ("PATCH", "/members/{member_id}"): ANY,
    ("POST", "/members/{member_id}/consents"): ANY,
    ("GET", "/members/{member_id}/consents"): ANY,
    ("POST", "/members/{member_id}/erase"): MANAGE,
    ("POST", "/activities"): ANY,
    ("POST", "/activities/bulk"): ANY,
    ("GET", "/members/{member_id}/points"): ANY,
    ("GET", "/members/{member_id}/insights"): MANAGE,
    ("GET", "/members/{member_id}/ledger"): ANY,
    ("GET", "/members/{member_id}/coupons"): ANY,
    ("GET", "/members/{member_id}/tier"): ANY,
    ("POST", "/members/{member_id}/points/adjust"): MANAGE,
    ("POST", "/members/{member_id}/points/transfer"): MANAGE,
    ("POST", "/surprises"): MANAGE,
    ("GET", "/program"): MANAGE,
    ("PATCH", "/program"): MANAGE,
    ("GET", "/earning-rules"): MANAGE,
    ("POST", "/earning-rules"): MANAGE,
    ("PATCH", "/earning-rules/{rule_id}"): MANAGE,
    ("GET", "/tiers"): ANY,
    ("POST", "/tiers"): MANAGE,
    ("GET", "/rewards"): ANY,
    ("POST", "/rewards"): MANAGE,
    ("PATCH", "/rewards/{reward_id}"): MANAGE,
    ("POST", "/redemptions"): ANY,
    ("POST", "/coupons/{code}/redeem"): ANY,
    ("POST", "/coupons/{code}/void"): MANAGE,
    ("GET", "/referrals"): MANAGE,
    ("POST", "/referrals/{referral_id}/decision"): MANAGE,
    ("GET", "/reports/points-liability"): MANAGE,
    ("GET", "/community/spaces"): ANY,
    ("POST", "/community/spaces"): MANAGE,
    ("GET", "/community/spaces/{slug}"): ANY,
    ("GET", "/community/questions"): ANY,
    ("POST", "/community/questions"): ANY,
    ("GET", "/community/questions/{question_id}"): ANY,
    ("POST", "/community/questions/{question_id}/answers"): ANY,
    ("POST", "/community/posts/{post_id}/comments"): ANY,
    ("PATCH", "/community/posts/{post_id}"): ANY,
    ("POST", "/community/answers/{answer_id}/accept"): ANY,
    ("POST", "/community/posts/{post_id}/votes"): ANY,
    ("POST", "/community/posts/{post_id}/flags"): ANY,
    ("GET", "/community/search"): ANY,
    ("GET", "/community/suggestions"): ANY,
    ("GET", "/community/tags"): ANY,
    ("GET", "/community/members/{member_id}"): ANY,
    ("GET", "/community/moderation/queue"): MANAGE,
    ("POST", "/community/posts/{post_id}/moderation"): MANAGE,
    ("POST", "/community/questions/{question_id}/state"): MANAGE,
    ("POST", "/community/questions/{question_id}/merge"): MANAGE,
    ("POST", "/community/members/{member_id}/suspension"): MANAGE,
    ("GET", "/community/reputation-rules"): MANAGE,
    ("PUT", "/community/reputation-rules/{event}"): MANAGE,
    ("POST", "/community/follows"): ANY,
    ("POST", "/community/follows/remove"): ANY,
    ("GET", "/community/members/{member_id}/notifications"): ANY,
    ("POST", "/campaigns/segments"): MANAGE,
    ("GET", "/campaigns/segments"): MANAGE,
    ("POST", "/campaigns/segments/count"): MANAGE,
    ("GET", "/campaigns/segments/{segment_id}"): MANAGE,
    ("GET", "/campaigns/segments/{segment_id}/count"): MANAGE,
    ("GET", "/campaigns/settings"): MANAGE,
    ("PATCH", "/campaigns/settings"): MANAGE,
    ("GET", "/brand"): MANAGE,
    ("PATCH", "/brand"): MANAGE,
    ("GET", "/campaigns/suppressions"): MANAGE,
    ("DELETE", "/campaigns/suppressions/{email}"): MANAGE,
    ("POST", "/campaigns"): MANAGE,
    ("GET", "/campaigns"): MANAGE,
    ("GET", "/campaigns/{campaign_id}"): MANAGE,
    ("GET", "/campaigns/{campaign_id}/audience"): MANAGE,
    ("POST", "/campaigns/{campaign_id}/send"): MANAGE,
    ("GET", "/campaigns/{campaign_id}/stats"): MANAGE,
    ("POST", "/campaigns/{campaign_id}/preview"): MANAGE,
    ("POST", "/campaigns/{campaign_id}/test"): MANAGE,
    ("GET", "/campaigns/journeys"): MANAGE,
    ("POST", "/campaigns/journeys"): MANAGE,
    ("POST", "/campaigns/journeys/install"): MANAGE,
    ("GET", "/campaigns/journeys/{journey_id}"): MANAGE,
    ("POST", "/campaigns/journeys/{journey_id}/pause"): MANAGE,
    ("POST", "/campaigns/journeys/{journey_id}/resume"): MANAGE,
    ("POST", "/magazine/articles"): MANAGE,
    ("GET", "/magazine/articles"): MANAGE,
    # webhooks
    ("GET", "/webhooks/event-types"): MANAGE,
    ("POST", "/webhooks"): MANAGE,
    ("GET", "/webhooks"): MANAGE,
    ("GET", "/webhooks/{webhook_id}"): MANAGE,
    ("PATCH", "/webhooks/{webhook_id}"): MANAGE,
    ("DELETE", "/webhooks/{webhook_id}"): MANAGE,
    ("POST", "/webhooks/{webhook_id}/rotate"): MANAGE,
    ("GET", "/webhooks/{webhook_id}/deliveries"): MANAGE,
    ("POST", "/webhooks/{webhook_id}/deliveries/{delivery_id}/replay"): MANAGE,
}

KEYS_ALLOWED: dict[str, set[str | None]] = {
    PUBLIC: {None, "pos", "manage", "all"},
    ANY: {"pos", "manage", "all"},
    MANAGE: {"manage", "all"},
}


def _operations() -> list[tuple[str, str]]:
    schema = ninja_api.get_openapi_schema()
    return [
        (method.upper(), path.removeprefix("/api/v1"))
        for path, methods in schema["paths"].items()
        for method in methods
    ] + [("GET", "/openapi.json")]


def test_the_table_names_every_operation_and_nothing_else():
    operations = set(_operations())
    assert operations - SCOPES.keys() == set(), "operations the scope table does not say who may call"
    assert SCOPES.keys() - operations == set(), "the table names operations that no longer exist"


@dataclass
class Scene:
    ids: dict[str, str]
    bodies: dict[tuple[str, str], Any]


def _scene(brand: Any, admin: ApiClient) -> Scene:
    """A club with two members, a reward and a coupon, a referral, a question with an answer and a second
    question, a segment, a campaign, a journey and a suppressed address: every id an operation takes."""

    def ok(answer: Any) -> Any:
        assert answer.status in (200, 201), answer.body
        return answer.body

    ok(admin.patch("/program", {"allow_transfers": True}))
    noa = ok(admin.post("/members", {"external_id": "noa", "email": "noa@example.org", "first_name": "Noa"}))
    dan = ok(admin.post("/members", {"external_id": "dan", "email": "dan@example.org", "first_name": "Dan"}))
    ok(admin.post(f"/members/{noa['id']}/points/adjust", {"points": 500, "reason": "seed"}, idem="seed-noa"))
    ok(admin.post(f"/members/{dan['id']}/points/adjust", {"points": 500, "reason": "seed"}, idem="seed-dan"))
    reward = ok(admin.post("/rewards", {"name": "Coffee", "cost_points": 10, "kind": "free_item"}))
    coupon = ok(admin.post("/redemptions", {"member_id": noa["id"], "reward_id": reward["id"]}, idem="r1"))
    spare = ok(admin.post("/redemptions", {"member_id": noa["id"], "reward_id": reward["id"]}, idem="r2"))
    friend = ok(
        admin.post(
            "/members",
            {"external_id": "friend", "email": "f@example.org", "referral_code": noa["referral_code"]},
        )
    )
    referral = Referral.objects.get(friend_id=friend["id"])
    rule = ok(admin.get("/earning-rules"))[0]
    question = ok(
        admin.post(
            "/community/questions",
            {
                "member_id": noa["id"],
                "space": "general",
                "title": "Is the oat milk free?",
                "body": "Asking for a friend",
                "tags": ["milk"],
            },
        )
    )
    other = ok(
        admin.post(
            "/community/questions",
            {
                "member_id": dan["id"],
                "space": "general",
                "title": "Opening hours on Friday",
                "body": "When do you open?",
            },
        )
    )
    answer = ok(
        admin.post(
            f"/community/questions/{question['id']}/answers", {"member_id": dan["id"], "body": "Yes, always"}
        )
    )
    from kesher.community.models import CommunityProfile

    for member in (noa, dan):  # old hands: flagging and the like need reputation
        CommunityProfile.objects.update_or_create(
            member_id=member["id"], defaults={"brand_id": brand.pk, "reputation": 1000}
        )
    # A new member's quick answer is held for review; staff let it through.
    ok(admin.post(f"/community/posts/{answer['id']}/moderation", {"action": "restore"}, idem="restore"))
    segment = ok(admin.post("/campaigns/segments", {"name": "Everyone", "rules": {}}))
    campaign = ok(
        admin.post(
            "/campaigns",
            {
                "name": "Spring",
                "channel": "email",
                "subject": "Spring",
                "body": "Hello {{ first_name }}",
                "advertising": True,
            },
        )
    )
    journey = ok(admin.post("/campaigns/journeys/install", {"kind": "welcome"}))
    from kesher.campaigns.models import EmailSuppression, SuppressionReason

    suppressed = EmailSuppression.objects.create(
        brand=brand, email="gone@example.org", reason=SuppressionReason.values[0]
    )
    # webhooks: an endpoint with one delivery in its log
    from kesher.core.events import Event
    from kesher.webhooks.models import Delivery
    from kesher.webhooks.services import fan_out

    webhook = ok(admin.post("/webhooks", {"url": "http://127.0.0.1:9/hooks", "events": ["member.created"]}))
    fan_out(Event(brand_id=brand.pk, type="member.created", data={"member_id": noa["id"]}), kick=False)
    ids = {
        "webhook_id": webhook["id"],
        "delivery_id": str(Delivery.objects.get(endpoint_id=webhook["id"]).pk),
        "member_id": noa["id"],
        "external_id": "noa",
        "reward_id": reward["id"],
        "code": coupon["code"],
        "spare_code": spare["code"],
        "rule_id": rule["id"],
        "referral_id": str(referral.pk),
        "slug": "general",
        "question_id": question["id"],
        "other_question_id": other["id"],
        "post_id": question["id"],
        "answer_id": answer["id"],
        "event": "answer_accepted",
        "segment_id": segment["id"],
        "campaign_id": campaign["id"],
        "journey_id": journey["id"],
        "email": suppressed.email,
        "dan": dan["id"],
    }
    bodies: dict[tuple[str, str], Any] = {
        ("POST", "/members"): {"external_id": "new", "email": "new@example.org"},
        ("PATCH", "/members/{member_id}"): {"first_name": "Noa B."},
        ("POST", "/members/{member_id}/consents"): {"channel": "email", "granted": True},
        ("POST", "/activities"): {
            "member_id": noa["id"],
            "type": "visit",
            "attributes": {"store": "Dizengoff"},
        },
        ("POST", "/activities/bulk"): {
            "activities": [
                {
                    "member_id": noa["id"],
                    "type": "visit",
                    "attributes": {"store": "x"},
                    "idempotency_key": "b1",
                }
            ]
        },
        ("POST", "/members/{member_id}/points/adjust"): {"points": 5, "reason": "goodwill"},
        ("POST", "/members/{member_id}/points/transfer"): {"to_member_id": dan["id"], "points": 5},
        ("POST", "/surprises"): {"member_ids": [dan["id"]], "reason": "thanks", "budget": 10, "points": 5},
        ("PATCH", "/program"): {"expiry_warning_days": 14},
        ("POST", "/earning-rules"): {
            "name": "Visit",
            "activity_type": "visit",
            "effect": "fixed",
            "points": 5,
        },
        ("PATCH", "/earning-rules/{rule_id}"): {"name": "Purchases"},
        ("POST", "/tiers"): {"name": "Gold", "threshold": "300"},
        ("POST", "/rewards"): {"name": "Cake", "cost_points": 20, "kind": "free_item"},
        ("PATCH", "/rewards/{reward_id}"): {"name": "Big coffee"},
        ("POST", "/redemptions"): {"member_id": noa["id"], "reward_id": reward["id"]},
        ("POST", "/coupons/{code}/redeem"): {},
        ("POST", "/coupons/{code}/void"): {"reason": "mistake"},
        ("POST", "/referrals/{referral_id}/decision"): {"approve": True},
        ("POST", "/community/spaces"): {"slug": "ideas", "name": "Ideas"},
        ("POST", "/community/questions"): {
            "member_id": dan["id"],
            "space": "general",
            "title": "Gluten free cakes?",
            "body": "Any?",
        },
        ("POST", "/community/questions/{question_id}/answers"): {"member_id": noa["id"], "body": "Thanks!"},
        ("POST", "/community/posts/{post_id}/comments"): {"member_id": dan["id"], "body": "Good one"},
        ("PATCH", "/community/posts/{post_id}"): {"member_id": noa["id"], "body": "Asking for two friends"},
        ("POST", "/community/answers/{answer_id}/accept"): {"member_id": noa["id"]},
        ("POST", "/community/posts/{post_id}/votes"): {"member_id": dan["id"], "value": 1},
        ("POST", "/community/posts/{post_id}/flags"): {"member_id": dan["id"], "reason": "spam"},
        ("POST", "/community/posts/{post_id}/moderation"): {"action": "hide", "reason": "test"},
        ("POST", "/community/questions/{question_id}/state"): {"action": "pin"},
        ("POST", "/community/questions/{question_id}/merge"): {"into": question["id"]},
        ("POST", "/community/members/{member_id}/suspension"): {"until": "2099-01-01T00:00:00Z"},
        ("PUT", "/community/reputation-rules/{event}"): {"points": 20},
        ("POST", "/community/follows"): {"member_id": dan["id"], "question_id": question["id"]},
        ("POST", "/community/follows/remove"): {"member_id": dan["id"], "question_id": question["id"]},
        ("POST", "/campaigns/segments"): {"name": "Fans", "rules": {}},
        ("POST", "/campaigns/segments/count"): {"rules": {}},
        ("PATCH", "/campaigns/settings"): {"sender_name": "The café"},
        ("PATCH", "/brand"): {"primary_color": "#0b5d55"},
        ("POST", "/campaigns"): {
            "name": "Summer",
            "channel": "email",
            "subject": "Hi",
            "body": "Hi",
            "advertising": True,
        },
        ("POST", "/campaigns/{campaign_id}/send"): {},
        ("POST", "/campaigns/{campaign_id}/preview"): {},
        ("POST", "/campaigns/{campaign_id}/test"): {"to": "staff@example.org"},
        ("POST", "/campaigns/journeys"): {
            "name": "Birthday",
            "trigger": "birthday",
            "steps": [
                {
                    "type": "send",
                    "channel": "email",
                    "subject": "Happy birthday",
                    "body": "Mazal tov",
                    "advertising": False,
                }
            ],
        },
        ("POST", "/campaigns/journeys/install"): {"kind": "birthday"},
        ("POST", "/campaigns/journeys/{journey_id}/pause"): {},
        ("POST", "/campaigns/journeys/{journey_id}/resume"): {},
        ("POST", "/magazine/articles"): {"title": "Our new roast", "body": "It is *dark*."},
        # webhooks
        ("POST", "/webhooks"): {"url": "http://127.0.0.1:9/other", "events": ["points.changed"]},
        ("PATCH", "/webhooks/{webhook_id}"): {"events": ["member.created", "member.updated"]},
    }
    return Scene(ids=ids, bodies=bodies)


# Calls whose path id is another object than the path's parameter name says (they would undo the scene).
_PATH_IDS = {
    ("POST", "/coupons/{code}/void"): {"code": "spare_code"},
    ("POST", "/community/questions/{question_id}/merge"): {"question_id": "other_question_id"},
    ("POST", "/community/posts/{post_id}/moderation"): {"post_id": "answer_id"},
    ("POST", "/community/members/{member_id}/suspension"): {"member_id": "dan"},
    ("POST", "/members/{member_id}/erase"): {"member_id": "dan"},
}
# Run last, in this order: each takes something away that earlier calls use.
_LAST = [
    ("POST", "/community/posts/{post_id}/moderation"),
    ("POST", "/community/questions/{question_id}/merge"),
    ("POST", "/community/members/{member_id}/suspension"),
    ("POST", "/members/{member_id}/erase"),
    ("DELETE", "/webhooks/{webhook_id}"),  # webhooks: the endpoint goes with its log
]


def _path(method: str, template: str, ids: dict[str, str]) -> str:
    names = _PATH_IDS.get((method, template), {})
    return re.sub(r"{(\w+)}", lambda m: ids[names.get(m.group(1), m.group(1))], template)


def _query(method: str, template: str) -> str:
    return {
        "/community/search": "?q=milk",
        "/community/suggestions": "?title=oat+milk",
        "/members/find": "?q=noa",
    }.get(template, "")


@pytest.mark.parametrize("scope", [None, "pos", "manage", "all"])
def test_every_operation_answers_each_scope_as_the_table_says(brand, make_api, scope):
    admin = make_api(brand, "all")
    scene = _scene(brand, admin)
    caller = make_api(brand, scope) if scope else ApiClient("")
    operations = sorted(
        set(_operations()), key=lambda op: (op in _LAST, _LAST.index(op) if op in _LAST else 0)
    )
    tried = 0
    wrong: list[tuple[Any, ...]] = []
    for number, (method, template) in enumerate(operations):
        allowed = scope in KEYS_ALLOWED[SCOPES[(method, template)]]
        path = _path(method, template, scene.ids) + _query(method, template)
        body = scene.bodies.get((method, template), {}) if method != "GET" else None
        before = rows_fingerprint() if method != "GET" and not allowed else None
        headers: dict[str, Any] = {"idem": f"table-{number}"} if method != "GET" else {}
        if template == "/openapi.json":
            response = caller.client.get("/api/v1/openapi.json")
            status = response.status_code
            answer_body: Any = None
        else:
            if scope is None:
                response = caller.client.generic(
                    method,
                    "/api/v1" + path,
                    data=b"{}" if body is None else json.dumps(body),
                    content_type="application/json",
                )
                status, answer_body = response.status_code, response.content[:300]
            else:
                answer = caller.call(method, path, body, **headers)
                status, answer_body = answer.status, answer.body
        where = (method, template, status, answer_body)
        if allowed:
            if status in (401, 403) or (scope == "all" and status not in (200, 201, 202, 204, 409)):
                wrong.append(("refused, the table allows it", *where))
        else:
            if status != (401 if scope is None else 403) or (
                scope is not None and answer_body["error"]["code"] != "insufficient_scope"
            ):
                wrong.append(("allowed, the table refuses it", *where))
            elif before is not None and changed_models(before, rows_fingerprint()):
                wrong.append(("refused but changed rows", *where, changed_models(before, rows_fingerprint())))
        tried += 1
    assert wrong == [], "\n".join(" ".join(str(part)[:120] for part in row) for row in wrong)
    assert tried == len(SCOPES)
