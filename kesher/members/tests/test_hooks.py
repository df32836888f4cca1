"""A new member gets what the parts above keep for them inside member_create's transaction, at the same
two moments as before: the points account before the consents, the `signup` after them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from kesher.activity.models import Activity
from kesher.loyalty.models import PointsAccount
from kesher.members import hooks
from kesher.members.hooks import on_member_created, on_member_joined
from kesher.members.models import ConsentEvent, Member
from kesher.members.services import member_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def registered(monkeypatch):
    """The registered hooks, restored after the test whatever it registers."""
    monkeypatch.setattr(hooks, "_created", list(hooks._created))
    monkeypatch.setattr(hooks, "_joined", list(hooks._joined))


def _state(member: Member) -> dict[str, Any]:
    signups = Activity.objects.filter(member=member, type="signup")
    return {
        "account": PointsAccount.objects.filter(member=member).exists(),
        "consents": ConsentEvent.objects.filter(member=member).count(),
        "signups": list(signups.values_list("source", flat=True)),
    }


def test_the_account_opens_before_the_consents_and_the_signup_follows_them(brand, registered):
    # loyalty opens the account; customers then checks the newcomer against the brand's members (issue 18)
    assert [hook.__name__ for hook in hooks._created] == ["account_open", "member_arrived"]
    assert [hook.__name__ for hook in hooks._joined] == ["signup_record"]
    seen: dict[str, Any] = {}

    def after_create(*, member: Member) -> None:
        seen["created"] = _state(member)

    def after_join(*, member: Member, source: str, at: datetime, referrer: Member | None) -> None:
        seen["joined"] = {**_state(member), "source": source, "at": at, "referrer": referrer}

    on_member_created(after_create)
    on_member_joined(after_join)
    referrer = member_create(brand=brand, email="dana@example.org")
    joined_at = datetime.fromisoformat("2026-03-01T09:00:00+02:00")
    noa = member_create(
        brand=brand,
        email="noa@example.org",
        source="store",
        consents={"email": True, "sms": False},
        referral_code=referrer.referral_code,
        joined_at=joined_at,
    )
    assert seen["created"] == {"account": True, "consents": 0, "signups": []}
    assert seen["joined"] == {
        "account": True,
        "consents": 2,
        "signups": ["store"],
        "source": "store",
        "at": joined_at,
        "referrer": referrer,
    }
    signup = Activity.objects.get(member=noa, type="signup")
    assert signup.occurred_at == joined_at
    assert signup.attributes == {"referral_code": referrer.referral_code}


def test_without_a_signup_the_account_still_opens_and_no_joined_hook_runs(brand, registered):
    joined = []
    on_member_joined(lambda **kwargs: joined.append(kwargs))
    member = member_create(brand=brand, email="quiet@example.org", emit_signup=False)
    assert joined == []
    assert _state(member) == {"account": True, "consents": 0, "signups": []}


def test_a_failing_hook_leaves_no_member_no_account_and_no_consent(brand, registered):
    def broken(*, member: Member, source: str, at: datetime, referrer: Member | None) -> None:
        raise RuntimeError("the hook broke")

    on_member_joined(broken)
    with pytest.raises(RuntimeError, match="the hook broke"):
        member_create(brand=brand, email="gone@example.org", consents={"email": True})
    assert not Member.objects.filter(email="gone@example.org").exists()
    assert PointsAccount.objects.count() == 0
    assert ConsentEvent.objects.count() == 0
    assert Activity.objects.count() == 0


def test_a_hook_registered_twice_runs_once(brand, registered):
    calls = []

    def count(*, member: Member) -> None:
        calls.append(member.email)

    on_member_created(count)
    on_member_created(count)
    member_create(brand=brand, email="once@example.org")
    assert calls == ["once@example.org"]
