"""The insights pages: what each role sees, the CSV of each figure is the chart's data, the filters in the
address change the numbers, Hebrew labels on a Hebrew page, personas named by marketers only, one brand's
staff never open another's, and the member's console page carries the insights block."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from kesher.brands.services import staff_grant
from kesher.core.models import AuditEntry
from kesher.core.tests.fingerprint import rows_fingerprint
from kesher.insights import dashboard
from kesher.insights.models import Persona
from kesher.web.tests.conftest import make_user

pytestmark = pytest.mark.django_db


def staff(brand, role, language="en"):
    user = make_user(f"{role}-{brand.slug}@staff.example.org")
    staff_grant(brand=brand, user=user, role=role)
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


def csv_rows(response):
    text = b"".join(response.streaming_content if response.streaming else [response.content]).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def as_text(rows):
    return [["" if cell is None else str(cell) for cell in row] for row in rows]


def test_each_figures_csv_is_the_charts_data(club, brand):
    client = staff(brand, "analyst")
    page = client.get(reverse("insights:dashboard", args=[brand.slug]))
    assert page.status_code == 200
    html = page.content.decode()
    start = html.index('<script id="insights-charts" type="application/json">') + len(
        '<script id="insights-charts" type="application/json">'
    )
    charts = json.loads(html[start : html.index("</script>", start)])["figures"]
    assert set(charts) == {"funnel", "conversion", "tracks", "sales", "points", "buyers", "nps"}
    for key in dashboard.FIGURES:
        response = client.get(reverse("insights:figure_csv", args=[brand.slug, key]))
        assert response.status_code == 200, key
        rows = csv_rows(response)
        if key in charts:
            chart = charts[key]
            assert rows[0][1:] == [s["label"] for s in chart["series"]], key
            assert [row[0] for row in rows[1:]] == chart["labels"], key
            for i, series in enumerate(chart["series"]):
                expected = ["" if v is None else str(v) for v in series["data"]]
                assert [row[i + 1] for row in rows[1:]] == expected, key
    funnel = csv_rows(client.get(reverse("insights:figure_csv", args=[brand.slug, "funnel"])))
    assert funnel[1:] == [
        ["Awareness", "1"],
        ["Consideration", "1"],
        ["Purchase", "2"],
        ["Loyalty", "1"],
        ["Advocacy", "0"],
    ]
    assert client.get(reverse("insights:figure_csv", args=[brand.slug, "nothing"])).status_code == 404


def test_the_filters_in_the_address_change_the_numbers(club, brand):
    client = staff(brand, "marketer")
    url = reverse("insights:figure_csv", args=[brand.slug, "kpis"])
    every = dict(csv_rows(client.get(url))[1:])
    dizengoff = dict(csv_rows(client.get(url, {"store": "dizengoff"}))[1:])
    gold = dict(csv_rows(client.get(url, {"tier": str(club["gold"].pk)}))[1:])
    assert (every["Revenue"], dizengoff["Revenue"], gold["Revenue"]) == ("200.00", "130.00", "30.00")
    page = client.get(reverse("insights:dashboard", args=[brand.slug]), {"store": "dizengoff"})
    assert 'data-test="kpi-revenue"><bdi dir="ltr">130.00 ILS' in page.content.decode()
    nonsense = client.get(reverse("insights:dashboard", args=[brand.slug]), {"start": "soon", "tier": "x"})
    assert nonsense.status_code == 200  # unreadable filters fall back to their defaults


def test_the_dashboard_in_hebrew_has_hebrew_labels_and_months(club, brand):
    client = staff(brand, "owner", language="he")
    html = client.get(reverse("insights:dashboard", args=[brand.slug])).content.decode()
    assert 'dir="rtl"' in html and 'lang="he"' in html
    with translation.override("he"):
        figure = dashboard.sales_figure(brand=brand, filters=dashboard.filters_default())
    hebrew_months = [
        "ינואר",
        "פברואר",
        "מרץ",
        "אפריל",
        "מאי",
        "יוני",
        "יולי",
        "אוגוסט",
        "ספטמבר",
        "אוקטובר",
        "נובמבר",
        "דצמבר",
    ]
    assert len(figure.labels) == 12
    assert all(label.split()[0] in hebrew_months for label in figure.labels)
    assert "תובנות" in html  # "Insights"


def test_who_opens_the_pages_and_who_names_personas(brand, other_brand):
    from kesher.insights.services import insights_refresh
    from kesher.insights.tests.helpers import buy, record
    from kesher.members.tests.factories import MemberFactory

    for n in range(24):
        member = MemberFactory(brand=brand)
        if n % 2:
            buy(member, 50 + n, 3)
        else:
            record(member, "social_share", 2, network="x")
    insights_refresh(brand=brand)
    persona = Persona.objects.filter(brand=brand, members__gt=0).first()
    assert persona is not None
    url = reverse("insights:personas", args=[brand.slug])
    analyst = staff(brand, "analyst")
    assert analyst.get(url).status_code == 200
    before = rows_fingerprint()
    assert analyst.post(url, {"number": persona.number, "name": "Mine"}).status_code == 403
    assert rows_fingerprint() == before
    marketer = staff(brand, "marketer")
    assert marketer.post(url, {"number": persona.number, "name": "  Weekend  sharers "}).status_code == 303
    persona.refresh_from_db()
    assert persona.name == "Weekend sharers"
    assert AuditEntry.objects.filter(brand=brand, action="persona.rename").count() == 1
    assert "Weekend sharers" in marketer.get(url).content.decode()
    # the other brand's owner: not found, for every page of this brand
    stranger = staff(other_brand, "owner")
    for name in ("insights:dashboard", "insights:advocates", "insights:churn", "insights:personas"):
        assert stranger.get(reverse(name, args=[brand.slug])).status_code == 404
    assert stranger.get(reverse("insights:advocates_csv", args=[brand.slug])).status_code == 404
    moderator = staff(brand, "moderator")
    assert moderator.get(reverse("insights:dashboard", args=[brand.slug])).status_code == 403


def test_the_lists_and_their_csv_hold_the_same_rows(club, brand):
    client = staff(brand, "marketer")
    page = client.get(reverse("insights:advocates", args=[brand.slug]))
    assert page.status_code == 200 and "Carol" in page.content.decode()
    rows = csv_rows(client.get(reverse("insights:advocates_csv", args=[brand.slug])))
    assert [row[0].split()[0] for row in rows[1:]] == ["Carol"] and rows[1][2] == "1"
    churn = csv_rows(client.get(reverse("insights:churn_csv", args=[brand.slug])))
    assert churn[1:] == []  # everyone who bought is within their rhythm
    exports = ["insights.advocates_export", "insights.churn_export"]
    assert AuditEntry.objects.filter(brand=brand, action__in=exports).count() == 2


def test_the_members_console_page_shows_their_insights(club, brand):
    client = staff(brand, "marketer")
    html = client.get(reverse("loyalty:member", args=[brand.slug, club["alice"].pk])).content.decode()
    assert 'data-test="member-insights"' in html
    assert 'data-test="member-stage">Loyalty<' in html
    assert 'data-test="member-tracks"' in html and "<meter" in html
