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
    # surveys
    ("GET", "/survey-settings"): MANAGE,
    ("PATCH", "/survey-settings"): MANAGE,
    ("GET", "/survey-alerts"): MANAGE,
    ("POST", "/survey-alerts/{alert_id}/resolve"): MANAGE,
    ("GET", "/surveys"): MANAGE,
    ("POST", "/surveys"): MANAGE,
    ("GET", "/surveys/{survey_id}"): ANY,
    ("POST", "/surveys/{survey_id}/questions"): MANAGE,
    ("POST", "/surveys/{survey_id}/questions/order"): MANAGE,
    ("POST", "/surveys/{survey_id}/publish"): MANAGE,
    ("POST", "/surveys/{survey_id}/close"): MANAGE,
    ("POST", "/surveys/{survey_id}/responses"): ANY,
    ("POST", "/surveys/{survey_id}/invitations"): MANAGE,
    ("GET", "/surveys/{survey_id}/results"): MANAGE,
    # ideas
    ("GET", "/ideas"): ANY,
    ("POST", "/ideas"): ANY,
    ("GET", "/ideas/{idea_id}"): ANY,
    ("POST", "/ideas/{idea_id}/support"): ANY,
    ("GET", "/ideas/{idea_id}/comments"): ANY,
    ("POST", "/ideas/{idea_id}/comments"): ANY,
    ("POST", "/ideas/{idea_id}/status"): MANAGE,
    ("GET", "/challenges"): ANY,
    ("POST", "/challenges"): MANAGE,
    ("POST", "/challenges/{challenge_id}/winners"): MANAGE,
    ("POST", "/beta-programs"): MANAGE,
    ("POST", "/beta-programs/{program_id}/applications"): ANY,
    ("POST", "/beta-programs/{program_id}/tasks/{task_id}/feedback"): ANY,
    # privacy
    ("GET", "/members/{member_id}/export"): MANAGE,
    # reviews
    ("POST", "/reviews"): ANY,
    ("GET", "/reviews/queue"): MANAGE,
    ("GET", "/reviews/{review_id}"): ANY,
    ("POST", "/reviews/{review_id}/helpful"): ANY,
    ("POST", "/reviews/{review_id}/reply"): MANAGE,
    ("POST", "/reviews/{review_id}/moderation"): MANAGE,
    ("GET", "/products/{sku}/reviews"): ANY,
    ("GET", "/products/{sku}/rating"): ANY,
    ("GET", "/gallery"): ANY,
    ("POST", "/gallery/{item_id}/likes"): ANY,
    # customers
    ("GET", "/duplicates"): MANAGE,
    ("POST", "/duplicates/{pair_id}/dismiss"): MANAGE,
    ("POST", "/members/merge"): MANAGE,
    ("POST", "/merges/{merge_id}/undo"): MANAGE,
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
    # listening: mentions taken in and listed
    ("POST", "/mentions"): MANAGE,
    ("GET", "/mentions"): MANAGE,
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
    # surveys: a published survey (answered by Dan, a detractor: an alert), a draft, one to close
    survey = ok(
        admin.post(
            "/surveys",
            {"title_en": "How was it?", "questions": [{"kind": "nps", "text_en": "Recommend us?"}]},
        )
    )
    ok(admin.post(f"/surveys/{survey['id']}/publish", idem="survey-publish"))
    nps_question = survey["questions"][0]["id"]
    ok(
        admin.post(
            f"/surveys/{survey['id']}/responses", {"member_id": dan["id"], "answers": {nps_question: 3}}
        )
    )
    draft = ok(
        admin.post("/surveys", {"title_en": "Draft", "questions": [{"kind": "csat", "text_en": "Happy?"}]})
    )
    other_draft = ok(admin.post("/surveys", {"title_en": "Another draft"}))
    closable = ok(
        admin.post("/surveys", {"title_en": "Old", "questions": [{"kind": "text", "text_en": "Any?"}]})
    )
    ok(admin.post(f"/surveys/{closable['id']}/publish", idem="survey-publish-old"))
    survey_alert = ok(admin.get("/survey-alerts"))[0]
    # ideas: Dan's idea, an open challenge, a beta program with a task that Noa tests
    idea = ok(
        admin.post("/ideas", {"member_id": dan["id"], "title": "Oat milk in every branch", "body": "Please"})
    )
    challenge = ok(
        admin.post(
            "/challenges",
            {
                "title": "A new pastry",
                "question": "What should we bake next?",
                "starts_at": "2020-01-01T00:00:00Z",
                "ends_at": "2099-01-01T00:00:00Z",
                "prize_points": 50,
            },
        )
    )
    program = ok(
        admin.post(
            "/beta-programs",
            {
                "title": "Travel planner",
                "places": 5,
                "agreement": "I keep it to myself.",
                "tasks": [{"title": "Plan a trip", "points": 10}],
            },
        )
    )
    ok(
        admin.post(
            f"/beta-programs/{program['id']}/applications",
            {"member_id": noa["id"], "agreement_accepted": True},
        )
    )
    # reviews: Dan reviewed the trench coat and posted a photo story the brand may feature
    review = ok(
        admin.post(
            "/reviews",
            {"member_id": dan["id"], "sku": "TRENCH-1", "rating": 4, "title": "Warm", "body": "A good coat."},
        )
    )
    from kesher.core.audit import SYSTEM
    from kesher.members.models import Member
    from kesher.reviews.services import gallery_moderate, gallery_post

    story = gallery_post(
        member=Member.objects.get(pk=dan["id"]), sku="TRENCH-1", story="In the rain", grant_rights=True
    )
    gallery_moderate(item=story, actor=SYSTEM, action="approve")
    # customers: two records of one person (a pair to dismiss, a pair to merge) and a merge to undo
    from kesher.core.audit import SYSTEM
    from kesher.customers.models import DuplicatePair
    from kesher.customers.services import members_merge

    twins = [ok(admin.post("/members", {"external_id": f"twin{n}", "first_name": "Twin"})) for n in range(4)]
    pair = DuplicatePair.objects.create(
        brand=brand,
        member_a_id=min(twins[0]["id"], twins[1]["id"]),
        member_b_id=max(twins[0]["id"], twins[1]["id"]),
        probability=0.99,
    )
    merge = members_merge(brand=brand, source_id=twins[2]["id"], target_id=twins[3]["id"], actor=SYSTEM)
    # webhooks: an endpoint with one delivery in its log
    from kesher.core.events import Event
    from kesher.webhooks.models import Delivery
    from kesher.webhooks.services import fan_out

    webhook = ok(admin.post("/webhooks", {"url": "http://127.0.0.1:9/hooks", "events": ["member.created"]}))
    fan_out(Event(brand_id=brand.pk, type="member.created", data={"member_id": noa["id"]}), kick=False)
    ids = {
        "survey_id": survey["id"],
        "draft_survey_id": draft["id"],
        "other_draft_survey_id": other_draft["id"],
        "closable_survey_id": closable["id"],
        "alert_id": survey_alert["id"],
        "sku": "TRENCH-1",
        "review_id": review["id"],
        "item_id": str(story.pk),
        "pair_id": str(pair.pk),
        "merge_id": str(merge.pk),
        "webhook_id": webhook["id"],
        "delivery_id": str(
            Delivery.objects.filter(endpoint_id=webhook["id"]).order_by("created_at", "pk")[0].pk
        ),
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
        # ideas
        "idea_id": idea["id"],
        "challenge_id": challenge["id"],
        "program_id": program["id"],
        "task_id": program["tasks"][0]["id"],
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
        # surveys
        ("PATCH", "/survey-settings"): {"contact_interval_days": 10},
        ("POST", "/survey-alerts/{alert_id}/resolve"): {"note": "Called back"},
        ("POST", "/surveys"): {"title_en": "Table", "questions": [{"kind": "nps", "text_en": "Recommend?"}]},
        ("POST", "/surveys/{survey_id}/questions"): {"kind": "text", "text_en": "Why?"},
        ("POST", "/surveys/{survey_id}/questions/order"): {"order": [draft["questions"][0]["id"]]},
        ("POST", "/surveys/{survey_id}/responses"): {"member_id": noa["id"], "answers": {nps_question: 9}},
        ("POST", "/surveys/{survey_id}/invitations"): {"member_id": friend["id"]},
        # ideas
        ("POST", "/ideas"): {"member_id": noa["id"], "title": "Cardamom in the coffee", "body": "Please"},
        ("POST", "/ideas/{idea_id}/support"): {"member_id": noa["id"]},
        ("POST", "/ideas/{idea_id}/comments"): {"member_id": noa["id"], "body": "Yes please"},
        ("POST", "/ideas/{idea_id}/status"): {"status": "planned"},
        ("POST", "/challenges"): {
            "title": "A new sandwich",
            "question": "Which one?",
            "starts_at": "2020-01-01T00:00:00Z",
            "ends_at": "2099-01-01T00:00:00Z",
        },
        ("POST", "/challenges/{challenge_id}/winners"): {"idea_ids": [idea["id"]]},  # still open: 409
        ("POST", "/beta-programs"): {"title": "Loyalty app", "places": 3, "agreement": "Keep it secret."},
        ("POST", "/beta-programs/{program_id}/applications"): {
            "member_id": dan["id"],
            "agreement_accepted": True,
        },
        ("POST", "/beta-programs/{program_id}/tasks/{task_id}/feedback"): {
            "member_id": noa["id"],
            "rating": 4,
        },
        # reviews
        ("POST", "/reviews"): {
            "member_id": noa["id"],
            "sku": "SCARF-2",
            "rating": 2,
            "title": "Itchy",
            "body": "Too scratchy for me.",
        },
        ("POST", "/reviews/{review_id}/helpful"): {"member_id": noa["id"]},
        ("POST", "/reviews/{review_id}/reply"): {"body": "Thank you, Dan!"},
        ("POST", "/reviews/{review_id}/moderation"): {"action": "approve"},
        ("POST", "/gallery/{item_id}/likes"): {"member_id": noa["id"]},
        # customers
        ("POST", "/members/merge"): {"source_id": twins[1]["id"], "target_id": twins[0]["id"]},
        # webhooks
        ("POST", "/webhooks"): {"url": "http://127.0.0.1:9/other", "events": ["points.changed"]},
        ("PATCH", "/webhooks/{webhook_id}"): {"events": ["member.created", "member.updated"]},
        # listening
        ("POST", "/mentions"): {
            "source": "twitter",
            "external_id": "s1",
            "text": "Great coffee",
            "posted_at": "2026-12-01T09:00:00Z",
        },
    }
    return Scene(ids=ids, bodies=bodies)


# Calls whose path id is another object than the path's parameter name says (they would undo the scene).
_PATH_IDS = {
    ("POST", "/coupons/{code}/void"): {"code": "spare_code"},
    ("POST", "/community/questions/{question_id}/merge"): {"question_id": "other_question_id"},
    ("POST", "/community/posts/{post_id}/moderation"): {"post_id": "answer_id"},
    ("POST", "/community/members/{member_id}/suspension"): {"member_id": "dan"},
    ("POST", "/members/{member_id}/erase"): {"member_id": "dan"},
    # surveys: questions go to drafts (one is then published); another survey is closed
    ("POST", "/surveys/{survey_id}/questions"): {"survey_id": "other_draft_survey_id"},
    ("POST", "/surveys/{survey_id}/questions/order"): {"survey_id": "draft_survey_id"},
    ("POST", "/surveys/{survey_id}/publish"): {"survey_id": "draft_survey_id"},
    ("POST", "/surveys/{survey_id}/close"): {"survey_id": "closable_survey_id"},
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
