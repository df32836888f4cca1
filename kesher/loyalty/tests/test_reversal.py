"""Taking back what an activity earned: lot by lot from its own lots, then from the balance, once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from kesher.activity.models import Activity
from kesher.activity.services import activity_record
from kesher.brands.models import Brand
from kesher.core.audit import SYSTEM, Actor
from kesher.core.errors import ValidationFailed
from kesher.core.models import AuditEntry
from kesher.loyalty import services
from kesher.loyalty.models import LedgerEntry, LotConsumption, LoyaltyProgram, PointsAccount, PointsLot
from kesher.loyalty.services import ledger_verify, points_reverse_for_activity
from kesher.members.models import Member
from kesher.members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db
REASON = "The review was removed"


@pytest.fixture
def visits(brand: Brand) -> Brand:
    """A visit earns 20 points; tests add a bonus rule where one activity needs two lots."""
    services.earning_rule_create(brand=brand, name="Visit", activity_type="visit", effect="fixed", points=20)
    return brand


def visit(member: Member, when: Any = None) -> Activity:
    activity, _ = activity_record(
        brand=member.brand, member=member, type="visit", occurred_at=when, attributes={"store": "דיזנגוף"}
    )
    return activity


def buy(member: Member, amount: str = "100.00", when: Any = None) -> Activity:
    activity, _ = activity_record(
        brand=member.brand, member=member, type="purchase", occurred_at=when, attributes={"amount": amount}
    )
    return activity


def figures(member: Member) -> tuple[int, int, int, int]:
    account = PointsAccount.objects.get(member=member)
    return account.balance, account.pending, account.lifetime_earned, account.lifetime_redeemed


def lots(activity: Activity) -> list[tuple[int, int, str]]:
    return list(
        PointsLot.objects.filter(activity=activity).order_by("id").values_list("points", "remaining", "state")
    )


def ledger(member: Member) -> list[tuple[str, int, int]]:
    return list(
        LedgerEntry.objects.filter(account__member=member)
        .order_by("created_at", "id")
        .values_list("kind", "points", "balance_after")
    )


def taken_from(entry: LedgerEntry) -> list[tuple[Any, int]]:
    return sorted(LotConsumption.objects.filter(entry=entry).values_list("lot__activity_id", "points"))


def spend(member: Member, points: int) -> None:
    reward = services.reward_create(
        brand=member.brand, name=f"gift {points}", cost_points=points, kind="gift"
    )
    services.redemption_create(member=member, reward=reward)


def test_a_full_reversal_takes_the_activitys_own_lot_and_lowers_lifetime_earned(visits: Brand) -> None:
    member = MemberFactory(brand=visits)
    earned = visit(member)
    buy(member, "100.00")
    assert figures(member) == (120, 0, 120, 0)

    entry = points_reverse_for_activity(activity=earned, reason=REASON)
    assert entry is not None
    assert (entry.kind, entry.points, entry.balance_after, entry.activity_id, entry.description) == (
        "reverse",
        -20,
        100,
        earned.pk,
        REASON,
    )
    assert figures(member) == (100, 0, 100, 0)
    assert lots(earned) == [(20, 0, "reversed")]
    assert taken_from(entry) == [(earned.pk, 20)]
    assert ledger(member) == [("earn", 20, 20), ("earn", 100, 120), ("reverse", -20, 100)]
    # The activity's record of what it earned stays; tiers by points count the reversal.
    earned.refresh_from_db()
    assert earned.points_awarded == 20
    assert services.tier_qualifying_value(account=PointsAccount.objects.get(member=member)) == 100
    assert ledger_verify() == []


def test_earn_reverse_earn_leaves_lifetime_earned_at_what_stands(visits: Brand) -> None:
    member = MemberFactory(brand=visits)
    first = visit(member, timezone.now() - timedelta(days=2))
    points_reverse_for_activity(activity=first, reason=REASON)
    visit(member, timezone.now() - timedelta(days=1))
    assert figures(member) == (20, 0, 20, 0)
    assert ledger(member) == [("earn", 20, 20), ("reverse", -20, 0), ("earn", 20, 20)]
    assert ledger_verify() == []


def test_a_partial_reversal_goes_lot_by_lot_and_the_rest_can_follow_for_another_reason(
    visits: Brand,
) -> None:
    services.earning_rule_create(
        brand=visits, name="Visit bonus", activity_type="visit", effect="fixed", points=5, priority=200
    )
    member = MemberFactory(brand=visits)
    earned = visit(member)
    assert lots(earned) == [(20, 20, "available"), (5, 5, "available")]

    entry = points_reverse_for_activity(activity=earned, reason=REASON, points=22)
    assert entry is not None and entry.points == -22
    assert lots(earned) == [(20, 0, "reversed"), (5, 3, "available")]
    assert figures(member) == (3, 0, 3, 0)
    assert taken_from(entry) == [(earned.pk, 2), (earned.pk, 20)]

    # Asking for more than is left takes only what is left; then nothing is left to take.
    rest = points_reverse_for_activity(activity=earned, reason="Second thoughts", points=50)
    assert rest is not None and rest.points == -3
    assert lots(earned) == [(20, 0, "reversed"), (5, 0, "reversed")]
    assert points_reverse_for_activity(activity=earned, reason="Third thoughts") is None
    assert figures(member) == (0, 0, 0, 0)
    assert [kind for kind, _, _ in ledger(member)] == ["earn", "earn", "reverse", "reverse"]
    assert ledger_verify() == []


def test_pending_points_are_taken_from_pending(brand: Brand) -> None:
    LoyaltyProgram.objects.filter(brand=brand).update(pending_days=14)
    member = MemberFactory(brand=brand)
    purchase = buy(member, "100.00")
    assert figures(member) == (0, 100, 100, 0)

    points_reverse_for_activity(activity=purchase, reason=REASON, points=30)
    assert figures(member) == (0, 70, 70, 0)
    assert lots(purchase) == [(100, 70, "pending")]
    assert ledger_verify() == []
    # The rest becomes spendable when the window ends, and nothing more.
    assert services.lots_release_due(now=timezone.now() + timedelta(days=15)) == 70
    assert figures(member) == (70, 0, 70, 0)

    other = MemberFactory(brand=brand)
    whole = buy(other, "40.00")
    points_reverse_for_activity(activity=whole, reason=REASON)
    assert figures(other) == (0, 0, 0, 0)
    assert lots(whole) == [(40, 0, "reversed")]
    assert services.lots_release_due(now=timezone.now() + timedelta(days=15)) == 0
    assert figures(other) == (0, 0, 0, 0)
    assert ledger_verify() == []


def test_points_already_spent_come_from_the_soonest_expiring_other_lots(visits: Brand) -> None:
    LoyaltyProgram.objects.filter(brand=visits).update(expiry="days", expiry_value=365)
    member = MemberFactory(brand=visits)
    now = timezone.now()
    earned = visit(member, now - timedelta(days=3))
    older = buy(member, "100.00", now - timedelta(days=2))
    newer = buy(member, "100.00", now - timedelta(days=1))
    spend(member, 30)  # the visit's 20 (soonest to expire), then 10 of the older purchase
    assert (lots(earned), lots(older)) == ([(20, 0, "available")], [(100, 90, "available")])
    assert figures(member) == (190, 0, 220, 30)

    entry = points_reverse_for_activity(activity=earned, reason=REASON)
    assert entry is not None and entry.points == -20
    assert taken_from(entry) == [(older.pk, 20)]
    assert (lots(earned), lots(older), lots(newer)) == (
        [(20, 0, "available")],
        [(100, 70, "available")],
        [(100, 100, "available")],
    )
    assert figures(member) == (170, 0, 200, 30)
    assert ledger_verify() == []


def test_spent_points_stop_at_zero_unless_the_program_allows_debt(visits: Brand) -> None:
    member = MemberFactory(brand=visits)
    earned = visit(member)
    spend(member, 15)
    buy(member, "3.00")
    assert figures(member) == (8, 0, 23, 15)

    entry = points_reverse_for_activity(activity=earned, reason=REASON)
    assert entry is not None and entry.points == -8  # 5 left of its own lot, 3 from the purchase
    assert figures(member) == (0, 0, 15, 15)
    assert ledger_verify() == []
    # The 12 that could not be taken are not taken later either: once per activity and reason.
    buy(member, "50.00")
    assert points_reverse_for_activity(activity=earned, reason=REASON) is None
    assert figures(member) == (50, 0, 65, 15)

    services.program_update(brand=visits, changes={"allow_debt": True}, actor=SYSTEM)
    debtor = MemberFactory(brand=visits)
    owed = visit(debtor)
    spend(debtor, 15)
    entry = points_reverse_for_activity(activity=owed, reason=REASON)
    assert entry is not None and (entry.points, entry.balance_after) == (-20, -15)
    assert figures(debtor) == (-15, 0, 0, 15)
    assert lots(owed) == [(20, 0, "reversed")]
    assert ledger_verify() == []


def test_everything_spent_without_debt_records_a_reversal_of_nothing(visits: Brand) -> None:
    member = MemberFactory(brand=visits)
    earned = visit(member)
    spend(member, 20)
    entry = points_reverse_for_activity(activity=earned, reason=REASON)
    assert entry is not None and (entry.points, entry.balance_after) == (0, 0)
    assert figures(member) == (0, 0, 20, 20)
    assert points_reverse_for_activity(activity=earned, reason=REASON) is None
    assert ledger_verify() == []


def test_twice_is_once(visits: Brand) -> None:
    member = MemberFactory(brand=visits)
    earned = visit(member)
    buy(member, "100.00")
    first = points_reverse_for_activity(activity=earned, reason=REASON, points=5)
    assert first is not None and first.points == -5
    assert points_reverse_for_activity(activity=earned, reason=REASON, points=5) is None
    assert points_reverse_for_activity(activity=earned, reason=REASON) is None
    assert figures(member) == (115, 0, 115, 0)
    assert lots(earned) == [(20, 15, "available")]
    assert LedgerEntry.objects.filter(account__member=member, kind="reverse").count() == 1
    assert ledger_verify() == []


def test_staff_reversals_are_audited_and_the_systems_are_not(visits: Brand) -> None:
    member = MemberFactory(brand=visits)
    by_system, by_staff = visit(member), visit(member)
    points_reverse_for_activity(activity=by_system, reason=REASON)
    assert not AuditEntry.objects.filter(action="points.reverse").exists()

    user = get_user_model().objects.create(username="moderator")
    points_reverse_for_activity(activity=by_staff, reason=REASON, actor=Actor(user=user))
    audit = AuditEntry.objects.get(action="points.reverse")
    assert (audit.actor_user_id, audit.target_type, audit.target_id) == (user.pk, "member", str(member.pk))
    assert audit.data == {"activity": str(by_staff.pk), "points": -20, "reason": REASON}


def test_refusals_change_nothing(visits: Brand) -> None:
    member = MemberFactory(brand=visits)
    earned = visit(member)
    for kwargs in ({"reason": "  "}, {"reason": REASON, "points": 0}, {"reason": REASON, "points": -3}):
        with pytest.raises(ValidationFailed):
            points_reverse_for_activity(activity=earned, **kwargs)
    assert figures(member) == (20, 0, 20, 0)
    assert lots(earned) == [(20, 20, "available")]
    # An activity that earned nothing (no rule for it) has nothing to take back.
    nothing, _ = activity_record(brand=visits, member=member, type="signup", attributes={})
    assert points_reverse_for_activity(activity=nothing, reason=REASON) is None
    assert ledger_verify() == []


def test_a_purchase_reversed_then_returned_is_taken_back_once(brand: Brand) -> None:
    member = MemberFactory(brand=brand)
    purchase = buy(member, "100.00")
    buy(member, "50.00")
    points_reverse_for_activity(activity=purchase, reason=REASON, points=40)
    returned, _ = activity_record(
        brand=brand, member=member, type="return", attributes={"purchase_id": str(purchase.pk)}
    )
    assert returned.points_awarded == -60
    assert points_reverse_for_activity(activity=purchase, reason="Fraud") is None
    assert figures(member) == (50, 0, 50, 0)
    assert lots(purchase) == [(100, 0, "reversed")]
    assert ledger_verify() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_reversals_of_one_activity_take_its_points_once() -> None:
    import threading

    from django.db import connection

    from kesher.brands.services import brand_create

    brand = brand_create(slug="race", name="Race")
    member = MemberFactory(brand=brand)
    purchase = buy(member, "100.00")
    buy(member, "50.00")
    barrier = threading.Barrier(8)
    results: list[int | None] = []

    def reverse() -> None:
        try:
            barrier.wait()
            entry = points_reverse_for_activity(activity=purchase, reason=REASON)
            results.append(None if entry is None else entry.points)
        finally:
            connection.close()

    threads = [threading.Thread(target=reverse) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results, key=str) == [-100, None, None, None, None, None, None, None]
    assert figures(member) == (50, 0, 50, 0)
    assert LedgerEntry.objects.filter(account__member=member, kind="reverse").count() == 1
    assert ledger_verify() == []
