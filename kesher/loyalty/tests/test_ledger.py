"""The ledger's promises: pending points, expiry, returns, voids, transfers, tiers, referrals and rules."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from kesher.activity.models import Activity
from kesher.activity.services import activity_record
from kesher.core.audit import SYSTEM, Actor
from kesher.core.errors import Conflict, InsufficientPoints, PermissionDenied, ValidationFailed
from kesher.loyalty import services
from kesher.loyalty.models import (
    Coupon,
    EarningRule,
    LedgerEntry,
    LoyaltyProgram,
    PointsAccount,
    PointsLot,
    Referral,
)
from kesher.loyalty.services import ledger_verify
from kesher.members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db
TZ = zoneinfo.ZoneInfo("Asia/Jerusalem")


def buy(member, amount="100.00", when=None, **attributes):
    activity, _ = activity_record(
        brand=member.brand,
        member=member,
        type="purchase",
        occurred_at=when,
        attributes={"amount": amount, **attributes},
    )
    return activity


def account(member):
    return PointsAccount.objects.get(member=member)


def program(brand, **settings):
    LoyaltyProgram.objects.filter(brand=brand).update(**settings)


# --- pending points -------------------------------------------------------------------------------


def test_purchase_points_wait_in_pending_for_the_return_window(brand):
    program(brand, pending_days=14)
    member = MemberFactory(brand=brand)
    purchase = buy(member, "100.00")
    assert (purchase.points_awarded, purchase.balance_after) == (100, 0)
    assert (account(member).balance, account(member).pending) == (0, 100)
    assert services.lots_release_due(now=timezone.now() + timedelta(days=13)) == 0
    assert services.lots_release_due(now=timezone.now() + timedelta(days=15)) == 100
    assert services.lots_release_due(now=timezone.now() + timedelta(days=16)) == 0  # safe to run twice
    assert (account(member).balance, account(member).pending) == (100, 0)
    assert LedgerEntry.objects.filter(account_id=member.pk, kind="release").count() == 1
    assert ledger_verify() == []


def test_a_return_inside_the_window_takes_the_pending_points(brand):
    program(brand, pending_days=14)
    member = MemberFactory(brand=brand)
    purchase = buy(member, "100.00")
    returned, _ = activity_record(
        brand=brand, member=member, type="return", attributes={"purchase_id": str(purchase.pk)}
    )
    assert returned.points_awarded == -100
    assert (account(member).balance, account(member).pending, account(member).lifetime_earned) == (0, 0, 0)
    assert ledger_verify() == []


# --- expiry ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "value", "earned", "expires"),
    [
        ("never", 0, datetime(2026, 3, 10, 12, tzinfo=TZ), None),
        ("days", 30, datetime(2026, 3, 10, 12, tzinfo=TZ), datetime(2026, 4, 9, 12, tzinfo=TZ)),
        ("end_of_month", 1, datetime(2026, 1, 31, 12, tzinfo=TZ), datetime(2026, 3, 1, tzinfo=TZ)),
        ("end_of_month", 12, datetime(2026, 3, 10, 12, tzinfo=TZ), datetime(2027, 4, 1, tzinfo=TZ)),
        ("end_of_year", 0, datetime(2026, 3, 10, 12, tzinfo=TZ), datetime(2027, 1, 1, tzinfo=TZ)),
        ("end_of_year", 1, datetime(2026, 12, 31, 23, tzinfo=TZ), datetime(2028, 1, 1, tzinfo=TZ)),
    ],
)
def test_expiry_policies(brand, policy, value, earned, expires):
    settings = LoyaltyProgram(brand=brand, expiry=policy, expiry_value=value)
    assert services.lot_expiry(program=settings, earned_at=earned, time_zone="Asia/Jerusalem") == expires


def test_expired_lots_leave_the_balance_lot_by_lot_and_only_once(brand):
    program(brand, expiry="days", expiry_value=30)
    member = MemberFactory(brand=brand)
    buy(member, "50.00", when=timezone.now() - timedelta(days=40))
    buy(member, "20.00", when=timezone.now() - timedelta(days=5))
    reward = services.reward_create(brand=brand, name="x", cost_points=30, kind="gift")
    services.redemption_create(member=member, reward=reward)  # takes 30 of the old lot first
    assert services.lots_expire_due() == 20
    assert services.lots_expire_due() == 0
    assert account(member).balance == 20
    expiry = LedgerEntry.objects.get(account_id=member.pk, kind="expire")
    assert expiry.points == -20 and expiry.consumptions.count() == 1
    assert ledger_verify() == []


def test_members_are_warned_once_before_points_expire(brand):
    program(brand, expiry="days", expiry_value=40, expiry_warning_days=30)
    member = MemberFactory(brand=brand)
    buy(member, "80.00", when=timezone.now() - timedelta(days=20))
    assert services.points_expiry_warn() == 1
    assert services.points_expiry_warn() == 0
    warning = Activity.objects.get(member=member, type="points_expiring")
    assert warning.attributes["points"] == 80


# --- returns --------------------------------------------------------------------------------------


def test_partial_returns_take_back_points_in_proportion_and_never_more(brand):
    member = MemberFactory(brand=brand)
    purchase = buy(member, "200.00")
    first, _ = activity_record(
        brand=brand,
        member=member,
        type="return",
        attributes={"purchase_id": str(purchase.pk), "amount": "50.00"},
    )
    assert first.points_awarded == -50
    second, _ = activity_record(
        brand=brand, member=member, type="return", attributes={"purchase_id": str(purchase.pk)}
    )  # the rest
    assert second.points_awarded == -150
    assert account(member).balance == 0
    with pytest.raises(ValidationFailed) as refused:
        activity_record(
            brand=brand,
            member=member,
            type="return",
            attributes={"purchase_id": str(purchase.pk), "amount": "1.00"},
        )
    assert refused.value.field == "attributes.amount"
    assert Activity.objects.filter(member=member, type="return").count() == 2
    assert ledger_verify() == []


def test_a_return_of_spent_points_stops_at_zero_unless_the_brand_allows_debt(brand):
    member = MemberFactory(brand=brand)
    purchase = buy(member, "100.00")
    reward = services.reward_create(brand=brand, name="x", cost_points=80, kind="gift")
    services.redemption_create(member=member, reward=reward)
    returned, _ = activity_record(
        brand=brand, member=member, type="return", attributes={"purchase_id": str(purchase.pk)}
    )
    assert returned.points_awarded == -20 and account(member).balance == 0
    assert ledger_verify() == []

    services.program_update(brand=brand, changes={"allow_debt": True}, actor=SYSTEM)
    debtor = MemberFactory(brand=brand)
    purchase = buy(debtor, "100.00")
    services.redemption_create(member=debtor, reward=reward)
    activity_record(brand=brand, member=debtor, type="return", attributes={"purchase_id": str(purchase.pk)})
    assert account(debtor).balance == -80
    assert ledger_verify() == []


def test_a_return_must_name_a_purchase_of_the_same_member(brand):
    member, other = MemberFactory(brand=brand), MemberFactory(brand=brand)
    purchase = buy(other)
    with pytest.raises(ValidationFailed) as refused:
        activity_record(
            brand=brand, member=member, type="return", attributes={"purchase_id": str(purchase.pk)}
        )
    assert refused.value.field == "attributes.purchase_id"
    assert account(other).balance == 100


# --- coupons --------------------------------------------------------------------------------------


def test_voiding_an_unused_coupon_returns_its_points_and_stock(brand):
    member = MemberFactory(brand=brand)
    buy(member, "100.00")
    reward = services.reward_create(brand=brand, name="x", cost_points=60, kind="gift", stock=1)
    coupon = services.redemption_create(member=member, reward=reward)
    services.coupon_void(brand=brand, code=coupon.code, reason="wrong reward", actor=SYSTEM)
    assert account(member).balance == 100
    assert (account(member).lifetime_earned, account(member).lifetime_redeemed) == (100, 0)
    reward.refresh_from_db()
    assert reward.stock == 1
    with pytest.raises(Conflict):
        services.coupon_void(brand=brand, code=coupon.code, reason="again", actor=SYSTEM)
    with pytest.raises(Conflict):
        services.coupon_redeem(brand=brand, code=coupon.code)
    assert ledger_verify() == []


def test_unused_coupons_expire_and_refund_when_the_program_says_so(brand):
    program(brand, coupon_expiry_refund=True)
    member = MemberFactory(brand=brand)
    buy(member, "100.00")
    reward = services.reward_create(brand=brand, name="x", cost_points=60, kind="gift", coupon_valid_days=1)
    coupon = services.redemption_create(member=member, reward=reward)
    later = timezone.now() + timedelta(days=2)
    assert services.coupons_expire_due(now=later) == 1
    assert services.coupons_expire_due(now=later) == 0
    assert Coupon.objects.get(pk=coupon.pk).status == "expired"
    assert account(member).balance == 100
    assert ledger_verify() == []


# --- transfers and surprises ------------------------------------------------------------------------


def test_transfers_need_the_brands_permission_and_keep_expiry_dates(brand):
    sender, receiver = MemberFactory(brand=brand), MemberFactory(brand=brand)
    buy(sender, "100.00")
    with pytest.raises(PermissionDenied):
        services.points_transfer(sender=sender, receiver=receiver, points=10)
    program(brand, allow_transfers=True)
    with pytest.raises(InsufficientPoints):
        services.points_transfer(sender=sender, receiver=receiver, points=101)
    services.points_transfer(sender=sender, receiver=receiver, points=40)
    assert (account(sender).balance, account(receiver).balance) == (60, 40)
    assert ledger_verify() == []


def test_a_surprise_stops_at_its_budget_and_is_audited(brand):
    members = [MemberFactory(brand=brand) for _ in range(5)]
    granted = services.surprise_grant(
        brand=brand, members=members, points=50, reason="חג שמח", budget=120, actor=SYSTEM
    )
    assert granted == 2
    assert [account(m).balance for m in members] == [50, 50, 0, 0, 0]


# --- tiers ----------------------------------------------------------------------------------------


def test_tiers_upgrade_at_once_multiply_earning_and_downgrade_only_at_review(brand):
    services.tier_create(brand=brand, name="Silver", threshold=Decimal(100))
    gold = services.tier_create(brand=brand, name="Gold", threshold=Decimal(500), multiplier=Decimal("1.5"))
    member = MemberFactory(brand=brand)
    buy(member, "150.00")
    assert account(member).tier.name == "Silver"
    assert services.tier_progress(account=account(member))["to_next"] == Decimal(350)
    buy(member, "400.00")
    assert account(member).tier == gold
    doubled = buy(member, "100.00")
    assert doubled.points_awarded == 150  # 100 × 1.5
    # A year later nothing was earned in the window: the review moves the member down.
    services.tiers_review(brand=brand, now=timezone.now() + timedelta(days=400))
    assert account(member).tier is None
    assert account(member).tier_changes.count() == 3


def test_tier_only_rewards_are_refused_to_other_members(brand):
    gold = services.tier_create(brand=brand, name="Gold", threshold=Decimal(500))
    member = MemberFactory(brand=brand)
    buy(member, "100.00")
    reward = services.reward_create(
        brand=brand, name="lounge", cost_points=10, kind="experience", tiers=[gold.name]
    )
    with pytest.raises(Conflict) as refused:
        services.redemption_create(member=member, reward=reward)
    assert refused.value.code == "tier_required"
    assert account(member).balance == 100


# --- earning rules ----------------------------------------------------------------------------------


def test_rule_conditions_skus_days_first_purchase_and_budget(brand):
    services.earning_rule_create(
        brand=brand, name="Beans bonus", activity_type="purchase", effect="fixed", points=30, skus=["BEANS"]
    )
    services.earning_rule_create(
        brand=brand,
        name="Welcome",
        activity_type="purchase",
        effect="fixed",
        points=25,
        first_purchase_only=True,
    )
    services.earning_rule_create(
        brand=brand,
        name="Double Tuesday",
        activity_type="purchase",
        effect="multiplier",
        multiplier=Decimal(2),
        days_of_week=[1],
    )
    member = MemberFactory(brand=brand)
    monday = datetime(2026, 11, 16, 10, tzinfo=TZ)
    tuesday = datetime(2026, 11, 17, 10, tzinfo=TZ)
    first = buy(member, "10.00", when=monday, items=[{"sku": "BEANS", "unit_price": "10.00"}])
    assert first.points_awarded == 10 + 30 + 25
    second = buy(member, "10.00", when=tuesday)
    assert second.points_awarded == 20  # 10, doubled on Tuesday; no welcome twice
    budgeted = services.earning_rule_create(
        brand=brand, name="Launch", activity_type="visit", effect="fixed", points=40, budget_points=50
    )
    visits = [
        activity_record(brand=brand, member=member, type="visit", attributes={"store": "x"})[0]
        for _ in range(2)
    ]
    assert [v.points_awarded for v in visits] == [40, 0]
    budgeted.refresh_from_db()
    assert budgeted.spent_points == 40


def test_a_non_stacking_rule_is_the_only_one(brand):
    for rule in EarningRule.objects.filter(brand=brand, activity_type="purchase"):
        services.earning_rule_update(rule=rule, changes={"priority": 200}, actor=SYSTEM)
    services.earning_rule_create(
        brand=brand,
        name="Flat",
        activity_type="purchase",
        effect="fixed",
        points=7,
        stackable=False,
        priority=1,
    )
    member = MemberFactory(brand=brand)
    assert buy(member, "100.00").points_awarded == 7


def test_birthday_month_rule(brand):
    services.earning_rule_create(
        brand=brand,
        name="Birthday month",
        activity_type="purchase",
        effect="fixed",
        points=15,
        birthday_month_only=True,
    )
    now = timezone.localtime(timezone.now(), TZ)
    born_now = MemberFactory(brand=brand, birthday=date(1990, now.month, 1))
    born_other = MemberFactory(brand=brand, birthday=date(1990, now.month % 12 + 1, 1))
    assert buy(born_now, "10.00").points_awarded == 25
    assert buy(born_other, "10.00").points_awarded == 10


# --- referrals ------------------------------------------------------------------------------------


def test_a_referral_pays_both_sides_after_the_friends_first_purchase(
    brand, django_capture_on_commit_callbacks
):
    referrer = MemberFactory(brand=brand)
    friend = MemberFactory(brand=brand, referral_code=referrer.referral_code.lower())
    referral = Referral.objects.get(friend=friend)
    assert referral.status == "joined" and referral.suspicions == []
    with django_capture_on_commit_callbacks(execute=True):
        buy(friend, "10.00")
    referral.refresh_from_db()
    assert referral.status == "rewarded"
    assert (account(referrer).balance, account(friend).balance) == (100, 110)
    buy(friend, "10.00")
    assert account(referrer).balance == 100  # once


def test_a_suspect_referral_waits_for_staff(brand):
    referrer = MemberFactory(brand=brand, phone="052-5550000")
    friend = MemberFactory(brand=brand, phone="0525550000", referral_code=referrer.referral_code)
    buy(friend, "10.00")
    referral = Referral.objects.get(friend=friend)
    assert referral.status == "review" and "same_contact_as_referrer" in referral.suspicions
    assert account(referrer).balance == 0
    services.referral_decide(referral=referral, approve=True, actor=Actor())
    assert account(referrer).balance == 100


# --- reports --------------------------------------------------------------------------------------


def test_points_liability_by_expiry_month(brand):
    program(brand, expiry="end_of_month", expiry_value=1, point_value=Decimal("0.05"))
    member = MemberFactory(brand=brand)
    buy(member, "100.00", when=datetime(2026, 10, 5, 12, tzinfo=TZ))
    buy(member, "40.00", when=datetime(2026, 11, 5, 12, tzinfo=TZ))
    report = services.points_liability(brand=brand)
    assert report["outstanding_points"] == 140
    assert report["value"] == "7.00"
    assert [(m["month"], m["points"]) for m in report["by_expiry_month"]] == [
        ("2026-12-01", 100),
        ("2027-01-01", 40),
    ]
    lots = PointsLot.objects.filter(account_id=member.pk).count()
    assert lots == 2


# --- birthdays and check-ins ----------------------------------------------------------------------


def test_birthday_gift_once_a_year_and_on_the_28th_for_leap_day_babies(brand):
    leap = MemberFactory(brand=brand, birthday=date(2000, 2, 29))
    plain = MemberFactory(brand=brand, birthday=date(1990, 2, 28))
    other = MemberFactory(brand=brand, birthday=date(1990, 3, 1))
    assert services.birthdays_emit(today=date(2027, 2, 28)) == 2
    assert services.birthdays_emit(today=date(2027, 2, 28)) == 0
    assert [account(m).balance for m in (leap, plain, other)] == [50, 50, 0]


def test_store_check_in_counts_once_a_day_per_store(brand):
    from kesher.core.errors import NotFound
    from kesher.loyalty.models import Store

    Store.objects.create(brand=brand, name="דיזנגוף", code="dizengoff")
    services.earning_rule_create(brand=brand, name="Visit", activity_type="visit", effect="fixed", points=3)
    member = MemberFactory(brand=brand)
    morning = datetime(2026, 11, 20, 9, tzinfo=TZ)
    first, created = services.store_check_in(member=member, store_code="dizengoff", now=morning)
    again, created_again = services.store_check_in(
        member=member, store_code="dizengoff", now=morning + timedelta(hours=5)
    )
    assert (created, created_again, again.pk == first.pk) == (True, False, True)
    services.store_check_in(member=member, store_code="dizengoff", now=morning + timedelta(days=1))
    assert account(member).balance == 6
    with pytest.raises(NotFound):
        services.store_check_in(member=member, store_code="nowhere")


def test_a_blocked_member_cannot_redeem(brand):
    from kesher.members.services import member_update

    member = MemberFactory(brand=brand)
    buy(member, "100.00")
    member_update(member=member, changes={"status": "blocked"}, actor=SYSTEM)
    reward = services.reward_create(brand=brand, name="x", cost_points=10, kind="gift")
    with pytest.raises(Conflict) as refused:
        services.redemption_create(member=member, reward=reward)
    assert refused.value.code == "member_inactive"
    assert account(member).balance == 100


# --- segments (saved audiences of the campaigns part) ------------------------------------------------


def test_a_rule_limited_to_a_segment_and_a_surprise_to_a_segment(brand, make_api):
    from kesher.campaigns.services import segment_create

    coffee = segment_create(
        brand=brand,
        name="Coffee lovers",
        rules={"match": "all", "conditions": [{"kind": "interests", "any": ["coffee"]}]},
    )
    services.earning_rule_create(
        brand=brand,
        name="Coffee club bonus",
        activity_type="purchase",
        effect="fixed",
        points=10,
        segment_id=coffee.pk,
    )
    fan, other = (
        MemberFactory(brand=brand, interests=["coffee"]),
        MemberFactory(brand=brand, interests=["tea"]),
    )
    assert buy(fan, "20.00").points_awarded == 30
    assert buy(other, "20.00").points_awarded == 20
    manager = make_api(brand, "manage")
    answer = manager.post(
        "/surprises", {"segment_id": str(coffee.pk), "points": 7, "reason": "Coffee day", "budget": 100}
    )
    assert answer.status == 201 and answer.body["granted_members"] == 1
    assert (account(fan).balance, account(other).balance) == (37, 20)
    both = manager.post(
        "/surprises",
        {"segment_id": str(coffee.pk), "member_ids": [str(fan.pk)], "points": 1, "reason": "x", "budget": 10},
    )
    assert both.status == 422
    assert account(fan).balance == 37


def test_a_surprise_to_another_brands_segment_or_an_unknown_one_is_404_and_grants_nothing(
    brand, other_brand, make_api
):
    import uuid

    from kesher.campaigns.services import segment_create

    theirs = segment_create(brand=other_brand, name="Everyone", rules={"match": "all", "conditions": []})
    member = MemberFactory(brand=brand)
    manager = make_api(brand, "manage")
    for segment_id in (theirs.pk, uuid.uuid4()):
        answer = manager.post(
            "/surprises", {"segment_id": str(segment_id), "points": 7, "reason": "Hello", "budget": 100}
        )
        assert answer.status == 404
        assert answer.body["error"]["code"] == "segment_not_found"
    assert account(member).balance == 0
    assert not LedgerEntry.objects.filter(brand=brand, kind=LedgerEntry.Kind.ADJUST).exists()


def test_a_reward_as_a_surprise_within_budget_and_stock(brand, make_api):
    members = [MemberFactory(brand=brand) for _ in range(4)]
    reward = services.reward_create(brand=brand, name="Cake", cost_points=30, kind="free_item", stock=3)
    manager = make_api(brand, "manage")
    answer = manager.post(
        "/surprises",
        {
            "member_ids": [str(m.pk) for m in members],
            "reward_id": str(reward.pk),
            "reason": "Opening day",
            "budget": 1000,
        },
    )
    assert answer.status == 201 and answer.body["granted_members"] == 3  # the stock ran out
    assert Coupon.objects.filter(reward=reward, cost_points=0).count() == 3
    assert [account(m).balance for m in members] == [0, 0, 0, 0]
    reward.refresh_from_db()
    assert reward.stock == 0
    neither = manager.post("/surprises", {"member_ids": [str(members[3].pk)], "reason": "x", "budget": 10})
    assert neither.status == 422
    assert ledger_verify() == []


def test_every_process_sees_a_rule_change_at_once(brand):
    """Rules are kept in memory under the program's stamp; a change through the services renews it."""
    member = MemberFactory(brand=brand)
    first = activity_record(brand=brand, member=member, type="visit", attributes={"store": "x"})[0]
    rule = services.earning_rule_create(
        brand=brand, name="Visit bonus", activity_type="visit", effect="fixed", points=9
    )
    second = activity_record(brand=brand, member=member, type="visit", attributes={"store": "x"})[0]
    services.earning_rule_update(rule=rule, changes={"active": False}, actor=SYSTEM)
    third = activity_record(brand=brand, member=member, type="visit", attributes={"store": "x"})[0]
    assert [first.points_awarded, second.points_awarded - first.points_awarded, third.points_awarded] == [
        first.points_awarded,
        9,
        first.points_awarded,
    ]
