"""The RFM named segments are campaigns' segments: a campaign sent to "RFM: At risk" reaches exactly the
members the nightly recomputation put there, and the campaigns part never imports insights to do it."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from kesher.activity.models import Activity
from kesher.campaigns import services as campaigns
from kesher.campaigns.models import Message, Segment
from kesher.campaigns.selectors import rules_members
from kesher.insights.models import MemberSummary
from kesher.insights.selectors import member_insights
from kesher.insights.services import insights_refresh, rfm_segment_rules
from kesher.members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def purchases(brand, member, amounts_days):
    now = timezone.now()
    Activity.objects.bulk_create(
        Activity(
            brand=brand,
            member=member,
            type="purchase",
            occurred_at=now - timedelta(days=days, hours=1),
            attributes={"amount": str(amount), "currency": "ILS"},
        )
        for amount, days in amounts_days
    )


def population(brand):
    """Forty buyers of every kind: recent and lapsed, frequent and once, big and small."""
    people = []
    for n in range(40):
        member = MemberFactory(brand=brand, first_name=f"m{n}")
        last = 5 + (n * 37) % 300  # days since the last purchase, spread
        count = 1 + n % 6
        amount = 20 + (n * 53) % 400
        purchases(brand, member, [(amount, last + 15 * k) for k in range(count)])
        people.append(member)
    MemberFactory(brand=brand, first_name="prospect")
    return people


def test_a_campaign_to_at_risk_reaches_exactly_the_at_risk_members(brand, other_brand):
    people = population(brand)
    population(other_brand)
    insights_refresh(brand=brand)
    insights_refresh(brand=other_brand)
    at_risk = {m.pk for m in people if member_insights(member=m)["rfm"]["segment"] == "at_risk"}
    assert at_risk, "the population has members at risk"
    assert at_risk == set(
        MemberSummary.objects.filter(brand=brand, rfm_segment="at_risk").values_list("member_id", flat=True)
    )
    segment = Segment.objects.get(brand=brand, rules=rfm_segment_rules("at_risk"))
    assert segment.name == "RFM: בסיכון"  # in the brand's language (Hebrew)
    campaign = campaigns.campaign_create(
        brand=brand,
        name="We miss you",
        channel="email",
        subject="חזרו",
        body="שלום",
        advertising=False,
        segment=segment,
    )
    with mock.patch("kesher.campaigns.services.sending.queuing_start"):
        campaigns.campaign_send(campaign=campaign)
    with mock.patch("kesher.campaigns.services.sending.messages_dispatch"):
        campaigns.campaign_queue(campaign_id=campaign.pk)
    reached = set(Message.objects.filter(campaign=campaign).values_list("member_id", flat=True))
    assert reached == at_risk  # the other brand's at-risk members are not reached


def test_the_lists_follow_the_recomputation_and_an_unknown_list_selects_nobody(brand):
    people = population(brand)
    insights_refresh(brand=brand)
    lost_before = set(
        rules_members(brand=brand, rules=rfm_segment_rules("lost")).values_list("pk", flat=True)
    )
    assert lost_before
    # Each of them buys big today: the next recomputation takes them off "lost".
    for member in people:
        if member.pk in lost_before:
            purchases(brand, member, [(500, 0), (500, 1), (500, 2)])
    insights_refresh(brand=brand)
    assert not lost_before & set(
        rules_members(brand=brand, rules=rfm_segment_rules("lost")).values_list("pk", flat=True)
    )
    unknown = {"conditions": [{"kind": "list", "source": "rfm", "name": "nobody_here"}]}
    assert not rules_members(brand=brand, rules=unknown).exists()
    elsewhere = {"conditions": [{"kind": "list", "source": "nowhere", "name": "lost"}]}
    assert not rules_members(brand=brand, rules=elsewhere).exists()
    assert Segment.objects.filter(brand=brand, name__startswith="RFM: ").count() == 8  # once, not twice
