"""The insights tests' small club, worked out by hand (see `club`)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kesher.insights.services import insights_refresh
from kesher.insights.tests.helpers import at, buy, record, survey
from kesher.loyalty import services as loyalty
from kesher.loyalty.models import PointsAccount, Tier
from kesher.members.tests.factories import MemberFactory


@pytest.fixture
def club(brand):
    """Alice: 100 (40 days ago) and 50 (10 days ago, two days after a click) — loyal, 15 points redeemed;
    Bob: 30 (5 days ago), gold tier; Carol: a share, no purchase; Dana: a prospect who bought 20 in Haifa;
    Carol answered a survey with 10, Dana with 3;
    Eve: nothing. The default rules: a point a shekel,
    5 a share."""
    alice = MemberFactory(brand=brand, first_name="Alice", joined_at=at(70))
    bob = MemberFactory(brand=brand, first_name="Bob", joined_at=at(70))
    carol = MemberFactory(brand=brand, first_name="Carol")
    dana = MemberFactory(brand=brand, first_name="Dana", status="prospect")
    eve = MemberFactory(brand=brand, first_name="Eve")
    buy(alice, 100, 40)
    record(
        alice,
        "message_clicked",
        12,
        campaign_id="c1",
        message_id="m1",
        channel="email",
        url="https://cafe.example/",
    )
    buy(alice, 50, 10, store="haifa")
    buy(bob, 30, 5)
    record(carol, "social_share", 3, network="facebook")
    buy(dana, 20, 3, store="haifa")
    reward = loyalty.reward_create(
        brand=brand, name="Coffee", cost_points=15, kind="free_item", value=Decimal(20)
    )
    loyalty.redemption_create(member=alice, reward=reward)
    survey(carol, 10)
    survey(dana, 3)
    gold = Tier.objects.create(brand=brand, name="Gold", threshold=1000)
    PointsAccount.objects.filter(member=bob).update(tier=gold)
    insights_refresh(brand=brand)
    return {"alice": alice, "bob": bob, "carol": carol, "dana": dana, "eve": eve, "gold": gold}
