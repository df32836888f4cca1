"""The arithmetic of the results: NPS from known answers (rounded to one decimal, halves up), CSAT as the
share of 4–5, NPS over weeks and months, CSAT by store and product, and the Hebrew-aware verbatim search."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from kesher.members.tests.factories import MemberFactory
from kesher.surveys.selectors import csat_by, nps_score, nps_trend, percent, verbatims_search
from kesher.surveys.services import response_submit
from kesher.surveys.tests.factories import key, make_survey

pytestmark = pytest.mark.django_db
ZONE = ZoneInfo("Asia/Jerusalem")


@pytest.mark.parametrize(
    ("promoters", "detractors", "responses", "nps"),
    [
        (5, 3, 10, 20.0),
        (2, 0, 3, 66.7),  # 66.666… → 66.7
        (1, 2, 3, -33.3),  # −33.333… → −33.3
        (5, 0, 8, 62.5),
        (1, 0, 8, 12.5),
        (1, 7, 8, -75.0),
        (0, 0, 4, 0.0),
        (4, 0, 4, 100.0),
        (0, 4, 4, -100.0),
        (1, 0, 16, 6.3),  # 6.25 → 6.3: halves go away from zero
        (0, 1, 16, -6.3),
        (0, 0, 0, None),
    ],
)
def test_nps_is_percent_promoters_minus_percent_detractors(promoters, detractors, responses, nps):
    assert nps_score(promoters, detractors, responses) == nps


def test_percent_rounds_to_one_decimal():
    assert (percent(3, 5), percent(2, 3), percent(1, 8), percent(0, 0)) == (60.0, 66.7, 12.5, None)


def _answer(survey, brand, nps=None, csat=None, store="", sku="", text="", at=None):
    answers = {}
    if nps is not None:
        answers[key(survey, "nps")] = nps
    if csat is not None:
        answers[key(survey, "csat")] = csat
    if text:
        answers[key(survey, "text")] = text
    return response_submit(
        survey=survey, member=MemberFactory(brand=brand), answers=answers, store=store, sku=sku, now=at
    )


def test_nps_by_week_and_by_month_in_the_brands_time_zone(brand):
    questions = [
        {"kind": "nps", "text_en": "Recommend?"},
        {"kind": "csat", "text_en": "Happy?", "required": False},
    ]
    survey = make_survey(brand, questions=questions)
    # Monday 2 Nov 2026 and Sunday 8 Nov are one week; Monday 9 Nov starts the next (and 1 Dec a month).
    for nps, day in [(10, 2), (9, 8), (3, 8), (7, 9), (0, 9), (0, 9)]:
        _answer(survey, brand, nps=nps, at=datetime(2026, 11, day, 10, tzinfo=ZONE))
    _answer(survey, brand, nps=10, at=datetime(2026, 12, 1, 0, 30, tzinfo=ZONE))  # still 30 Nov in UTC
    weeks = [
        (p.period, p.promoters, p.passives, p.detractors, p.responses, p.nps)
        for p in nps_trend(survey=survey)
    ]
    assert weeks == [
        ("2026-11-02", 2, 0, 1, 3, 33.3),
        ("2026-11-09", 0, 1, 2, 3, -66.7),
        ("2026-11-30", 1, 0, 0, 1, 100.0),
    ]
    months = [(p.period, p.responses, p.nps) for p in nps_trend(survey=survey, by="month")]
    assert months == [("2026-11", 6, -16.7), ("2026-12", 1, 100.0)]


def test_csat_by_store_and_by_product(brand):
    survey = make_survey(brand)
    for csat, store, sku in [
        (5, "Dizengoff", "LATTE"),
        (4, "Dizengoff", "CAKE"),
        (2, "Dizengoff", "LATTE"),
        (5, "Haifa", "LATTE"),
        (1, "Haifa", "CAKE"),
    ]:
        _answer(survey, brand, nps=8, csat=csat, store=store, sku=sku)
    _answer(survey, brand, nps=8)  # no CSAT answer: not counted
    stores = [(g.name, g.responses, g.satisfied, g.csat) for g in csat_by(survey=survey, by="store")]
    assert stores == [("Dizengoff", 3, 2, 66.7), ("Haifa", 2, 1, 50.0)]
    products = [(g.name, g.responses, g.csat) for g in csat_by(survey=survey, by="sku")]
    assert products == [("LATTE", 3, 66.7), ("CAKE", 2, 50.0)]


def test_verbatims_are_found_with_hebrew_prefix_letters_and_english_stems(brand):
    survey = make_survey(brand)
    _answer(survey, brand, nps=3, text="השירות היה איטי מאוד")
    _answer(survey, brand, nps=9, text="אהבתי את העוגה")
    _answer(survey, brand, nps=9, text="Great service, friendly staff")
    _answer(survey, brand, nps=4, text="אמנות על הקירות")  # art: א is no prefix letter
    found = {v["text"] for v in verbatims_search(survey=survey, query="ושירות")}
    assert found == {"השירות היה איטי מאוד"}
    assert {v["text"] for v in verbatims_search(survey=survey, query="services")} == {
        "Great service, friendly staff"
    }
    assert {v["text"] for v in verbatims_search(survey=survey, query="לעוגה")} == {"אהבתי את העוגה"}
    assert verbatims_search(survey=survey, query="נאמנות") == []
    assert {v["text"] for v in verbatims_search(survey=survey, query="השירות איטי")} == {
        "השירות היה איטי מאוד"
    }
    assert len(verbatims_search(survey=survey)) == 4
