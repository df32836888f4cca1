"""The nightly rollups and the dashboard's figures against small data sets worked out by hand: the
numbers, what each filter changes, the cohorts, the lists, the personas, and one brand never in another's."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone, translation

from kesher.activity.services import activity_record
from kesher.insights import dashboard, rollups, rules
from kesher.insights.models import MemberSummary, Persona
from kesher.insights.personas import persona_rename
from kesher.insights.services import insights_refresh
from kesher.insights.tests.helpers import buy, record
from kesher.members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def figures(brand, **filters):
    with translation.override("en"):
        return dashboard.figures(
            brand=brand,
            filters=dashboard.Filters(**{**vars(dashboard.filters_default()), **filters}),
            conversion_days=7,
        )


def data(figure):
    return {label: figure.series[0].data[i] for i, label in enumerate(figure.labels)}


def test_the_summaries_hold_each_members_purchases_stage_and_tracks(club):
    rows = {s.member_id: s for s in MemberSummary.objects.all()}
    alice, bob, carol, eve = (rows[club[k].pk] for k in ("alice", "bob", "carol", "eve"))
    assert (alice.purchases, alice.purchase_days, alice.spend) == (2, 2, Decimal("150.00"))
    assert alice.mean_gap_days == pytest.approx(30.0, abs=1e-6)
    assert alice.funnel_stage == "loyalty" and bob.funnel_stage == "purchase"
    assert carol.funnel_stage == "consideration" and eve.funnel_stage == "awareness"
    assert alice.customize == 10 and bob.customize == 5 and carol.engage == 20 and carol.shares == 1
    assert carol.rfm_segment == "prospect" and carol.churn_risk is None
    # Alice bought every 30 days, last 10 days ago: within her rhythm. Bob: one purchase 5 days ago, against
    # the 90 days a one-time buyer is measured by.
    assert alice.churn_risk == 0 and bob.churn_risk == 0


def test_the_funnel_kpis_and_money_figures_are_the_hand_counted_ones(club, brand):
    out = figures(brand)
    assert data(out["funnel"]) == {
        "Awareness": 1,
        "Consideration": 1,
        "Purchase": 2,
        "Loyalty": 1,
        "Advocacy": 0,
    }
    kpis = data(out["kpis"])
    assert kpis["Active members"] == 4  # Eve did nothing: a sign-up is not activity
    assert kpis["Buyers"] == 3 and kpis["Repeat-purchase rate (%)"] == 33.3
    assert kpis["Redemption rate (%)"] == 7.3  # 15 of 205 points (200 shekels and a share)
    assert kpis["Breakage (%)"] == 0.0
    assert kpis["Cost of rewards"] == "20.00"
    assert kpis["Revenue"] == "200.00"
    assert kpis["Revenue attributed to campaigns"] == "50.00"  # Alice's 50, two days after her click
    assert kpis["NPS"] == 0.0  # one promoter, one detractor
    assert kpis["Points liability"] == 190 and kpis["Points liability value"] is not None
    buyers = out["buyers"]
    assert buyers.labels == ["Members", "Prospects"]
    assert buyers.series[0].data == [1.5, 1.0] and buyers.series[1].data == [90.0, 20.0]
    assert data(out["nps"]) == {"Promoters (9-10)": 1, "Passives (7-8)": 0, "Detractors (0-6)": 1}
    tracks = out["tracks"]
    customize = {s.label: s.data[2] for s in tracks.series}
    assert customize == {"0": 2, "1–24": 3, "25–49": 0, "50–74": 0, "75–100": 0}
    assert sum(out["sales"].series[0].data) == 200.0 and sum(out["sales"].series[1].data) == 50.0


def test_filters_change_the_numbers(club, brand):
    kpis = data(figures(brand, store="dizengoff")["kpis"])
    assert kpis["Revenue"] == "130.00" and kpis["Active members"] == 2 and kpis["Buyers"] == 2
    assert kpis["Revenue attributed to campaigns"] == "0.00"
    gold = data(figures(brand, tier=club["gold"].pk)["kpis"])
    assert gold["Revenue"] == "30.00" and gold["Buyers"] == 1
    assert data(figures(brand, tier=club["gold"].pk)["funnel"])["Purchase"] == 1
    alice_segment = MemberSummary.objects.get(member_id=club["alice"].pk).rfm_segment
    by_segment = data(figures(brand, segment=alice_segment)["kpis"])
    expected = sum(s.spend for s in MemberSummary.objects.filter(rfm_segment=alice_segment))
    assert by_segment["Revenue"] == f"{expected:.2f}"
    recent = data(figures(brand, start=timezone.localdate() - timedelta(days=7))["kpis"])
    assert recent["Revenue"] == "50.00"  # Bob's 30 and Dana's 20


def test_nps_says_no_surveys_yet_without_answers(brand):
    MemberFactory(brand=brand)
    insights_refresh(brand=brand)
    nps = figures(brand)["nps"]
    assert nps.empty and nps.extra["nps"] is None


def mid(months_ago: int) -> datetime:
    """Noon on the 15th, `months_ago` months before this one, in the brand's time zone."""
    zone = ZoneInfo("Asia/Jerusalem")
    today = timezone.now().astimezone(zone).date().replace(day=1)
    month = today
    for _ in range(months_ago):
        month = (month - timedelta(days=1)).replace(day=1)
    return datetime(month.year, month.month, 15, 12, tzinfo=zone)


def test_cohort_retention_is_the_share_of_each_join_month_buying_each_month_after(brand):
    first = [MemberFactory(brand=brand, joined_at=mid(3)) for _ in range(2)]
    later = MemberFactory(brand=brand, joined_at=mid(2))
    for member, when in ((first[0], mid(3)), (first[0], mid(2)), (first[1], mid(1)), (later, mid(1))):
        activity_record(
            brand=brand, member=member, type="purchase", attributes={"amount": "10"}, occurred_at=when
        )
    insights_refresh(brand=brand)
    cohorts = figures(brand)["cohorts"]
    assert cohorts.extra["sizes"] == [2, 1]
    grid = [[series.data[row] for series in cohorts.series[:5]] for row in range(2)]
    assert grid[0] == [50.0, 50.0, 50.0, 0.0, None]
    assert grid[1] == [0.0, 100.0, 0.0, None, None]


def test_rfm_segments_in_sql_are_the_rule_tables(brand):
    """The CASE the rollups use gives rules.rfm_segment for all 125 score triples."""
    from django.db import connection

    triples = [(r, f, m) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)]
    values = " UNION ALL ".join(f"SELECT {r} AS r, {f} AS f, {m} AS m" for r, f, m in triples)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT r, f, m, {rollups.segment_sql('r', 'f', 'm')} FROM ({values}) t")
        got = {(r, f, m): name for r, f, m, name in cursor.fetchall()}
    assert got == {t: rules.rfm_segment(recency=t[0], frequency=t[1], monetary=t[2]) for t in triples}


def test_advocates_and_churn_lists(brand):
    loud = MemberFactory(brand=brand, first_name="Loud")
    quiet = MemberFactory(brand=brand, first_name="Quiet")
    record(loud, "social_share", 2, network="x")
    record(loud, "referral", 3, referred_member_id=str(quiet.pk))
    record(quiet, "social_share", 2, network="x")
    steady = MemberFactory(brand=brand, first_name="Steady")
    lapsed = MemberFactory(brand=brand, first_name="Lapsed")
    for days in (70, 50, 30, 10):
        buy(steady, 10, days)
    for days in (130, 120, 110, 100):
        buy(lapsed, 10, days)  # every 10 days, and then 100 days of nothing
    insights_refresh(brand=brand)
    ranked = dashboard.advocates(brand=brand)
    assert [a.member.first_name for a in ranked] == ["Loud", "Quiet"]
    assert ranked[0].advocacy_score == 6 and ranked[0].referrals == 1
    churn = dashboard.churn_list(brand=brand)
    assert [c.member.first_name for c in churn] == ["Lapsed"]
    assert churn[0].churn_risk == 1.0 and churn[0].mean_gap_days == pytest.approx(10.0, abs=1e-6)


def test_one_brand_never_counts_in_another(club, brand, other_brand):
    stranger = MemberFactory(brand=other_brand)
    buy(stranger, 999, 2)
    insights_refresh(brand=other_brand)
    assert data(figures(brand)["kpis"])["Revenue"] == "200.00"
    assert data(figures(other_brand)["kpis"])["Revenue"] == "999.00"
    assert all(
        a.member.brand_id == other_brand.pk for a in dashboard.churn_list(brand=other_brand, threshold=-1)
    )


def test_personas_cluster_members_keep_their_names_and_describe_themselves(brand):
    for n in range(12):
        member = MemberFactory(brand=brand)
        for k in range(8):
            buy(member, 200 + n, 5 + 7 * k)  # big spenders who buy weekly
    for _ in range(12):
        member = MemberFactory(brand=brand)
        for k in range(6):
            record(member, "social_share", 1 + k, network="x")  # sharers who never buy
    for _ in range(12):
        member = MemberFactory(brand=brand)
        for k in range(9):
            record(member, "visit", 1 + k, store="dizengoff")  # visitors who never buy
    for _ in range(12):
        MemberFactory(brand=brand)  # nothing at all
    insights_refresh(brand=brand)
    personas = list(Persona.objects.filter(brand=brand, members__gt=0))
    assert sum(p.members for p in personas) == 48
    spenders = max(personas, key=lambda p: p.centre["spend"])
    assert spenders.members == 12 and spenders.traits[0]["z"] != 0
    assert any(t["feature"] in {"spend", "purchases"} and t["z"] > 0 for t in spenders.traits)
    persona_rename(brand=brand, number=spenders.number, name="Weekly big spenders")
    insights_refresh(brand=brand)  # clustered again: the name stays with the same group
    again = max(Persona.objects.filter(brand=brand, members__gt=0), key=lambda p: p.centre["spend"])
    assert again.name == "Weekly big spenders" and again.members == 12
    assert MemberSummary.objects.filter(brand=brand, persona=again.number).count() == 12


def test_a_members_insights_are_exported_erased_and_dropped_on_merge(club, brand):
    from kesher.insights.models import MemberMonth
    from kesher.members.hooks import member_erase_run, member_export_run, members_merge_run

    alice, bob = club["alice"], club["bob"]
    exported: Any = member_export_run(member=alice)["insights"]
    assert exported["funnel_stage"] == "loyalty" and exported["tracks"]["customize"] == 10
    member_erase_run(member=alice)
    assert not MemberSummary.objects.filter(member_id=alice.pk).exists()
    assert not MemberMonth.objects.filter(member_id=alice.pk).exists()
    members_merge_run(source=bob, target=club["carol"])
    assert not MemberSummary.objects.filter(member_id=bob.pk).exists()
    assert MemberSummary.objects.filter(member_id=club["carol"].pk).exists()
