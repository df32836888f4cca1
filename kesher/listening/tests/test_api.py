"""POST /api/v1/mentions once per (source, external_id); GET /api/v1/mentions by sentiment, topic, source."""

from __future__ import annotations

import pytest

from kesher.core.tests.fingerprint import changed_models, rows_fingerprint
from kesher.listening.models import Mention
from kesher.service.models import Case

pytestmark = pytest.mark.django_db

BODY = {
    "source": "twitter",
    "external_id": "1870000000000000001",
    "url": "https://x.com/dana/status/1870000000000000001",
    "author": {"handle": "dana_tlv", "name": "Dana", "followers": 25_000},
    "text": "The delivery never arrived and nobody answers the phone. Terrible service!",
    "posted_at": "2026-12-01T09:30:00+02:00",
}


def test_a_mention_is_taken_in_once_and_the_same_again_answers_the_first(api, brand):
    first = api.post("/mentions", BODY)
    assert first.status == 201, first.body
    assert set(first.body) == {"id", "sentiment", "topics", "priority", "case_id"}
    assert first.body["sentiment"] == "negative"
    assert "delivery" in first.body["topics"]
    assert first.body["priority"] in ("high", "urgent")  # negative, from 25,000 followers
    assert Case.objects.get(pk=first.body["case_id"]).channel == "mention"
    before = rows_fingerprint()
    again = api.post("/mentions", {**BODY, "text": "edited later"})
    assert again.status == 200 and again.body == first.body
    assert changed_models(before, rows_fingerprint()) == []
    assert Mention.objects.filter(brand=brand).count() == 1


def test_same_external_id_from_another_source_or_brand_is_another_mention(api, brand, other_brand, make_api):
    assert api.post("/mentions", BODY).status == 201
    assert api.post("/mentions", {**BODY, "source": "facebook"}).status == 201
    assert make_api(other_brand, "manage").post("/mentions", BODY).status == 201
    assert Mention.objects.filter(brand=brand).count() == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"source": "Bad Source"}, "source"),
        ({"text": ""}, "text"),
        ({"posted_at": "2026-12-01T09:30:00"}, "posted_at"),
        ({"posted_at": "yesterday"}, "posted_at"),
        ({"author": {"followers": -1}}, "author.followers"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_a_422_naming_the_field_and_nothing_is_written(api, change, field):
    before = rows_fingerprint()
    answer = api.post("/mentions", {**BODY, **change})
    assert answer.status == 422, answer.body
    assert answer.body["error"]["field"] == field
    assert [m for m in changed_models(before, rows_fingerprint()) if not m.startswith("core.")] == []


def test_a_pos_key_may_not_post_or_read_mentions(brand, make_api):
    pos = make_api(brand, "pos")
    assert pos.post("/mentions", BODY).status == 403
    assert pos.get("/mentions").status == 403
    assert Mention.objects.count() == 0


def test_the_stream_filters_and_pages(api, brand, other_brand, make_api):
    texts = [
        ("1", "twitter", "Great coffee, lovely staff, thank you"),
        ("2", "twitter", "The delivery was late and the price too high, awful"),
        ("3", "facebook", "Delivery was fast and wonderful, love it"),
        ("4", "facebook", "Opening hours on Friday?"),
    ]
    for n, (external_id, source, text) in enumerate(texts):
        body = {**BODY, "external_id": external_id, "source": source, "text": text}
        body["posted_at"] = f"2026-12-0{n + 1}T10:00:00Z"
        assert api.post("/mentions", body).status == 201
    make_api(other_brand, "manage").post("/mentions", {**BODY, "external_id": "theirs"})
    everything = api.get("/mentions").body
    assert [m["external_id"] for m in everything["items"]] == ["4", "3", "2", "1"]
    assert everything["next_cursor"] is None
    assert [m["external_id"] for m in api.get("/mentions?sentiment=negative").body["items"]] == ["2"]
    assert [m["external_id"] for m in api.get("/mentions?topic=delivery").body["items"]] == ["3", "2"]
    assert [m["external_id"] for m in api.get("/mentions?source=facebook").body["items"]] == ["4", "3"]
    first = api.get("/mentions?limit=3").body
    assert len(first["items"]) == 3 and first["next_cursor"]
    rest = api.get(f"/mentions?limit=3&cursor={first['next_cursor']}").body
    assert [m["external_id"] for m in rest["items"]] == ["1"] and rest["next_cursor"] is None
    one = everything["items"][0]
    assert one["author"] == {"handle": "dana_tlv", "name": "Dana", "followers": 25_000, "member_id": None}
    assert api.get("/mentions?sentiment=angry").status == 422
    assert api.get("/mentions?cursor=nonsense").body["error"]["code"] == "invalid_cursor"
