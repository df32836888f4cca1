"""The magazine console: staff of the brand only; writers save drafts and preview them, owners and
marketers publish and withdraw, analysts only look; every change is audited."""

from __future__ import annotations

import urllib.parse

import pytest

from kesher.core.models import AuditEntry
from kesher.magazine.models import Article, ArticleStatus
from kesher.magazine.tests.conftest import staff, write

pytestmark = pytest.mark.django_db

NEW = {
    "title": "Latte art at home",
    "slug": "",
    "summary": "Three steps",
    "body": "Warm the **milk**.",
    "locale": "en",
    "interests": "Coffee, home",
}


@pytest.mark.parametrize("page", ["", "new/"])
def test_console_pages_render_in_hebrew_and_english(client, brand, page):
    staff(client, brand, "analyst")
    hebrew = client.get(f"/console/cafe/magazine/{page}", headers={"Accept-Language": "he"})
    assert hebrew.status_code == 200
    assert '<html lang="he" dir="rtl">' in hebrew.content.decode()
    client.cookies["django_language"] = "en"
    english = client.get(f"/console/cafe/magazine/{page}")
    assert '<html lang="en" dir="ltr">' in english.content.decode()


def test_strangers_and_other_brands_staff_see_nothing(client, brand, other_brand):
    article = write(brand, "Ours", publish=False)
    assert client.get("/console/cafe/magazine/").status_code == 302  # to the login page
    staff(client, other_brand, "owner")
    assert client.get("/console/cafe/magazine/").status_code == 404
    assert client.get(f"/console/shop/magazine/{article.pk}/").status_code == 404
    assert client.get(f"/console/shop/magazine/{article.pk}/preview/").status_code == 404


def test_preview_shows_the_rendered_body_without_saving(client, brand):
    staff(client, brand, "moderator")
    response = client.post("/console/cafe/magazine/new/", {**NEW, "action": "preview"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-test="preview-pane"' in html
    assert "Warm the <strong>milk</strong>." in html
    assert not Article.objects.exists()


def test_moderator_saves_a_draft_but_may_not_publish(client, brand):
    staff(client, brand, "moderator")
    saved = client.post("/console/cafe/magazine/new/", {**NEW, "action": "save"})
    assert saved.status_code == 303
    article = Article.objects.get()
    assert (article.status, article.slug, article.interests) == (
        "draft",
        "latte-art-at-home",
        ["coffee", "home"],
    )
    assert AuditEntry.objects.filter(action="article.create", target_id=str(article.pk)).count() == 1
    refused = client.post(f"/console/cafe/magazine/{article.pk}/", {**NEW, "action": "publish"})
    assert refused.status_code == 403
    article.refresh_from_db()
    assert (article.status, article.published_at) == ("draft", None)
    # The draft is the staff's to preview, nobody else's.
    assert client.get(f"/console/cafe/magazine/{article.pk}/preview/").status_code == 200
    assert client.get(f"/magazine/cafe/{article.slug}/").status_code == 404


def test_analyst_looks_but_does_not_write(client, brand):
    staff(client, brand, "analyst")
    response = client.post("/console/cafe/magazine/new/", {**NEW, "action": "save"})
    assert response.status_code == 403
    assert not Article.objects.exists()


def test_marketer_publishes_in_hebrew_then_withdraws(client, brand):
    staff(client, brand, "marketer")
    form = {**NEW, "title": "לאטה בבית", "locale": "he", "body": "מחממים את **החלב**.", "action": "publish"}
    response = client.post("/console/cafe/magazine/new/", form)
    assert response.status_code == 303
    article = Article.objects.get()
    assert (article.status, article.slug) == (ArticleStatus.PUBLISHED, "לאטה-בבית")
    assert article.published_at is not None
    public = client.get("/magazine/cafe/" + urllib.parse.quote(article.slug) + "/")
    assert public.status_code == 200
    assert "מחממים את <strong>החלב</strong>." in public.content.decode()
    withdrawn = client.post(f"/console/cafe/magazine/{article.pk}/", {"action": "unpublish"})
    assert withdrawn.status_code == 303
    assert client.get("/magazine/cafe/" + urllib.parse.quote(article.slug) + "/").status_code == 404
    actions = list(
        AuditEntry.objects.filter(target_id=str(article.pk)).order_by("pk").values_list("action", flat=True)
    )
    assert actions == ["article.publish", "article.unpublish"]


def test_a_bad_form_is_refused_and_nothing_is_written(client, brand):
    staff(client, brand, "owner")
    write(brand, "Taken", locale="en", slug="taken")
    response = client.post("/console/cafe/magazine/new/", {**NEW, "slug": "taken", "action": "save"})
    assert response.status_code == 422
    assert "Another article has the slug" in response.content.decode()
    response = client.post("/console/cafe/magazine/new/", {**NEW, "interests": "a{b", "action": "save"})
    assert response.status_code == 422
    assert list(Article.objects.values_list("slug", flat=True)) == ["taken"]


def _png() -> bytes:
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (4, 3), (200, 120, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_cover_image_is_shown_and_shared(client, brand):
    from django.core.files.uploadedfile import SimpleUploadedFile

    staff(client, brand, "owner")
    cover = SimpleUploadedFile("cover.png", _png(), content_type="image/png")
    response = client.post("/console/cafe/magazine/new/", {**NEW, "cover": cover, "action": "publish"})
    assert response.status_code == 303
    article = Article.objects.get()
    assert article.cover.name.startswith("magazine/cafe/")
    html = client.get(f"/magazine/cafe/{article.slug}/").content.decode()
    assert f'<meta property="og:image" content="http://testserver/media/{article.cover.name}">' in html
    not_an_image = SimpleUploadedFile("cover.png", b"not a picture", content_type="image/png")
    refused = client.post(
        f"/console/cafe/magazine/{article.pk}/", {**NEW, "cover": not_an_image, "action": "publish"}
    )
    assert refused.status_code == 422
    article.refresh_from_db()
    assert article.cover.name.startswith("magazine/cafe/")


def test_a_cover_photo_loses_its_position_and_is_turned_upright(client, brand, settings, tmp_path):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from kesher.core.tests.test_crypto_images import _jpeg_with_gps_rotated

    settings.MEDIA_ROOT = tmp_path
    staff(client, brand, "owner")
    cover = SimpleUploadedFile("holiday.jpg", _jpeg_with_gps_rotated(), content_type="image/jpeg")
    response = client.post("/console/cafe/magazine/new/", {**NEW, "cover": cover, "action": "save"})
    assert response.status_code == 303
    article = Article.objects.get()
    with article.cover.open() as stored, Image.open(io.BytesIO(stored.read())) as image:
        assert dict(image.getexif()) == {}  # no GPS block, no camera
        assert image.size == (200, 400)  # the EXIF rotation applied


def test_a_moderator_may_not_change_a_published_article(client, brand):
    article = write(brand, "Live", locale="en")
    staff(client, brand, "moderator")
    response = client.post(
        f"/console/cafe/magazine/{article.pk}/", {**NEW, "title": "Changed", "action": "save"}
    )
    assert response.status_code == 403
    article.refresh_from_db()
    assert article.title == "Live"
