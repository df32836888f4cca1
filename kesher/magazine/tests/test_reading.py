"""Reading the magazine teaches Kesher: one activity per reading (however many beacons), bounded numbers,
interests learned with a half-life, and the magazine's home in the reader's order."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from kesher.activity.models import Activity
from kesher.magazine.models import ReaderInterest, Reading
from kesher.magazine.reading import HALF_LIFE_DAYS, reading_engagement, reading_record
from kesher.magazine.selectors import articles_for_reader, interest_weights
from kesher.magazine.tests.conftest import write
from kesher.members.services import member_update
from kesher.web.accounts import memberships_link
from kesher.web.tests.conftest import club_scene

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader(brand):
    scene = club_scene(brand)
    memberships_link(user=scene.member_user)
    scene.member.refresh_from_db()
    client = Client(enforce_csrf_checks=True)
    client.force_login(scene.member_user)
    return scene, client


def _token(client: Client, brand, article) -> str:
    html = client.get(f"/magazine/{brand.slug}/{article.slug}/").content.decode()
    assert 'src="/static/magazine/reading.js"' in html
    return html.split('data-csrf="', 1)[1].split('"', 1)[0]


def _beacon(client: Client, brand, article, reading: uuid.UUID, token: str, **values: object):
    data = {"article": str(article.pk), "reading": str(reading), "csrfmiddlewaretoken": token}
    data.update({key: str(value) for key, value in values.items()})
    return client.post(f"/magazine-reading/{brand.slug}/", data)


def test_one_activity_per_reading_however_many_beacons(brand, reader):
    scene, client = reader
    article = write(brand, "Cold brew at home", interests=["coffee", "home"])
    token = _token(client, brand, article)
    reading = uuid.uuid4()
    assert _beacon(client, brand, article, reading, token, seconds=20, scroll=40).status_code == 204
    assert _beacon(client, brand, article, reading, token, seconds=90, scroll=100).status_code == 204
    assert _beacon(client, brand, article, reading, token, seconds=5, scroll=10).status_code == 204  # late
    activities = Activity.objects.filter(member=scene.member, type="article_read")
    assert activities.count() == 1
    assert activities.get().attributes == {
        "article_id": str(article.pk),
        "reading_id": str(reading),
        "interests": ["coffee", "home"],
        "seconds": 20,
        "scroll": 40,
    }
    kept = Reading.objects.get()
    assert (kept.seconds, kept.scroll) == (90, 100)  # the most of every beacon, never lowered
    worth = reading_engagement(seconds=90, scroll=100)
    assert kept.weight == pytest.approx(worth)
    weights = dict(ReaderInterest.objects.values_list("interest", "weight"))
    assert weights == {"coffee": pytest.approx(worth), "home": pytest.approx(worth)}
    # A second page view is a second reading.
    _beacon(client, brand, article, uuid.uuid4(), token, seconds=1, scroll=0)
    assert Activity.objects.filter(member=scene.member, type="article_read").count() == 2


def test_the_beacon_refuses_bad_numbers_and_keeps_nothing(brand, reader):
    _scene, client = reader
    article = write(brand, "Beans", interests=["coffee"])
    token = _token(client, brand, article)
    cases = [
        ({"seconds": "-1", "scroll": "10"}, 422, "invalid_seconds"),
        ({"seconds": "ten", "scroll": "10"}, 400, "invalid_seconds"),
        ({"seconds": "10", "scroll": "101"}, 422, "invalid_scroll"),
        ({"seconds": "10", "scroll": "1.5"}, 400, "invalid_scroll"),
    ]
    for values, status, code in cases:
        response = _beacon(client, brand, article, uuid.uuid4(), token, **values)
        assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    response = client.post(
        f"/magazine-reading/{brand.slug}/",
        {"article": str(article.pk), "reading": "nope", "csrfmiddlewaretoken": token},
    )
    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_reading")
    response = _beacon(client, brand, article, uuid.uuid4(), "forged-token", seconds=1, scroll=1)
    assert response.status_code == 403  # Django's CSRF check
    assert not Reading.objects.exists() and not Activity.objects.filter(type="article_read").exists()
    # Hours of an open tab count as the cap, not as a day of reading.
    _beacon(client, brand, article, uuid.uuid4(), token, seconds=999_999, scroll=100)
    assert Reading.objects.get().seconds == 4 * 60 * 60


def test_a_reading_id_cannot_be_taken_over_and_anonymous_readers_are_not_kept(brand, reader, other_brand):
    scene, client = reader
    article = write(brand, "Beans", interests=["coffee"])
    other = write(brand, "Milk", interests=["milk"])
    token = _token(client, brand, article)
    reading = uuid.uuid4()
    _beacon(client, brand, article, reading, token, seconds=3, scroll=3)
    response = _beacon(client, brand, other, reading, token, seconds=3, scroll=3)
    assert (response.status_code, response.json()["error"]["code"]) == (409, "reading_mismatch")
    anonymous = Client()
    html = anonymous.get(f"/magazine/{brand.slug}/{article.slug}/").content.decode()
    assert "reading.js" not in html and "data-reading-id" not in html
    response = anonymous.post(f"/magazine-reading/{brand.slug}/", {"article": str(article.pk)})
    assert response.status_code == 403
    assert Reading.objects.count() == 1


def test_learned_interests_fade_with_a_half_life(brand, reader):
    scene, _client = reader
    coffee = write(brand, "Beans", interests=["coffee"])
    tea = write(brand, "Leaves", interests=["tea"])
    reading_record(member=scene.member, article=coffee, reading_id=uuid.uuid4(), seconds=120, scroll=100)
    reading_record(member=scene.member, article=tea, reading_id=uuid.uuid4(), seconds=120, scroll=100)
    ReaderInterest.objects.filter(interest="coffee").update(
        updated_at=timezone.now() - timedelta(days=HALF_LIFE_DAYS)
    )
    weights = interest_weights(member=scene.member)
    assert weights["tea"] == 1.0
    assert weights["coffee"] == pytest.approx(0.5, abs=0.01)


def test_the_magazine_home_is_in_the_readers_order_and_editorial_for_others(brand, reader):
    scene, client = reader
    member_update(member=scene.member, changes={"interests": []})
    now = timezone.now()
    newest = write(brand, "News of the week")
    coffee = write(brand, "Cold brew", interests=["coffee"])
    tea = write(brand, "Green tea", interests=["tea"])
    for age, article in enumerate([newest, coffee, tea]):
        type(article).objects.filter(pk=article.pk).update(published_at=now - timedelta(days=age))

    def order(c: Client) -> list[str]:
        html = c.get(f"/magazine/{brand.slug}/").content.decode()
        return [part.split("</h2>", 1)[0] for part in html.split("<h2>")[1:]]

    editorial = ["News of the week", "Cold brew", "Green tea"]
    assert order(Client()) == editorial
    assert order(client) == editorial  # nothing known yet: freshness alone
    reading_record(member=scene.member, article=tea, reading_id=uuid.uuid4(), seconds=120, scroll=100)
    # Tea was read: it goes last; what it taught (tea) has nothing unread yet, so freshness decides.
    assert order(client) == ["News of the week", "Cold brew", "Green tea"]
    tea_two = write(brand, "Oolong", interests=["tea"])
    type(tea_two).objects.filter(pk=tea_two.pk).update(published_at=now - timedelta(days=5))
    assert [a.title for a in articles_for_reader(brand=brand, member=scene.member)] == [
        "Oolong",  # learned from reading: tea
        "News of the week",
        "Cold brew",
        "Green tea",  # read
    ]
    member_update(member=scene.member, changes={"interests": ["coffee"]})  # stated, counts at once
    assert [a.title for a in articles_for_reader(brand=brand, member=scene.member)][:2] == [
        "Cold brew",
        "Oolong",
    ]
    assert [a.title for a in articles_for_reader(brand=brand, member=None)] == [
        "News of the week",
        "Cold brew",
        "Green tea",
        "Oolong",
    ]


def test_the_readers_home_costs_the_same_queries_for_3_or_9_articles(
    brand, reader, django_assert_num_queries
):
    _scene, client = reader
    for number in range(3):
        write(brand, f"Article {number}", interests=["coffee"])
    client.get(f"/magazine/{brand.slug}/")
    with django_assert_num_queries(8) as few:  # session, user, brand, member, articles, readings, weights …
        client.get(f"/magazine/{brand.slug}/")
    for number in range(3, 9):
        write(brand, f"Article {number}", interests=["tea"])
    with django_assert_num_queries(len(few.captured_queries)):
        assert client.get(f"/magazine/{brand.slug}/").content.decode().count('data-test="article-card"') == 9
