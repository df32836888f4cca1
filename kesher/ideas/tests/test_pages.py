"""The ideas pages: supporting from the idea page, the testers' space kept to testers, the console's
status change audited and refused to roles outside the ideas console."""

from __future__ import annotations

import pytest
from django.test import Client

from kesher.brands.models import StaffRole
from kesher.brands.services import staff_grant
from kesher.core.audit import SYSTEM
from kesher.core.models import AuditEntry
from kesher.core.tests.fingerprint import changed_models, rows_fingerprint
from kesher.ideas.models import Idea, IdeaSupport
from kesher.ideas.services import beta_apply, beta_program_create
from kesher.members.models import Member
from kesher.web.tests.conftest import make_user

pytestmark = pytest.mark.django_db


def _signed_in(member: Member) -> Client:
    user = make_user(f"{member.pk.hex[:8]}@example.org")
    Member.objects.filter(pk=member.pk).update(user=user)
    client = Client()
    client.force_login(user)
    return client


def test_a_member_supports_from_the_idea_page_once(brand, make_member, make_idea):
    idea = make_idea()
    fan = make_member("Fan")
    client = _signed_in(fan)
    page = client.get(f"/ideas/{brand.slug}/i/{idea.pk}/")
    assert page.status_code == 200 and b'data-test="support-button"' in page.content
    for _ in range(2):
        assert client.post(f"/ideas/{brand.slug}/i/{idea.pk}/support/").status_code == 302
    assert IdeaSupport.objects.filter(idea=idea).count() == 1
    assert Idea.objects.get(pk=idea.pk).supporters == 1
    assert b'data-test="supported"' in client.get(f"/ideas/{brand.slug}/i/{idea.pk}/").content


def test_the_testers_space_is_for_accepted_testers_only(brand, make_member):
    program = beta_program_create(
        brand=brand, title="Planner", places=1, agreement="OK", private_brief="Secret build", actor=SYSTEM
    )
    tester, waiting = make_member("Tester"), make_member("Waiting")
    beta_apply(program=program, member=tester, agreement_accepted=True)
    beta_apply(program=program, member=waiting, agreement_accepted=True)  # no place left: waits
    url = f"/ideas/{brand.slug}/b/{program.pk}/space/"
    assert b"Secret build" in _signed_in(tester).get(url).content
    assert _signed_in(waiting).get(url).status_code == 404
    assert Client().get(url).status_code == 302  # to sign in


def test_the_console_changes_a_status_audited_and_an_analyst_cannot(brand, make_idea):
    idea = make_idea()
    owner, analyst = make_user("owner@staff.example.org"), make_user("analyst@staff.example.org")
    staff_grant(brand=brand, user=owner, role=StaffRole.OWNER)
    staff_grant(brand=brand, user=analyst, role=StaffRole.ANALYST)
    url = f"/ideas/{brand.slug}/console/i/{idea.pk}/status/"
    refused = Client()
    refused.force_login(analyst)
    before = rows_fingerprint()
    assert refused.post(url, {"status": "planned"}).status_code == 404
    assert changed_models(before, rows_fingerprint()) == []
    client = Client()
    client.force_login(owner)
    assert client.post(url, {"status": "planned", "reason": "Spring"}).status_code == 302
    idea.refresh_from_db()
    assert (idea.status.code, idea.status_reason) == ("planned", "Spring")
    entry = AuditEntry.objects.get(action="ideas.status_set")
    assert (entry.actor_user_id, entry.data["to"]) == (owner.pk, "planned")
