"""A member's insights: funnel stage, tracks, RFM, CLV and churn risk, over the API and from the nightly
fit; one brand never reads another's; only a manage key may ask."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from pydantic import BaseModel

from kesher.activity.models import Activity
from kesher.activity.registry import activity_type, registry
from kesher.activity.services import activity_record
from kesher.insights import rules
from kesher.insights.models import InsightsFit
from kesher.insights.selectors import member_insights
from kesher.insights.services import insights_refresh
from kesher.members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def record(member, type, days_ago, **attributes):
    activity_record(
        brand=member.brand,
        member=member,
        type=type,
        attributes=attributes,
        occurred_at=timezone.now() - timedelta(days=days_ago, hours=1),
    )


def buy(member, amount, days_ago):
    record(member, "purchase", days_ago, amount=str(amount), currency="ILS")


def buyers(brand, count, *, start=0):
    """Rows written straight (no consumers run): only insights reads them."""
    now = timezone.now()
    people = [MemberFactory(brand=brand) for _ in range(count)]
    Activity.objects.bulk_create(
        Activity(
            brand=brand,
            member=person,
            type="purchase",
            occurred_at=now - timedelta(days=days),
            attributes={"amount": str(20 + 7 * (n % 9)), "currency": "ILS"},
        )
        for n, person in enumerate(people, start=start)
        for days in sorted({300 - (n % 50), 200 - (n % 40), 100 - (n % 30) + (n % 7) * 5, 10 + (n % 60)})[
            : 2 + n % 3
        ]
    )
    return people


def test_a_prospect_an_engaged_member_a_buyer_a_loyal_and_an_advocate(brand):
    prospect = MemberFactory(brand=brand)
    curious = MemberFactory(brand=brand)
    record(curious, "visit", 3, store="דיזנגוף")
    once = MemberFactory(brand=brand)
    buy(once, 50, 400)
    loyal = MemberFactory(brand=brand)
    buy(loyal, 50, 40)
    buy(loyal, 70, 5)
    advocate = MemberFactory(brand=brand)
    buy(advocate, 90, 20)
    record(advocate, "social_share", 2, network="facebook")
    stages = {
        m.first_name + str(i): member_insights(member=m)["funnel_stage"]
        for i, m in enumerate([prospect, curious, once, loyal, advocate])
    }
    assert list(stages.values()) == ["awareness", "consideration", "purchase", "loyalty", "advocacy"]


def test_members_move_out_of_a_stage_as_time_passes(brand):
    member = MemberFactory(brand=brand)
    buy(member, 50, 60)
    buy(member, 50, 30)
    now = timezone.now()
    assert member_insights(member=member, now=now)["funnel_stage"] == "loyalty"
    # a year on with no purchase: back to a one-time... buyer stage, out of loyalty
    assert member_insights(member=member, now=now + timedelta(days=400))["funnel_stage"] == "purchase"


def test_tracks_follow_the_rule_table_and_cap_at_100(brand):
    member = MemberFactory(brand=brand)
    for day in range(12):
        record(member, "visit", day + 1, store="x")
    record(member, "social_share", 1, network="facebook")
    tracks = member_insights(member=member)["tracks"]
    assert tracks["access"] == 100  # 12 visits x 10, capped (the signup counts too)
    assert tracks["engage"] == 20 and tracks["collaborate"] == 0
    assert set(tracks) == set(rules.TRACK_NAMES)


def test_a_rule_for_a_type_registered_later_counts_once_it_exists(brand):
    member = MemberFactory(brand=brand)
    assert member_insights(member=member)["tracks"]["collaborate"] == 0  # review_published is not registered

    class Review(BaseModel):
        review_id: str

    existed = registry.types.get("review_published")
    activity_type("review_published")(Review)
    try:
        record(member, "review_published", 1, review_id="r1")
        assert member_insights(member=member)["tracks"]["collaborate"] == 20
    finally:
        if existed is None:
            registry.types.pop("review_published")
        else:
            registry.types["review_published"] = existed


def test_the_nightly_fit_gives_rfm_quintiles_and_lifetime_value(brand):
    buyers(brand, 40)
    fit = insights_refresh(brand=brand)
    assert fit.buyers == 40 and fit.bgnbd is not None and fit.gamma_gamma is not None
    assert set(fit.bgnbd) == {"r", "alpha", "a", "b"}
    fresh = MemberFactory(brand=brand)
    for days in (150, 120, 90, 60, 30, 2):
        buy(fresh, 200, days)
    figures = member_insights(member=fresh)
    assert (
        figures["rfm"]["recency"] == 5
        and figures["rfm"]["frequency"] == 5
        and figures["rfm"]["monetary"] == 5
    )
    assert figures["rfm"]["segment"] == "champions"
    assert 0.5 < figures["clv"]["p_alive"] <= 1 and figures["churn_risk"] == pytest.approx(
        1 - figures["clv"]["p_alive"], abs=1e-3
    )
    assert figures["clv"]["expected_purchases_90d"] > 0 and figures["clv"]["value_12m"] > 0


def test_without_a_fit_churn_risk_follows_the_members_own_rhythm(brand):
    steady = MemberFactory(brand=brand)
    slipping = MemberFactory(brand=brand)
    for days in (100, 90, 80, 70):
        buy(slipping, 30, days)  # every 10 days, then 70 days of silence
    for days in (30, 20, 10, 1):
        buy(steady, 30, days)
    assert not InsightsFit.objects.filter(brand=brand).exists()
    assert member_insights(member=steady)["churn_risk"] == 0
    assert member_insights(member=slipping)["churn_risk"] == 1
    assert member_insights(member=steady)["clv"] == {
        "p_alive": None,
        "expected_purchases_90d": None,
        "value_12m": None,
    }


def test_too_few_buyers_leave_the_models_unfitted(brand):
    buyers(brand, 5)
    fit = insights_refresh(brand=brand)
    assert fit.bgnbd is None and fit.gamma_gamma is None and fit.rfm_cuts


def test_the_api_answers_the_issues_shape(brand, make_api):
    member = MemberFactory(brand=brand)
    buy(member, 120, 3)
    answer = make_api(brand, "manage").get(f"/members/{member.id}/insights")
    assert answer.status == 200
    assert set(answer.body) == {"funnel_stage", "tracks", "rfm", "clv", "churn_risk"}
    assert set(answer.body["tracks"]) == {"access", "engage", "customize", "connect", "collaborate"}
    assert set(answer.body["rfm"]) == {"recency", "frequency", "monetary", "segment"}
    assert set(answer.body["clv"]) == {"p_alive", "expected_purchases_90d", "value_12m"}
    assert answer.body["funnel_stage"] == "purchase"


def test_a_pos_key_and_another_brand_are_refused(brand, other_brand, make_api):
    member = MemberFactory(brand=brand)
    assert make_api(brand, "pos").get(f"/members/{member.id}/insights").status == 403
    other = make_api(other_brand, "all").get(f"/members/{member.id}/insights")
    assert other.status == 404 and other.body["error"]["code"] == "member_not_found"
    assert make_api(brand, "all").get("/members/not-a-uuid/insights").status in (404, 422)


def test_the_fit_of_one_brand_is_not_the_others(brand, other_brand):
    buyers(brand, 30)
    insights_refresh(brand=brand)
    theirs = MemberFactory(brand=other_brand)
    buy(theirs, 40, 10)
    buy(theirs, 40, 5)
    assert member_insights(member=theirs)["clv"]["p_alive"] is None
