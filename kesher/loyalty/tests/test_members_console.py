"""The members list in the console: search however a number is typed, filters, sorting, pages, a CSV that
Excel opens in Hebrew, and a member's whole record; a fixed number of queries whatever the page holds."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kesher.activity.services import activity_record
from kesher.brands.services import staff_grant
from kesher.campaigns.models import Message
from kesher.campaigns.services import campaign_create, segment_create
from kesher.community.models import Space
from kesher.community.services import Author, question_ask
from kesher.core.models import AuditEntry
from kesher.loyalty.models import PointsAccount
from kesher.loyalty.services import redemption_create, reward_create, tier_create
from kesher.members.services import consent_set
from kesher.members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def staff(client, brand, role):
    user = get_user_model().objects.create_user(username=role, email=f"{role}@example.org", password="x")
    staff_grant(brand=brand, user=user, role=role)
    client.force_login(user)
    return user


def buy(member, amount, days_ago):
    activity_record(
        brand=member.brand,
        member=member,
        type="purchase",
        source="pos",
        attributes={"amount": str(amount), "currency": "ILS", "store": "דיזנגוף"},
        occurred_at=timezone.now() - timedelta(days=days_ago),
        idempotency_key=f"{member.pk}-{amount}-{days_ago}",
    )


@pytest.fixture
def club(brand):
    gold = tier_create(brand=brand, name="זהב", threshold=Decimal(1000))
    dana = MemberFactory(
        brand=brand,
        first_name="דנה",
        last_name="כהן",
        email="dana@example.org",
        phone="050-1111111",
        consents={"email": True, "sms": True},
    )
    yossi = MemberFactory(
        brand=brand,
        first_name="Yossi",
        last_name="Levi",
        email="yossi@example.org",
        phone="052-2222222",
        consents={"email": True},
        locale="en",
    )
    maya = MemberFactory(
        brand=brand, first_name="מאיה", last_name="ברק", email="maya@example.org", phone=None
    )
    buy(dana, 1200, days_ago=5)
    buy(yossi, 40, days_ago=100)
    PointsAccount.objects.filter(member=dana).update(tier=gold)
    return {"dana": dana, "yossi": yossi, "maya": maya, "gold": gold}


def names(response):
    return [m.first_name for m in response.context["page"]]


def test_search_by_name_email_phone_however_typed_and_card(client, brand, club):
    staff(client, brand, "marketer")
    dana = club["dana"]
    for typed in [
        "דנה",
        "כהן",
        "דנה כהן",
        "DANA@example",
        "050-1111111",
        "+972 50 111 1111",
        "(050) 111.1111",
        " ".join(dana.card_number),
        f"{dana.card_number[:4]}-{dana.card_number[4:]}",
    ]:
        response = client.get(f"/console/{brand.slug}/members/", {"q": typed})
        assert response.status_code == 200
        assert names(response) == ["דנה"], typed
    assert names(client.get(f"/console/{brand.slug}/members/", {"q": "דנה לוי"})) == []


def test_filters_by_tier_segment_consent_purchase_window_and_points(client, brand, club):
    staff(client, brand, "analyst")
    url = f"/console/{brand.slug}/members/"

    def found(**params):
        return sorted(names(client.get(url, params)))

    assert found() == sorted(["דנה", "Yossi", "מאיה"])
    assert found(tier=str(club["gold"].pk)) == ["דנה"]
    assert found(tier="none") == sorted(["Yossi", "מאיה"])
    assert found(consent_sms="yes") == ["דנה"]
    assert found(consent_sms="no") == sorted(["Yossi", "מאיה"])
    assert found(consent_email="yes", consent_sms="no") == ["Yossi"]
    assert found(purchased_within="30") == ["דנה"]
    assert found(purchased_within="365") == sorted(["דנה", "Yossi"])
    assert found(no_purchase_within="90") == sorted(["Yossi", "מאיה"])
    assert found(points_min="1,000") == ["דנה"]
    assert found(points_min="1", points_max="100") == ["Yossi"]
    english = segment_create(
        brand=brand,
        name="English speakers",
        rules={"match": "all", "conditions": [{"kind": "locale", "locale": "en"}]},
    )
    assert found(segment=str(english.pk)) == ["Yossi"]
    assert found(segment="not-a-segment") == []
    bad = client.get(url, {"points_min": "many"})
    assert bad.status_code == 422 and "יש להקליד מספר שלם" in bad.content.decode()


def test_sorting(client, brand, club):
    staff(client, brand, "owner")
    url = f"/console/{brand.slug}/members/"
    assert names(client.get(url, {"sort": "-points"})) == ["דנה", "Yossi", "מאיה"]
    assert names(client.get(url, {"sort": "points"})) == ["מאיה", "Yossi", "דנה"]
    assert names(client.get(url, {"sort": "-last_purchase"})) == [
        "דנה",
        "Yossi",
        "מאיה",
    ]  # never bought: last
    assert names(client.get(url, {"sort": "last_purchase"})) == ["Yossi", "דנה", "מאיה"]
    html = client.get(url, {"sort": "-points"}).content.decode()
    assert '<td class="number" data-test="member-points">1,200</td>' in html


def test_pages_of_fifty_with_a_constant_number_of_queries(client, brand, club):
    staff(client, brand, "owner")
    url = f"/console/{brand.slug}/members/"
    client.get(url)  # the session and the language settle
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for n in range(55):
        member = MemberFactory(brand=brand, first_name=f"Member{n:02d}")
        buy(member, 10 + n, days_ago=n)
    with CaptureQueriesContext(connection) as many:
        first = client.get(url, {"sort": "name"})
    assert len(first.context["page"]) == 50
    assert len(many.captured_queries) == len(few.captured_queries), [q["sql"] for q in many.captured_queries]
    assert 'data-test="member-count">58 חברי מועדון</p>' in first.content.decode()
    second = client.get(url, {"sort": "name", "page": "2"})
    assert len(second.context["page"]) == 8
    assert 'data-test="page-previous"' in second.content.decode()


def test_csv_export_streams_utf8_with_a_bom_in_the_reader_s_language_and_is_audited(client, brand, club):
    staff(client, brand, "marketer")
    response = client.get(
        f"/console/{brand.slug}/members/export.csv", {"consent_email": "yes", "sort": "-points"}
    )
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(f'attachment; filename="members-{brand.slug}-')
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:3] == ["מספר כרטיס", "שם פרטי", "שם משפחה"]
    assert [(r[1], r[5], r[6], r[10]) for r in rows[1:]] == [
        ("דנה", "זהב", "1200", "כן"),
        ("Yossi", "", "40", "לא"),
    ]
    entry = AuditEntry.objects.get(action="members.export")
    assert entry.data == {"consent_email": "yes", "sort": "-points"}


@pytest.mark.parametrize("role", ["service_agent", "moderator"])
def test_who_may_not_export_gets_nothing_and_nothing_is_audited(client, brand, club, role):
    staff(client, brand, role)
    assert client.get(f"/console/{brand.slug}/members/export.csv").status_code == 403
    assert not AuditEntry.objects.filter(action="members.export").exists()


def test_a_moderator_does_not_open_the_members_list(client, brand, club):
    staff(client, brand, "moderator")
    assert client.get(f"/console/{brand.slug}/members/").status_code == 403
    assert client.get(f"/console/{brand.slug}/members/{club['dana'].pk}/").status_code == 403


def test_a_member_s_page_shows_the_whole_record(client, brand, club):
    dana = club["dana"]
    consent_set(member=dana, channel="sms", granted=False, source="portal", origin="192.0.2.1")
    reward = reward_create(brand=brand, name="קפה חינם", cost_points=100, kind="free_item", value=Decimal(12))
    coupon = redemption_create(member=dana, reward=reward)
    campaign = campaign_create(
        brand=brand,
        name="מבצע חורף",
        channel="email",
        subject="חורף חם",
        body="שלום {{ first_name }}",
        advertising=True,
    )
    Message.objects.create(
        brand=brand,
        campaign=campaign,
        member=dana,
        channel="email",
        to=dana.email,
        locale="he",
        subject="חורף חם",
        body="שלום דנה",
        advertising=True,
        consent_basis="consent",
        status="delivered",
    )
    space = Space.objects.get(brand=brand, slug="general")
    question_ask(
        space=space,
        author=Author(member=dana),
        title="איך שומרים על הקפה טרי?",
        body="אני קונה פולים פעם בחודש ותוהה.",
    )
    staff(client, brand, "service_agent")
    for language, expected in [
        ("he", ["רכישה", "היסטוריית הסכמות", "הודעות שהתקבלו"]),
        ("en", ["Purchase", "Consent history", "Messages received"]),
    ]:
        response = client.get(
            f"/console/{brand.slug}/members/{dana.pk}/", headers={"Accept-Language": language}
        )
        assert response.status_code == 200
        html = response.content.decode()
        for text in expected:
            assert text in html, (language, text)
    record = response.context["record"]
    assert [(e.channel, e.granted) for e in record.consent_events][:1] == [("sms", False)]
    assert {"question_asked", "purchase"} <= {a.type for a in record.activities}
    assert coupon.code in html and "מבצע חורף" in html and "איך שומרים על הקפה טרי?" in html
    assert 'data-test="balance">1,101</p>' in html  # 1,200 for the purchase, 1 for asking, 100 spent
    assert "question_asked" not in html and ">purchase<" not in html  # labels, never codes
