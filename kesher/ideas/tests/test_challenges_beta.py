"""Challenges (closed ones take no ideas; the jury's winners get the prize through the ledger, audited)
and beta programs (eligibility, the agreement kept, selection, feedback with points once per task)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from kesher.activity.models import Activity
from kesher.core.audit import SYSTEM
from kesher.core.errors import Conflict
from kesher.core.models import AuditEntry
from kesher.core.tests.fingerprint import changed_models, rows_fingerprint
from kesher.ideas.models import BetaApplication, Challenge, ChallengeWinner
from kesher.ideas.services import (
    beta_application_decide,
    beta_applications_select,
    beta_apply,
    beta_feedback_submit,
    beta_program_create,
    challenge_create,
)
from kesher.loyalty.models import Coupon, PointsAccount, Tier
from kesher.loyalty.services import ledger_verify, reward_create

pytestmark = pytest.mark.django_db


def _challenge(brand, **kw):
    now = timezone.now()
    values = {
        "title": "A new pastry",
        "question": "What should we bake next?",
        "starts_at": now - timedelta(days=1),
        "ends_at": now + timedelta(days=7),
        "prize_points": 250,
        "actor": SYSTEM,
    }
    return challenge_create(brand=brand, **{**values, **kw})


def _balance(member) -> int:
    return PointsAccount.objects.get(member=member).balance


def test_ideas_go_to_an_open_challenge_and_a_closed_one_refuses_them(api, brand, make_member):
    challenge = _challenge(brand)
    noa = make_member("Noa")
    made = api.post(
        "/ideas",
        {"member_id": str(noa.pk), "title": "Halva croissant", "body": "!", "challenge": str(challenge.pk)},
    )
    assert made.status == 201 and made.body["challenge_id"] == str(challenge.pk)
    Challenge.objects.filter(pk=challenge.pk).update(ends_at=timezone.now() - timedelta(minutes=1))
    before = rows_fingerprint()
    late = api.post(
        "/ideas",
        {"member_id": str(noa.pk), "title": "Late croissant", "body": "!", "challenge": str(challenge.pk)},
    )
    assert (late.status, late.body["error"]["code"]) == (409, "challenge_closed")
    assert changed_models(before, rows_fingerprint()) == []


def test_the_jury_picks_winners_who_get_points_and_the_reward(api, brand, make_member):
    reward = reward_create(brand=brand, name="Free cake", cost_points=80, kind="free_item")
    challenge = _challenge(brand, prize_reward=reward)
    noa, dan = make_member("Noa"), make_member("Dan")
    win = api.post(
        "/ideas",
        {"member_id": str(noa.pk), "title": "Halva croissant", "body": "!", "challenge": str(challenge.pk)},
    )
    api.post(
        "/ideas",
        {"member_id": str(dan.pk), "title": "Plain croissant", "body": "!", "challenge": str(challenge.pk)},
    )
    before = rows_fingerprint()
    early = api.post(f"/challenges/{challenge.pk}/winners", {"idea_ids": [win.body["id"]]})
    assert (early.status, early.body["error"]["code"]) == (409, "challenge_open")
    assert changed_models(before, rows_fingerprint()) == []
    Challenge.objects.filter(pk=challenge.pk).update(ends_at=timezone.now() - timedelta(minutes=1))
    picked = api.post(f"/challenges/{challenge.pk}/winners", {"idea_ids": [win.body["id"]]})
    assert picked.status == 200, picked.body
    coupon = Coupon.objects.get(member=noa, reward=reward)
    assert picked.body == [
        {"idea_id": win.body["id"], "member_id": str(noa.pk), "points": 250, "coupon_code": coupon.code}
    ]
    assert (_balance(noa), _balance(dan)) == (250, 0)
    assert AuditEntry.objects.filter(action="ideas.challenge_judged").count() == 1
    assert AuditEntry.objects.filter(action="points.adjust", target_id=str(noa.pk)).count() == 1
    assert ledger_verify() == []
    before = rows_fingerprint()
    twice = api.post(f"/challenges/{challenge.pk}/winners", {"idea_ids": [win.body["id"]]})
    assert (twice.status, twice.body["error"]["code"]) == (409, "challenge_judged")
    assert changed_models(before, rows_fingerprint()) == []
    assert ChallengeWinner.objects.count() == 1


def test_a_tier_program_takes_only_its_tiers_and_keeps_the_agreement(api, brand, make_member):
    gold = Tier.objects.create(brand=brand, name="Gold", threshold=500)
    program = beta_program_create(
        brand=brand,
        title="Travel planner",
        places=2,
        agreement="I keep it secret.",
        tiers=["Gold"],
        actor=SYSTEM,
    )
    noa, dan = make_member("Noa"), make_member("Dan")
    PointsAccount.objects.filter(member=noa).update(tier=gold)
    before = rows_fingerprint()
    refused = api.post(
        f"/beta-programs/{program.pk}/applications", {"member_id": str(dan.pk), "agreement_accepted": True}
    )
    assert (refused.status, refused.body["error"]["code"]) == (403, "not_eligible")
    unsigned = api.post(
        f"/beta-programs/{program.pk}/applications", {"member_id": str(noa.pk), "agreement_accepted": False}
    )
    assert unsigned.status == 422
    assert changed_models(before, rows_fingerprint()) == []
    applied = api.post(
        f"/beta-programs/{program.pk}/applications", {"member_id": str(noa.pk), "agreement_accepted": True}
    )
    assert applied.status == 201 and applied.body["status"] == "accepted"
    application = BetaApplication.objects.get(pk=applied.body["id"])
    assert application.agreement_text == "I keep it secret."
    assert application.agreement_accepted_at is not None
    assert Activity.objects.get(type="beta_joined").attributes == {"program_id": str(program.pk)}


def test_first_come_fills_the_places_and_the_rest_wait(brand, make_member):
    program = beta_program_create(brand=brand, title="Planner", places=1, agreement="OK", actor=SYSTEM)
    first = beta_apply(program=program, member=make_member("A"), agreement_accepted=True)
    second = beta_apply(program=program, member=make_member("B"), agreement_accepted=True)
    assert (first.status, second.status) == ("accepted", "applied")
    before = rows_fingerprint()
    with pytest.raises(Conflict) as refused:
        beta_application_decide(application=second, accept=True, actor=SYSTEM)
    assert refused.value.code == "program_full"
    assert changed_models(before, rows_fingerprint()) == []


def test_by_tier_selection_takes_the_highest_tier_first(brand, make_member):
    silver = Tier.objects.create(brand=brand, name="Silver", threshold=100)
    gold = Tier.objects.create(brand=brand, name="Gold", threshold=500)
    program = beta_program_create(
        brand=brand, title="Planner", places=1, agreement="OK", selection="by_tier", actor=SYSTEM
    )
    early, late = make_member("Early"), make_member("Late")
    PointsAccount.objects.filter(member=early).update(tier=silver)
    PointsAccount.objects.filter(member=late).update(tier=gold)
    beta_apply(program=program, member=early, agreement_accepted=True)
    beta_apply(program=program, member=late, agreement_accepted=True)
    assert beta_applications_select(program=program, actor=SYSTEM) == 1
    assert BetaApplication.objects.get(member=late).status == "accepted"
    assert BetaApplication.objects.get(member=early).status == "applied"
    assert AuditEntry.objects.filter(action="ideas.beta_selected").count() == 1


def test_testers_get_a_tasks_points_once_and_others_may_not_send_feedback(api, brand, make_member):
    program = beta_program_create(
        brand=brand,
        title="Planner",
        places=5,
        agreement="OK",
        tasks=[{"title": "Plan a trip", "points": 40}],
        actor=SYSTEM,
    )
    task = program.tasks.get()
    tester, outsider = make_member("Tester"), make_member("Outsider")
    beta_apply(program=program, member=tester, agreement_accepted=True)
    url = f"/beta-programs/{program.pk}/tasks/{task.pk}/feedback"
    before = rows_fingerprint()
    refused = api.post(url, {"member_id": str(outsider.pk), "rating": 4})
    assert (refused.status, refused.body["error"]["code"]) == (403, "not_a_tester")
    assert changed_models(before, rows_fingerprint()) == []
    sent = api.post(url, {"member_id": str(tester.pk), "rating": 5, "text": "Lovely"})
    assert sent.status == 201 and sent.body["points"] == 40
    again = api.post(url, {"member_id": str(tester.pk), "rating": 1, "text": "Again"})
    assert (again.status, again.body["error"]["code"]) == (409, "task_done")
    assert _balance(tester) == 40
    assert Activity.objects.get(type="beta_task_completed").attributes == {
        "program_id": str(program.pk),
        "task_id": str(task.pk),
    }
    with pytest.raises(Conflict):
        beta_feedback_submit(task=task, member=tester, rating=3)
    assert _balance(tester) == 40 and ledger_verify() == []
