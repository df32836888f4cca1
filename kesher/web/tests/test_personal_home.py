"""The member's own page: the portal's home blocks for this member (expiring points, rewards within reach,
articles for their interests, questions they could answer, threads they follow), in few queries; and the
preferences page, whose choices change what they see and get at once."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from kesher.campaigns.selectors import campaign_audience
from kesher.campaigns.services import campaign_create
from kesher.community.models import CommunityProfile, Space
from kesher.community.services import follow_set, question_ask
from kesher.community.services.authors import Author
from kesher.core.models import AuditEntry
from kesher.loyalty.models import PointsLot
from kesher.magazine.reading import reading_record
from kesher.magazine.tests.conftest import write
from kesher.members.models import ConsentEvent
from kesher.members.services import member_update
from kesher.members.tests.factories import MemberFactory
from kesher.web.accounts import memberships_link
from kesher.web.tests.conftest import ClubScene

pytestmark = pytest.mark.django_db


@pytest.fixture
def member_client(client: Client, scene: ClubScene) -> Client:
    memberships_link(user=scene.member_user)
    scene.member.refresh_from_db()
    client.force_login(scene.member_user)
    return client


def _english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _block(html: str, name: str) -> str:
    start = html.find(f'data-test="{name}"')
    return html[start : html.find("</article>", start)] if start >= 0 else ""


def test_the_home_shows_this_members_blocks(member_client, scene, brand):
    member = scene.member
    member_update(member=member, changes={"interests": ["coffee"]})
    write(brand, "Cold brew at home", interests=["coffee"])
    write(brand, "Knitting", interests=["wool"])
    read = write(brand, "Espresso basics", interests=["coffee"])
    reading_record(member=member, article=read, reading_id=uuid.uuid4(), seconds=60, scroll=80)
    lot = PointsLot.objects.filter(account_id=member.pk, remaining__gt=0).first()
    assert lot is not None
    soon = timezone.now() + timedelta(days=10)
    PointsLot.objects.filter(pk=lot.pk).update(expires_at=soon)
    general = Space.objects.get(brand=brand, slug="general")
    asker = MemberFactory(brand=brand, email="asker@example.org")
    unanswered = question_ask(
        space=general, author=Author(member=asker), title="Is the oat milk free?", body="?"
    )
    follow_set(member=member, question=unanswered)

    html = _english(member_client).get("/portal/").content.decode()
    expiring = _block(html, "home-expiring")
    assert f"{lot.remaining} points expire on" in expiring
    articles = _block(html, "home-articles")
    assert "Cold brew at home" in articles
    assert "Espresso basics" not in articles  # read already
    assert "Knitting" not in articles  # not an interest
    rewards = _block(html, "home-rewards")
    assert "900" not in rewards and "more points to go" in rewards  # the 900-point workshop, within reach
    assert "Is the oat milk free?" in _block(html, "home-threads")
    assert _block(html, "home-questions") == ""  # not (yet) a helpful member
    assert _block(html, "home-products") == ""  # nothing recommended: hidden

    CommunityProfile.objects.update_or_create(member=member, defaults={"brand": brand, "reputation": 60})
    html = _english(member_client).get("/portal/").content.decode()
    assert "Is the oat milk free?" in _block(html, "home-questions")


def test_empty_blocks_say_what_would_fill_them(member_client, scene):
    member_update(member=scene.member, changes={"interests": []})
    html = _english(member_client).get("/portal/").content.decode()
    assert "Choose your interests and the magazine will pick articles for you." in _block(
        html, "home-articles"
    )
    assert "Follow a question in the community" in _block(html, "home-threads")
    assert _block(html, "home-expiring") == ""


def test_the_home_takes_few_queries(member_client, scene, brand, django_assert_max_num_queries):
    member_update(member=scene.member, changes={"interests": ["coffee"]})
    for n in range(5):
        write(brand, f"Coffee {n}", interests=["coffee"])
    general = Space.objects.get(brand=brand, slug="general")
    for n in range(5):
        asker = MemberFactory(brand=brand, email=f"asker{n}@example.org")
        question = question_ask(
            space=general,
            author=Author(member=asker),
            title=f"Question number {n}?",
            body=f"Body of question {n}",
        )
        follow_set(member=scene.member, question=question)
    CommunityProfile.objects.update_or_create(
        member=scene.member, defaults={"brand": brand, "reputation": 60}
    )
    member_client.get("/portal/")  # sessions and the like warm
    # The portal's card (points, tier, ledger, catalog, coupons: about 20) and the blocks (about 12, and
    # the recommendations' reads), for one club card: a fixed number, however many articles or threads.
    with django_assert_max_num_queries(45):
        response = member_client.get("/portal/")
    assert response.status_code == 200


def _preferences(client: Client, member, **data):
    return client.post("/portal/preferences/", {"member": str(member.pk), **data}, REMOTE_ADDR="203.0.113.9")


def test_preferences_change_what_the_member_sees_at_once(member_client, scene, brand):
    member = scene.member
    member_update(member=member, changes={"interests": []})
    write(brand, "Cold brew", interests=["coffee"])
    write(brand, "Green tea", interests=["tea"])
    page = _english(member_client).get(f"/portal/preferences/?club={brand.slug}").content.decode()
    assert 'value="coffee"' in page and 'value="tea"' in page  # the brand's topics to choose from
    response = _preferences(member_client, member, interests=["tea"], other_interests="baking, Tea")
    assert response.status_code == 303
    member.refresh_from_db()
    assert member.interests == ["tea", "baking"]
    assert AuditEntry.objects.filter(action="member.update", target_id=str(member.pk)).exists()
    home = _english(member_client).get("/portal/").content.decode()
    assert "Green tea" in _block(home, "home-articles") and "Cold brew" not in _block(home, "home-articles")
    magazine = member_client.get(f"/magazine/{brand.slug}/").content.decode()
    assert magazine.index("Green tea") < magazine.index("Cold brew")
    _preferences(member_client, member, interests=["coffee"])
    magazine = member_client.get(f"/magazine/{brand.slug}/").content.decode()
    assert magazine.index("Cold brew") < magazine.index("Green tea")
    home = _english(member_client).get("/portal/").content.decode()
    assert "Cold brew" in _block(home, "home-articles")


def test_preferences_change_what_the_member_gets_at_once_with_proof(member_client, scene, brand):
    member = scene.member
    campaign = campaign_create(
        brand=brand, name="Offers", channel="email", subject="Hi", body="Hi", advertising=True
    )
    assert not member.consent_email
    assert member not in campaign_audience(campaign=campaign)
    _preferences(_english(member_client), member, channels=["email", "push"])
    rows = list(
        ConsentEvent.objects.filter(member=member, source="portal_preferences")
        .order_by("channel")
        .values_list("channel", "granted", "origin")
    )
    assert rows == [("email", True, "203.0.113.9"), ("push", True, "203.0.113.9")]
    wording = ConsentEvent.objects.get(member=member, channel="email", source="portal_preferences").wording
    assert wording == (  # the sentence the page showed beside the box, kept as the proof
        f"I agree to receive advertising from {brand.name} by email: offers, benefits and club news. "
        "I can withdraw at any time."
    )
    assert member in campaign_audience(campaign=campaign)
    _preferences(member_client, member, channels=["push"])
    assert member not in campaign_audience(campaign=campaign)
    assert ConsentEvent.objects.filter(member=member, channel="email", granted=False).count() == 1
    # Saving the same again records nothing more.
    _preferences(member_client, member, channels=["push"])
    assert ConsentEvent.objects.filter(member=member, source="portal_preferences").count() == 3


def test_bad_preferences_change_nothing(member_client, scene):
    member = scene.member
    before = (list(member.interests), member.consents, ConsentEvent.objects.count())
    response = _preferences(member_client, member, interests=["x"], channels=["fax"])
    assert response.status_code == 422
    member.refresh_from_db()
    assert (list(member.interests), member.consents, ConsentEvent.objects.count()) == before
    other = Client()
    other.force_login(
        MemberFactory.create(brand=scene.brand, email="someone@example.org").user or scene.staff_user
    )
    assert _preferences(other, member, interests=["x"]).status_code == 404


def test_recommended_products_show_from_the_stored_list(member_client, scene, brand):
    from kesher.recs.models import MemberList

    MemberList.objects.create(
        brand=brand,
        member=scene.member,
        kind="products",
        items=[
            {"id": "SKU-OAT", "score": 0.9, "reason": "also_bought", "title": "Oat milk 1 l"},
            {"id": "SKU-BEANS", "score": 0.5, "reason": "popular", "title": "House beans"},
        ],
        computed_at=timezone.now(),
    )
    products = _block(_english(member_client).get("/portal/").content.decode(), "home-products")
    assert products.index("Oat milk 1 l") < products.index("House beans")
    assert "Bought together with what you bought" in products
