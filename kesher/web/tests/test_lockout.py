"""One lock-out policy at every sign-in page: wrong passwords lock a login from an address wherever they
were typed, a lock holds at the other pages, a correct password is refused while locked, the cool-off and
staff release it (audited), a success clears the count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import translation

from kesher.brands.models import StaffRole
from kesher.brands.services import staff_grant
from kesher.cli import main
from kesher.core.models import AuditEntry
from kesher.members.models import Member
from kesher.members.tests.factories import MemberFactory
from kesher.web.tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db

LIMIT = 5
OTHER_ADDRESS = "192.0.2.7"  # a documentation address: only a value in the test request, no traffic


def _sign_in(client: Client, path: str, login: str, password: str, address: str = "127.0.0.1"):
    if path == "admin":
        data = {"username": login, "password": password, "next": "/admin/"}
        return client.post("/admin/login/?next=/admin/", data, REMOTE_ADDR=address)
    return client.post("/accounts/login/", {"login": login, "password": password}, REMOTE_ADDR=address)


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def staff(brand):
    """An owner of the café: signs in as "dana@example.org" on the accounts page and "dana" at the admin."""
    user = get_user_model().objects.create_user(username="dana", email="dana@example.org", password=PASSWORD)
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=user, email="dana@example.org", verified=True, primary=True)
    staff_grant(brand=brand, user=user, role=StaffRole.OWNER)
    return user


LOGINS = {"accounts": "dana@example.org", "admin": "dana"}


@pytest.mark.parametrize("path", ["accounts", "admin"])
def test_wrong_passwords_lock_out_and_then_the_right_one_is_refused(staff, path, settings):
    assert settings.AXES_FAILURE_LIMIT == LIMIT
    client = Client()
    answers = [_sign_in(client, path, LOGINS[path], f"wrong-{n}").status_code for n in range(LIMIT)]
    # The first four are the form again with its error; the fifth is the lock-out page.
    assert answers == [200] * (LIMIT - 1) + [429]

    locked = _sign_in(client, path, LOGINS[path], PASSWORD)

    assert locked.status_code == 429
    assert 'data-test="locked-out"' in locked.content.decode()
    assert not _signed_in(client)


@pytest.mark.parametrize(("locked_at", "tried_at"), [("accounts", "admin"), ("admin", "accounts")])
def test_a_lock_at_one_page_holds_at_the_other(staff, locked_at, tried_at):
    for n in range(LIMIT):
        _sign_in(Client(), locked_at, LOGINS[locked_at], f"wrong-{n}")
    client = Client()

    response = _sign_in(client, tried_at, LOGINS[tried_at], PASSWORD)

    assert response.status_code == 429
    assert not _signed_in(client)
    # Counted under one key, the account's username, whichever way the login was typed.
    assert set(AccessAttempt.objects.values_list("username", flat=True)) == {"dana"}


def test_the_email_is_matched_whatever_its_case(staff):
    for n in range(LIMIT):
        _sign_in(Client(), "accounts", "Dana@Example.ORG" if n % 2 else "dana@example.org", f"wrong-{n}")
    assert _sign_in(Client(), "admin", "dana", PASSWORD).status_code == 429


def test_the_cool_off_releases_the_lock(staff, settings):
    for n in range(LIMIT):
        _sign_in(Client(), "accounts", "dana@example.org", f"wrong-{n}")
    client = Client()
    assert _sign_in(client, "accounts", "dana@example.org", PASSWORD).status_code == 429

    # The last wrong password was longer ago than the cool-off.
    AccessAttempt.objects.update(
        attempt_time=(
            AccessAttempt.objects.get().attempt_time - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
        )
    )

    response = _sign_in(client, "accounts", "dana@example.org", PASSWORD)
    assert response.status_code == 302
    assert _signed_in(client)


def test_a_success_clears_the_count(staff):
    for n in range(LIMIT - 1):
        _sign_in(Client(), "accounts", "dana@example.org", f"wrong-{n}")
    client = Client()
    assert _sign_in(client, "admin", "dana", PASSWORD).status_code == 302
    assert _signed_in(client)
    assert not AccessAttempt.objects.exists()

    # Four more wrong ones do not lock: the count started again at the success.
    answers = [_sign_in(Client(), "accounts", "dana@example.org", f"again-{n}").status_code for n in range(4)]
    assert answers == [200] * 4
    assert _sign_in(Client(), "accounts", "dana@example.org", PASSWORD).status_code == 302


def test_a_guesser_elsewhere_does_not_lock_the_member_out(staff):
    for n in range(LIMIT + 3):
        _sign_in(Client(), "accounts", "dana@example.org", f"wrong-{n}", address=OTHER_ADDRESS)
    assert (
        _sign_in(Client(), "accounts", "dana@example.org", "wrong", address=OTHER_ADDRESS).status_code == 429
    )

    client = Client()
    assert _sign_in(client, "accounts", "dana@example.org", PASSWORD).status_code == 302
    assert _signed_in(client)


def test_an_address_trying_many_logins_is_locked(staff, settings):
    settings.KESHER_LOGIN_ADDRESS_FAILURE_LIMIT = 12
    # Credential stuffing: one address, a different login each time, never five on one login.
    answers = [
        _sign_in(Client(), "accounts", f"someone{n}@example.org", "leaked", address=OTHER_ADDRESS).status_code
        for n in range(12)
    ]
    assert answers == [200] * 11 + [429]
    client = Client()
    # Even a real account's right password is refused from that address now; from another it works.
    assert _sign_in(client, "admin", "dana", PASSWORD, address=OTHER_ADDRESS).status_code == 429
    assert not _signed_in(client)
    assert _sign_in(client, "admin", "dana", PASSWORD).status_code == 302


def test_signing_in_does_not_clear_the_address_count(staff, settings):
    settings.KESHER_LOGIN_ADDRESS_FAILURE_LIMIT = 10
    for n in range(9):
        _sign_in(Client(), "accounts", f"someone{n}@example.org", "leaked", address=OTHER_ADDRESS)
    # The attacker signs in to an account of their own between tries; the address's count stays.
    assert (
        _sign_in(Client(), "accounts", "dana@example.org", PASSWORD, address=OTHER_ADDRESS).status_code == 302
    )
    assert _sign_in(Client(), "accounts", "x@example.org", "leaked", address=OTHER_ADDRESS).status_code == 429


def test_the_lock_out_page_speaks_the_visitors_language(staff):
    for n in range(LIMIT):
        _sign_in(Client(), "accounts", "dana@example.org", f"wrong-{n}")
    hebrew = _sign_in(Client(), "accounts", "dana@example.org", PASSWORD).content.decode()
    english_client = Client(headers={"Accept-Language": "en"})
    english_client.cookies["django_language"] = "en"
    english = _sign_in(english_client, "accounts", "dana@example.org", PASSWORD).content.decode()

    assert 'dir="rtl"' in hebrew and "ההתחברות מושהית" in hebrew and "15 דקות" in hebrew
    assert 'dir="ltr"' in english and "Signing in is paused" in english and "15 minutes" in english
    translation.activate("he")


def test_the_cli_lists_and_unlocks_and_the_unlock_is_audited(staff, brand, capsys):
    for n in range(LIMIT):
        _sign_in(Client(), "accounts", "dana@example.org", f"wrong-{n}")
    assert main(["login", "locked"]) == 0
    listing = capsys.readouterr().out
    assert "dana" in listing and "127.0.0.1" in listing and "1 logins or addresses" in listing

    assert main(["login", "unlock", "--login", "Dana@example.org"]) == 0
    assert "1 counted attempts removed" in capsys.readouterr().out

    client = Client()
    assert _sign_in(client, "accounts", "dana@example.org", PASSWORD).status_code == 302
    entry = AuditEntry.objects.get(action="login.unlock")
    assert (entry.brand_id, entry.target_id, entry.actor_user_id) == (brand.pk, "dana", None)
    assert entry.data == {"login": "dana", "address": None, "attempts_removed": 1, "by": "system"}


def test_the_cli_refuses_an_unlock_naming_nothing(capsys):
    assert main(["login", "unlock"]) == 1
    assert "name a login" in capsys.readouterr().err


def test_an_installation_admin_unlocks_from_the_admin_and_it_is_audited(brand, other_brand):
    member_user = make_user("noa@example.org")
    card = MemberFactory(brand=other_brand, email="noa@example.org")
    Member.objects.filter(pk=card.pk).update(user=member_user)
    for n in range(LIMIT):
        _sign_in(Client(), "accounts", "noa@example.org", f"wrong-{n}")
    admin_user = get_user_model().objects.create_superuser("root", "root@example.org", PASSWORD)
    admin = Client()
    admin.force_login(admin_user)
    attempt = AccessAttempt.objects.get()

    listing = admin.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200 and "noa@example.org" in listing.content.decode()
    response = admin.post(
        "/admin/axes/accessattempt/", {"action": "unlock", "_selected_action": [attempt.pk]}
    )

    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    entry = AuditEntry.objects.get(action="login.unlock")
    assert (entry.brand_id, entry.actor_user_id) == (other_brand.pk, admin_user.pk)
    assert _sign_in(Client(), "accounts", "noa@example.org", PASSWORD).status_code == 302


def test_a_brand_owner_cannot_see_or_unlock_sign_ins(staff):
    for n in range(LIMIT):
        _sign_in(Client(), "accounts", "someone@example.org", f"wrong-{n}")
    owner = Client()
    owner.force_login(staff)
    attempt = AccessAttempt.objects.get()

    assert owner.get("/admin/axes/accessattempt/").status_code == 403
    response = owner.post(
        "/admin/axes/accessattempt/", {"action": "unlock", "_selected_action": [attempt.pk]}
    )

    assert response.status_code == 403
    assert AccessAttempt.objects.filter(pk=attempt.pk).exists()
    assert not AuditEntry.objects.filter(action="login.unlock").exists()
