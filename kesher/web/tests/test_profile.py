"""The member's own details in the portal: names, phone however typed, birthday, language, interests."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from django.conf import settings

from kesher.core.models import AuditEntry
from kesher.members.models import Member
from kesher.web.accounts import memberships_link

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, scene):
    memberships_link(user=scene.member_user)
    client.force_login(scene.member_user)
    return client


def _form(scene, **changes: Any) -> dict[str, Any]:
    form = {
        "member": str(scene.member.pk),
        "first_name": "נועה",
        "last_name": "לוי",
        "phone": "050-123-4567",
        "birthday": "",
        "locale": "he",
        "interests": "",
    }
    form.update(changes)
    return form


def _row(member: Member) -> tuple[Any, ...]:
    member.refresh_from_db()
    return member.first_name, member.last_name, member.phone, member.birthday, member.locale, member.interests


def test_the_portal_greets_the_member_by_the_name_on_the_card_and_links_their_club(signed_in, scene):
    html = signed_in.get("/portal/").content.decode()
    assert '<h1 class="greeting" data-test="greeting">שלום, נועה</h1>' in html
    assert 'href="/community/cafe/" data-test="community-link"' in html
    assert 'href="/magazine/cafe/" data-test="magazine-link"' in html
    assert 'href="/portal/profile/?club=cafe" data-test="profile-link"' in html


def test_the_member_changes_their_details_typed_as_people_type_them(signed_in, scene):
    response = signed_in.post(
        "/portal/profile/",
        _form(
            scene,
            first_name=" נועה ",
            last_name="לוי-כהן",
            phone="+972 52 765 4321",
            birthday="1991-02-03",
            interests="קפה, מאפים , קפה",
        ),
    )
    assert (response.status_code, response["Location"]) == (303, "/portal/profile/?club=cafe")
    assert _row(scene.member) == (
        "נועה",
        "לוי-כהן",
        "+972527654321",
        date(1991, 2, 3),
        "he",
        ["קפה", "מאפים"],
    )
    entry = AuditEntry.objects.get(action="member.update", target_id=str(scene.member.pk))
    assert entry.actor_user_id == scene.member_user.pk
    page = signed_in.get(response["Location"]).content.decode()
    assert 'value="052-765-4321"' in page and "הפרטים שלך נשמרו." in page


def test_choosing_english_switches_the_pages_too(signed_in, scene):
    response = signed_in.post("/portal/profile/", _form(scene, locale="en"))
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert _row(scene.member)[4] == "en"
    page = signed_in.get(response["Location"]).content.decode()
    assert '<html lang="en" dir="ltr">' in page and "Your details were saved." in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"phone": "12"}, "phone", "זה לא נראה כמו מספר טלפון"),
        ({"birthday": "2999-01-01"}, "birthday", "תאריך הלידה צריך להיות בעבר"),
        ({"first_name": ""}, "first_name", ""),
    ],
)
def test_a_bad_detail_is_shown_on_its_field_and_nothing_changes(signed_in, scene, changes, field, message):
    before = _row(scene.member)
    response = signed_in.post("/portal/profile/", _form(scene, last_name="אחר", **changes))
    html = response.content.decode()
    assert response.status_code == 422
    error = re.search(rf'data-test="error-{field}">(.*?)</span>', html)
    assert error and message in error.group(1)
    assert _row(scene.member) == before
    assert not AuditEntry.objects.filter(action="member.update").exists()


def test_another_persons_card_cannot_be_changed(client, scene, brand):
    from kesher.members.tests.factories import MemberFactory
    from kesher.web.tests.conftest import make_user

    MemberFactory(brand=brand, email="else@example.org", first_name="אחר")
    someone = make_user("else@example.org")
    memberships_link(user=someone)
    client.force_login(someone)
    before = _row(scene.member)
    assert client.post("/portal/profile/", _form(scene, first_name="פורץ")).status_code == 404
    assert _row(scene.member) == before
