"""The staff console: building a survey, its results (chart, trend, CSAT by store, verbatims, CSV), the
detractors' follow-up; roles, audit, another brand's staff, and the query count of the results page."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kesher.brands.models import StaffRole
from kesher.brands.services import staff_grant
from kesher.core.models import AuditEntry
from kesher.core.tests.fingerprint import changed_models, rows_fingerprint
from kesher.members.tests.factories import MemberFactory
from kesher.surveys.models import Survey, SurveyAlert
from kesher.surveys.services import response_submit
from kesher.surveys.tests.factories import key, make_survey
from kesher.web.tests.conftest import make_user

pytestmark = pytest.mark.django_db


def _staff(brand, role, email="staff@example.org"):
    user = make_user(email)
    staff_grant(brand=brand, user=user, role=role)
    client = Client()
    client.force_login(user)
    return client


def test_a_marketer_builds_and_publishes_a_survey_in_the_console(brand):
    client = _staff(brand, StaffRole.MARKETER)
    made = client.post(
        f"/console/{brand.slug}/surveys/new/",
        {"title_he": "איך היה?", "title_en": "How was it?", "starter": "nps", "trigger_activity": "purchase"},
    )
    assert made.status_code == 302
    survey = Survey.objects.get(brand=brand)
    kinds = list(survey.questions.values_list("kind", "text_he", "text_en"))
    assert [k for k, _, _ in kinds] == ["nps", "text"]
    assert (
        kinds[0][2] == "How likely are you to recommend us to a friend?" and kinds[0][1]
    )  # Hebrew from the catalogue
    base = f"/console/{brand.slug}/surveys/{survey.pk}"
    client.post(
        f"{base}/questions/", {"kind": "csat", "text_he": "מרוצים?", "text_en": "Happy?", "required": "on"}
    )
    last = survey.questions.order_by("position").last()
    assert last is not None
    client.post(f"{base}/move/", {"question": str(last.pk), "direction": "up"})
    assert list(survey.questions.order_by("position").values_list("kind", flat=True)) == [
        "nps",
        "csat",
        "text",
    ]
    client.post(f"{base}/status/", {"action": "publish"})
    survey.refresh_from_db()
    assert survey.status == "published"
    actions = set(AuditEntry.objects.filter(target_id=str(survey.pk)).values_list("action", "actor_user_id"))
    assert {a for a, _ in actions} == {
        "survey.create",
        "survey.question_add",
        "survey.questions_reorder",
        "survey.publish",
    }
    assert all(user is not None for _, user in actions)


def test_an_analyst_reads_but_cannot_change_and_a_refusal_changes_nothing(brand):
    survey = make_survey(brand, publish=False)
    client = _staff(brand, StaffRole.ANALYST)
    assert client.get(f"/console/{brand.slug}/surveys/{survey.pk}/").status_code == 200
    before = rows_fingerprint()
    for path, data in [
        (f"/console/{brand.slug}/surveys/{survey.pk}/status/", {"action": "publish"}),
        (f"/console/{brand.slug}/surveys/{survey.pk}/questions/", {"kind": "text", "text_en": "Why?"}),
        (f"/console/{brand.slug}/surveys/settings/", {"contact_interval_days": "1"}),
    ]:
        assert client.post(path, data).status_code == 403
    assert changed_models(before, rows_fingerprint()) == []


def test_another_brands_staff_find_nothing(brand, other_brand):
    survey = make_survey(brand)
    client = _staff(other_brand, StaffRole.OWNER)
    for path in ("", "results/", "export.csv"):
        assert client.get(f"/console/{brand.slug}/surveys/{survey.pk}/{path}").status_code == 404
    # Their own console does not open this brand's survey either.
    assert client.get(f"/console/{other_brand.slug}/surveys/{survey.pk}/results/").status_code == 404


def _answered(brand):
    survey = make_survey(brand)
    for nps, csat, store, text in [
        (10, 5, "Dizengoff", "שירות מעולה"),
        (9, 4, "Dizengoff", ""),
        (2, 1, "Haifa", "והשירות היה איטי"),
    ]:
        answers: dict[str, object] = {key(survey, "nps"): nps, key(survey, "csat"): csat}
        if text:
            answers[key(survey, "text")] = text
        response_submit(survey=survey, member=MemberFactory(brand=brand), answers=answers, store=store)
    return survey


def test_the_results_page_shows_the_trend_the_chart_csat_by_store_and_searches_verbatims(brand):
    survey = _answered(brand)
    client = _staff(brand, StaffRole.ANALYST)
    page = client.get(f"/console/{brand.slug}/surveys/{survey.pk}/results/?q=שירות")
    html = page.content.decode()
    assert page.status_code == 200
    assert "campaigns/vendor/chart-4.6.2.umd.min.js" in html and 'id="nps-chart-data"' in html
    assert 'data-test="nps-value">33.3<' in html  # (2 − 1) / 3
    assert "66.7%" in html  # CSAT: 2 of 3
    assert html.count('data-test="verbatim"') == 2  # "שירות" and "והשירות"
    monthly = client.get(
        f"/console/{brand.slug}/surveys/{survey.pk}/results/?by=month&q=איטי"
    ).content.decode()
    assert monthly.count('data-test="verbatim"') == 1


def test_the_results_page_costs_the_same_queries_with_more_responses(brand):
    survey = _answered(brand)
    client = _staff(brand, StaffRole.ANALYST)
    url = f"/console/{brand.slug}/surveys/{survey.pk}/results/"
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(5):
        response_submit(
            survey=survey,
            member=MemberFactory(brand=brand),
            answers={key(survey, "nps"): 5, key(survey, "text"): "x"},
        )
    with CaptureQueriesContext(connection) as more:
        client.get(url)
    assert len(more.captured_queries) == len(few.captured_queries)


def test_the_csv_export_has_one_row_per_response_and_is_audited(brand):
    survey = _answered(brand)
    client = _staff(brand, StaffRole.MARKETER)
    response = client.get(f"/console/{brand.slug}/surveys/{survey.pk}/export.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:6] == ["response_id", "answered_at", "member_id", "store", "sku", "locale"]
    assert len(rows) == 4
    nps_column = rows[0].index("How likely are you to recommend us?")
    assert sorted(row[nps_column] for row in rows[1:]) == ["10", "2", "9"]
    assert AuditEntry.objects.filter(action="survey.export", target_id=str(survey.pk)).count() == 1
    assert (
        _staff(brand, StaffRole.SERVICE_AGENT, "agent@example.org")
        .get(f"/console/{brand.slug}/surveys/{survey.pk}/export.csv")
        .status_code
        == 403
    )


def test_an_anonymous_surveys_export_has_no_member_column(brand):
    survey = make_survey(brand, anonymous=True)
    response_submit(survey=survey, member=MemberFactory(brand=brand), answers={key(survey, "nps"): 9})
    client = _staff(brand, StaffRole.OWNER)
    text = b"".join(
        client.get(f"/console/{brand.slug}/surveys/{survey.pk}/export.csv").streaming_content
    ).decode()  # type: ignore[attr-defined]
    assert "member_id" not in text


def test_a_service_agent_follows_up_a_detractor(brand):
    survey = _answered(brand)
    alert = SurveyAlert.objects.get(survey=survey)
    client = _staff(brand, StaffRole.SERVICE_AGENT)
    page = client.get(f"/console/{brand.slug}/surveys/alerts/").content.decode()
    assert "והשירות היה איטי" in page
    done = client.post(
        f"/console/{brand.slug}/surveys/alerts/{alert.pk}/resolve/", {"note": "Called, sent a coupon"}
    )
    assert done.status_code == 302
    alert.refresh_from_db()
    assert (alert.status, alert.note) == ("done", "Called, sent a coupon")
    assert AuditEntry.objects.filter(action="survey.alert_resolve", target_id=str(alert.pk)).exists()
    assert 'data-test="alert"' not in client.get(f"/console/{brand.slug}/surveys/alerts/").content.decode()
