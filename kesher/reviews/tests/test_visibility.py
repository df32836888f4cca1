"""What the public sees and what another brand can reach: held and rejected reviews are invisible, and
brand B's key can neither read nor write brand A's reviews (404, nothing changed)."""

from __future__ import annotations

import pytest

from kesher.core.tests.fingerprint import changed_models, rows_fingerprint
from kesher.reviews.models import ReviewSettings

pytestmark = pytest.mark.django_db


def _review(api, member, **kw):
    body = {
        "member_id": str(member.pk),
        "sku": "TRENCH-1",
        "rating": 3,
        "title": "Coat",
        "body": "It is a coat.",
    }
    return api.post("/reviews", {**body, **kw}).body


def test_held_and_rejected_reviews_are_invisible_to_the_public(api, make_api, brand, make_member, client):
    ReviewSettings.objects.create(brand=brand, require_purchase=True)
    held = _review(api, make_member("Held"), title="HELD TITLE")
    rejected = _review(api, make_member("Rejected"), title="REJECTED TITLE")
    api.post(f"/reviews/{rejected['id']}/moderation", {"action": "reject", "reason": "abuse"})
    pos = make_api(brand, "pos")

    assert pos.get(f"/reviews/{held['id']}").status == 404
    assert pos.get(f"/reviews/{rejected['id']}").status == 404
    assert pos.get("/products/TRENCH-1/reviews").body["items"] == []
    assert pos.get("/products/TRENCH-1/rating").body["count"] == 0
    for page in (f"/reviews/{brand.slug}/p/TRENCH-1/", f"/reviews/{brand.slug}/p/TRENCH-1/widget/"):
        html = client.get(page).content.decode()
        assert "HELD TITLE" not in html and "REJECTED TITLE" not in html
    assert api.get("/reviews/queue").body[0]["signals"] == ["no_purchase"]
    assert pos.get("/reviews/queue").status == 403


def test_another_brands_key_cannot_read_or_write_this_brands_reviews(
    api, make_api, brand, other_brand, make_member
):
    noa = make_member("Noa")
    review = _review(api, noa)
    theirs = make_api(other_brand, "all")
    before = rows_fingerprint()

    answers = [
        theirs.get(f"/reviews/{review['id']}"),
        theirs.post(
            "/reviews", {"member_id": str(noa.pk), "sku": "X", "rating": 5, "title": "t", "body": "b"}
        ),
        theirs.post(f"/reviews/{review['id']}/helpful", {"member_id": str(noa.pk)}),
        theirs.post(f"/reviews/{review['id']}/reply", {"body": "Not yours"}),
        theirs.post(f"/reviews/{review['id']}/moderation", {"action": "reject", "reason": "spam"}),
    ]

    assert [a.status for a in answers] == [404] * 5
    assert changed_models(before, rows_fingerprint()) == []
    assert theirs.get("/products/TRENCH-1/rating").body["count"] == 0
    assert theirs.get("/products/TRENCH-1/reviews").body["items"] == []
