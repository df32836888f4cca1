"""The magazine over the API: manage scope, idempotent writes, drafts and published articles, one brand."""

from __future__ import annotations

import pytest

from kesher.core.models import AuditEntry
from kesher.magazine.models import Article

pytestmark = pytest.mark.django_db

ARTICLE = {
    "title": "קפה של בוקר",
    "summary": "אספרסו בבית",
    "body": "טוחנים **דק**.",
    "interests": ["Coffee", "home"],
    "status": "published",
}


def test_manage_key_writes_and_lists_articles(api, brand):
    created = api.post("/magazine/articles", ARTICLE, idem="article-1")
    assert created.status == 201, created.body
    body = created.body
    assert {k: body[k] for k in ("title", "slug", "locale", "interests", "status")} == {
        "title": "קפה של בוקר",
        "slug": "קפה-של-בוקר",
        "locale": "he",
        "interests": ["coffee", "home"],
        "status": "published",
    }
    assert body["body_html"] == "<p>טוחנים <strong>דק</strong>.</p>"
    assert (
        body["url"]
        == "http://testserver/magazine/cafe/%D7%A7%D7%A4%D7%94-%D7%A9%D7%9C-%D7%91%D7%95%D7%A7%D7%A8/"
    )
    assert body["published_at"] is not None
    replay = api.post("/magazine/articles", ARTICLE, idem="article-1")
    assert (replay.status, replay.body["id"]) == (201, body["id"])
    assert Article.objects.count() == 1
    assert AuditEntry.objects.filter(action="article.publish", target_id=body["id"]).count() == 1

    draft = api.post(
        "/magazine/articles", {"title": "Plans", "body": "Soon", "locale": "en"}, idem="article-2"
    )
    assert (draft.status, draft.body["status"], draft.body["published_at"]) == (201, "draft", None)
    listed = api.get("/magazine/articles").body
    assert [item["title"] for item in listed] == ["Plans", "קפה של בוקר"]
    assert [item["title"] for item in api.get("/magazine/articles?status=published").body] == ["קפה של בוקר"]


def test_pos_key_may_not_and_bad_input_is_refused(brand, make_api):
    pos = make_api(brand, "pos")
    assert pos.post("/magazine/articles", ARTICLE).status == 403
    assert pos.get("/magazine/articles").status == 403
    manage = make_api(brand, "manage")
    assert manage.post("/magazine/articles", {**ARTICLE, "title": ""}).status == 422
    answer = manage.post("/magazine/articles", {**ARTICLE, "interests": ["a{b"]})
    assert (answer.status, answer.body["error"]["field"]) == (422, "interests")
    assert manage.post("/magazine/articles", {**ARTICLE, "extra": 1}).status == 422
    assert not Article.objects.exists()


def test_a_brand_sees_only_its_own_articles(brand, other_brand, make_api):
    make_api(brand).post("/magazine/articles", ARTICLE)
    theirs = make_api(other_brand)
    assert theirs.get("/magazine/articles").body == []
    # The same address is free in another brand.
    assert theirs.post("/magazine/articles", ARTICLE).body["slug"] == "קפה-של-בוקר"
    assert make_api(brand).post("/magazine/articles", ARTICLE).body["slug"] == "קפה-של-בוקר-2"
