"""Joining a club from its public page: the member, the consent proof and the referral, or nothing at all."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.utils import timezone

from kesher.loyalty.models import Referral
from kesher.members.models import ConsentEvent, Member
from kesher.web.accounts import memberships_link
from kesher.web.tests.conftest import make_user

pytestmark = pytest.mark.django_db

EMAIL_WORDING_HE = (
    "אני מסכים/ה לקבל ממועדון קפה טוב דברי פרסומת בדואר אלקטרוני: מבצעים, הטבות וחדשות המועדון. "
    "אפשר לבטל את ההסכמה בכל עת."
)
SMS_WORDING_HE = (
    "אני מסכים/ה לקבל ממועדון קפה טוב דברי פרסומת במסרונים (SMS): מבצעים, הטבות וחדשות המועדון. "
    "אפשר לבטל את ההסכמה בכל עת."
)
EMAIL_WORDING_EN = (
    "I agree to receive advertising from קפה טוב by email: offers, benefits and club news. "
    "I can withdraw at any time."
)


def _form(**changes: Any) -> dict[str, Any]:
    form = {
        "first_name": "  דן ",
        "last_name": "כהן",
        "email": "Dan@Example.org",
        "phone": "052-123-4567",
        "birthday": "1990-05-04",
        "consent_email": "on",
        "ref": "",
    }
    form.update(changes)
    return {key: value for key, value in form.items() if value is not None}


def _field_error(html: str, field: str) -> str:
    found = re.search(rf'data-test="error-{field}">(.*?)</span>', html, re.S)
    assert found, f"no error on {field}"
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def _nothing_created(before: tuple[int, int, int]) -> bool:
    return (Member.objects.count(), ConsentEvent.objects.count(), Referral.objects.count()) == before


def _counts() -> tuple[int, int, int]:
    return Member.objects.count(), ConsentEvent.objects.count(), Referral.objects.count()


def test_the_form_shows_the_consent_wording_and_the_friends_code(client, scene):
    html = client.get(f"/join/cafe/?ref={scene.member.referral_code.lower()}").content.decode()
    assert "הצטרפות למועדון <bdi>קפה טוב</bdi>" in html
    assert f'data-test="wording-email">{EMAIL_WORDING_HE}</label>' in html
    assert f'data-test="wording-sms">{SMS_WORDING_HE}</label>' in html
    assert f'name="ref" type="text" value="{scene.member.referral_code}"' in html
    assert 'data-test="invited"' in html
    assert 'name="consent_email" type="checkbox">' in html  # never ticked for them


def test_joining_creates_the_member_with_consent_proof_and_the_referral(client, scene):
    response = client.post(
        f"/join/cafe/?ref={scene.member.referral_code}",
        _form(ref=scene.member.referral_code.lower()),
        REMOTE_ADDR="203.0.113.7",
    )

    assert response.status_code == 303
    assert response["Location"] == "/join/cafe/card/"
    member = Member.objects.get(brand=scene.brand, email="dan@example.org")
    assert (member.first_name, member.last_name, member.phone, member.birthday) == (
        "דן",
        "כהן",
        "+972521234567",
        date(1990, 5, 4),
    )
    assert (member.source, member.locale, member.status, member.user_id) == ("web", "he", "active", None)
    assert (member.consent_email, member.consent_sms) == (True, False)
    assert member.referred_by == scene.member
    proofs = {event.channel: event for event in ConsentEvent.objects.filter(member=member)}
    assert {channel: event.granted for channel, event in proofs.items()} == {"email": True, "sms": False}
    for event in proofs.values():
        assert event.wording == f"email: {EMAIL_WORDING_HE}\nsms: {SMS_WORDING_HE}"
        assert (event.origin, event.source) == ("203.0.113.7", "web")
    referral = Referral.objects.get(friend=member)
    assert (referral.referrer, referral.status, referral.suspicions) == (scene.member, "joined", [])

    # The second screen is the card itself, usable at the till; choosing a password is offered there.
    card = client.get(response["Location"])
    html = card.content.decode()
    assert card.status_code == 200
    assert f"ברוכים הבאים למועדון קפה טוב! מספר הכרטיס שלך: {member.card_number[:4]} " in html
    assert re.search(r'data-test="card-number">' + " ".join(re.findall(".{1,4}", member.card_number)), html)
    assert "הכרטיס שלך, דן" in html
    signup_url = re.search(r'href="([^"]+)" data-test="choose-password"', html)
    assert signup_url is not None and signup_url.group(1) == "/accounts/signup/?email=dan%40example.org"
    signup = client.get(signup_url.group(1)).content.decode()
    assert re.search(r'<input[^>]*name="email"[^>]*value="dan@example.org"', signup)


def test_the_new_card_is_shown_only_to_the_browser_that_joined(client, scene):
    client.post("/join/cafe/", _form())
    stranger = Client()
    response = stranger.get("/join/cafe/card/")
    assert (response.status_code, response["Location"]) == (302, "/join/cafe/")


def test_joining_in_english_keeps_the_english_wording_and_language(client, scene):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post("/join/cafe/", _form(consent_sms="on"))
    assert response.status_code == 303
    member = Member.objects.get(email="dan@example.org")
    assert (member.locale, member.consent_email, member.consent_sms, member.referred_by) == (
        "en",
        True,
        True,
        None,
    )
    event = ConsentEvent.objects.get(member=member, channel="email")
    assert event.wording.startswith(f"email: {EMAIL_WORDING_EN}\nsms: I agree to receive advertising")
    assert not Referral.objects.filter(friend=member).exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"phone": "12"},
            "phone",
            "זה לא נראה כמו מספר טלפון. אפשר לכתוב למשל 050-1234567 או בכל צורה אחרת.",
        ),
        (
            {"phone": "not a phone"},
            "phone",
            "זה לא נראה כמו מספר טלפון. אפשר לכתוב למשל 050-1234567 או בכל צורה אחרת.",
        ),
        (
            {"email": "noa@example.org"},
            "email",
            "כתובת הדוא״ל הזו כבר רשומה במועדון. אפשר להתחבר ולראות את הכרטיס.",
        ),
        (
            {"email": "NOA@example.org "},
            "email",
            "כתובת הדוא״ל הזו כבר רשומה במועדון. אפשר להתחבר ולראות את הכרטיס.",
        ),
        (
            {"ref": "NOSUCHCODE"},
            "ref",
            "אין חבר מועדון עם קוד ההזמנה הזה. כדאי לבדוק אותו, או להשאיר את השדה ריק.",
        ),
        ({"birthday": "2999-01-01"}, "birthday", "תאריך הלידה צריך להיות בעבר."),
        ({"first_name": ""}, "first_name", "יש להזין תוכן בשדה זה."),
    ],
)
def test_bad_input_is_shown_on_its_field_and_creates_nothing(client, scene, changes, field, message):
    before = _counts()
    response = client.post("/join/cafe/", _form(**changes))
    assert response.status_code == 422
    html = response.content.decode()
    assert _field_error(html, field).startswith(message)
    assert 'aria-invalid="true"' in html
    assert 'value="כהן"' in html  # what they typed is kept
    assert _nothing_created(before)


def test_a_taken_email_offers_to_sign_in_in_english(client, scene):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post("/join/cafe/", _form(email="noa@example.org"))
    html = response.content.decode()
    assert _field_error(html, "email") == (
        "This email address is already in the club. Sign in to see your card. Sign in"
    )
    assert 'href="/accounts/login/"' in html


def test_a_future_birthday_and_a_bad_phone_in_english(client, scene):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    tomorrow = (timezone.localdate() + timedelta(days=2)).isoformat()
    html = client.post("/join/cafe/", _form(phone="050")).content.decode()
    assert _field_error(html, "phone") == (
        "This does not look like a phone number. Any form works, such as 050-1234567."
    )
    html = client.post("/join/cafe/", _form(birthday=tomorrow)).content.decode()
    assert _field_error(html, "birthday") == "The birthday must be a date in the past."


@pytest.mark.parametrize("typed", ["0521234567", "+972 52-123-4567", "052 123 4567"])
def test_any_local_form_of_the_phone_works(client, scene, typed):
    assert client.post("/join/cafe/", _form(phone=typed, birthday="")).status_code == 303
    member = Member.objects.get(email="dan@example.org")
    assert (member.phone, member.birthday) == ("+972521234567", None)


def test_an_unknown_club_is_not_found(client, db):
    assert client.get("/join/nowhere/").status_code == 404
    assert client.post("/join/nowhere/", _form()).status_code == 404


def test_a_member_already_signed_in_is_told_so_and_nothing_is_created(client, scene):
    memberships_link(user=scene.member_user)
    client.force_login(scene.member_user)
    before = _counts()
    page = client.get("/join/cafe/")
    assert 'data-test="already-member"' in page.content.decode()
    assert client.post("/join/cafe/", _form()).status_code == 200
    assert _nothing_created(before)


def test_a_signed_in_person_who_joins_gets_the_card_linked(client, scene):
    user = make_user("dan@example.org")
    client.force_login(user)
    response = client.post("/join/cafe/", _form())
    assert (response.status_code, response["Location"]) == (303, "/portal/#club-cafe")
    member = Member.objects.get(email="dan@example.org")
    assert member.user_id == user.pk
    assert client.get("/portal/").context["cards"][0]["member"] == member


def test_the_form_needs_csrf(scene):
    strict = Client(enforce_csrf_checks=True)
    before = _counts()
    assert strict.post("/join/cafe/", _form()).status_code == 403
    assert _nothing_created(before)


def test_the_signup_that_follows_links_the_new_card_once_the_address_is_confirmed(client, scene, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    client.post("/join/cafe/", _form())
    password = "another correct horse battery"
    client.post(
        "/accounts/signup/", {"email": "dan@example.org", "password1": password, "password2": password}
    )
    member = Member.objects.get(email="dan@example.org")
    assert member.user_id is None  # not proven yet

    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)", mail.outbox[-1].body)
    assert link is not None
    client.post(link.group(1))
    member.refresh_from_db()
    assert member.user is not None and member.user.email == "dan@example.org"
