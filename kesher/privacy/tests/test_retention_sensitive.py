"""Retention of prospects who never joined (setting, task, CLI); fields sealed as highly sensitive."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from kesher.cli import main as kesher_main
from kesher.core.crypto import is_encrypted
from kesher.core.errors import ValidationFailed
from kesher.core.tests.fingerprint import changed_models, rows_fingerprint
from kesher.members.models import Member, MemberStatus
from kesher.members.selectors import member_get
from kesher.members.sensitive import sensitive_fields_set
from kesher.members.services import member_create, member_update
from kesher.members.tests.factories import MemberFactory
from kesher.privacy.services import retention_run, retention_set
from kesher.privacy.tasks import retention_run_all_task

pytestmark = pytest.mark.django_db


def _aged(member: Member, days: int) -> Member:
    Member.objects.filter(pk=member.pk).update(created_at=timezone.now() - timedelta(days=days))
    return member


def test_prospects_past_the_period_are_erased_and_no_one_else(brand, other_brand):
    old = _aged(MemberFactory(brand=brand, status="prospect", email="lead@example.org"), 40)
    young = _aged(MemberFactory(brand=brand, status="prospect", email="new@example.org"), 10)
    joined = _aged(MemberFactory(brand=brand, status="active", email="joined@example.org"), 400)
    elsewhere = _aged(MemberFactory(brand=other_brand, status="prospect", email="lead@example.org"), 400)
    retention_set(brand=brand, days=30)

    before = rows_fingerprint()
    dry = retention_run(brand=brand, dry_run=True)
    assert (dry.due, dry.erased) == ([old.pk], 0)
    assert changed_models(before, rows_fingerprint()) == []

    assert retention_run_all_task() == 1  # the nightly task: brands with a period only
    statuses = dict(Member.objects.values_list("pk", "status"))
    assert statuses[old.pk] == MemberStatus.ERASED
    assert (statuses[young.pk], statuses[joined.pk], statuses[elsewhere.pk]) == (
        "prospect",
        "active",
        "prospect",
    )
    assert Member.objects.get(pk=old.pk).email is None


def test_a_brand_without_a_period_keeps_its_prospects(brand):
    old = _aged(MemberFactory(brand=brand, status="prospect"), 4000)
    assert retention_run(brand=brand).erased == 0
    assert Member.objects.get(pk=old.pk).status == "prospect"


def test_the_period_is_checked(brand):
    before = rows_fingerprint()
    with pytest.raises(ValidationFailed):
        retention_set(brand=brand, days=0)
    assert changed_models(before, rows_fingerprint()) == []


def test_the_cli_counts_with_dry_run_and_erases_without(brand, capsys):
    old = _aged(MemberFactory(brand=brand, status="prospect"), 40)
    retention_set(brand=brand, days=30)
    assert kesher_main(["privacy", "retention", "--brand", brand.slug, "--dry-run"]) == 0
    assert "1 prospects older than 30 days would be erased" in capsys.readouterr().out
    assert Member.objects.get(pk=old.pk).status == "prospect"
    assert kesher_main(["privacy", "retention"]) == 0
    assert "cafe: 1 prospects older than 30 days erased" in capsys.readouterr().out
    assert Member.objects.get(pk=old.pk).status == MemberStatus.ERASED


def _columns(member: Member) -> tuple[object, object, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT birthday, interests, sealed FROM members_member WHERE id = %s",
            [member.pk.hex if connection.vendor == "sqlite" else str(member.pk)],
        )
        return cursor.fetchone()  # type: ignore[no-any-return]


def test_marked_fields_are_encrypted_at_rest_and_read_back(brand):
    member = member_create(
        brand=brand, email="a@example.org", birthday=date(1990, 5, 17), interests=["gluten-free"]
    )
    sensitive_fields_set(brand=brand, fields=["birthday", "interests"])
    birthday, interests, sealed = _columns(member)
    assert birthday is None and interests in ("[]", []) and is_encrypted(sealed)
    assert "1990" not in sealed and "gluten" not in sealed
    again = member_get(brand=brand, member_id=member.pk)
    assert (again.birthday, again.interests) == (date(1990, 5, 17), ["gluten-free"])
    assert again.birthday_md is not None  # greetings on the day keep working

    member_update(member=again, changes={"birthday": "1991-06-01", "first_name": "Ada"})
    birthday, _, sealed = _columns(member)
    assert birthday is None and is_encrypted(sealed)
    assert member_get(brand=brand, member_id=member.pk).birthday == date(1991, 6, 1)

    later = member_create(brand=brand, email="b@example.org", birthday=date(1985, 1, 2))
    assert _columns(later)[0] is None and member_get(brand=brand, member_id=later.pk).birthday == date(
        1985, 1, 2
    )

    sensitive_fields_set(brand=brand, fields=[])  # unmarked: back in the clear
    birthday, _, sealed = _columns(member)
    assert str(birthday) == "1991-06-01" and sealed == ""


def test_only_known_fields_can_be_marked(brand):
    with pytest.raises(ValidationFailed):
        sensitive_fields_set(brand=brand, fields=["email"])
