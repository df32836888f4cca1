"""The download of a member's data, erasure and the return of an erased member (services and hooks)."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model

from kesher.activity.models import Activity
from kesher.campaigns.models import EmailSuppression, Message
from kesher.community.models import Follow, Post, Vote
from kesher.core.audit import Actor
from kesher.core.events import on_event
from kesher.core.models import AuditEntry
from kesher.loyalty.models import Coupon, LedgerEntry, PointsAccount
from kesher.members.models import ConsentEvent, Member, MemberStatus
from kesher.members.services import member_create
from kesher.privacy.models import AccessKind, StaffAccessLog
from kesher.privacy.services import member_data_export, privacy_erase
from kesher.privacy.tests.conftest import Everything

pytestmark = pytest.mark.django_db


def test_the_download_holds_every_parts_data(club: Everything):
    data = member_data_export(member=club.member)
    sections = data["sections"]
    assert set(sections) == {
        *("activities", "campaigns", "community", "consents", "loyalty", "profile"),
        *("reviews", "ideas", "surveys", "insights", "webhooks", "magazine", "recs", "listening"),
    }
    assert sections["profile"]["email"] == "noa@example.org"
    assert sections["profile"]["birthday"] == "1990-05-17"
    assert {a["type"] for a in sections["activities"]} >= {"signup", "purchase"}
    assert sections["loyalty"]["balance"] == PointsAccount.objects.get(member=club.member).balance
    assert [c["code"] for c in sections["loyalty"]["coupons"]] == [club.coupon.code]
    assert sections["loyalty"]["redemptions"][0]["points"] == club.coupon.cost_points
    assert [p["title"] for p in sections["community"]["posts"]] == ["Is the oat milk free?"]
    assert len(sections["community"]["votes"]) == 1 and len(sections["community"]["follows"]) == 1
    assert [m["subject"] for m in sections["campaigns"]["messages"]] == ["Spring, Noa"]
    consent = sections["consents"][0]
    assert (consent["channel"], consent["granted"], consent["origin"]) == ("email", True, "203.0.113.7")
    assert consent["wording"] == "I agree to receive the café's news by email"
    json.dumps(data)  # JSON-ready as it is


def test_the_other_members_data_is_not_in_the_download(club: Everything):
    text = json.dumps(member_data_export(member=club.member), ensure_ascii=False)
    assert "dan@example.org" not in text and "Open on Friday?" not in text


def test_erasure_leaves_nothing_that_names_the_member_and_keeps_the_totals(club: Everything):
    member = club.member
    balance = PointsAccount.objects.get(member=member).balance
    ledger = list(LedgerEntry.objects.filter(account_id=member.pk).values_list("points", flat=True))
    old_card, old_user = member.card_number, member.user_id
    privacy_erase(member=member, actor=Actor(user=club.owner), reason="asked by phone")
    member.refresh_from_db()

    assert member.status == MemberStatus.ERASED
    assert (member.email, member.phone, member.first_name, member.last_name, member.birthday) == (
        None,
        None,
        "",
        "",
        None,
    )
    assert member.card_number != old_card and member.user_id is None
    assert not get_user_model().objects.filter(pk=old_user).exists()  # their sign-in was theirs alone
    # the ledger and the statistics, unchanged and anonymous
    assert PointsAccount.objects.get(member=member).balance == balance
    assert list(LedgerEntry.objects.filter(account_id=member.pk).values_list("points", flat=True)) == ledger
    assert Activity.objects.filter(member=member, type="purchase").get().attributes == {
        "amount": "180.00",
        "currency": "ILS",
        "store": "תל אביב – דיזנגוף",
        "items": [],
    }
    assert not Activity.objects.filter(member=member, idempotency_key__isnull=False).exists()
    assert Coupon.objects.get(pk=club.coupon.pk).status == Coupon.Status.VOID
    # consent proof kept, without where it came from
    event = ConsentEvent.objects.get(member=member, channel="email")
    assert (event.granted, event.source, event.origin) == (True, "portal", "")
    assert event.wording == "I agree to receive the café's news by email"
    # messages counted, not readable; the address off the suppression list
    message = Message.objects.get(pk=club.message.pk)
    assert (message.status, message.to, message.subject, message.body) == ("sent", "", "", "")
    assert not EmailSuppression.objects.filter(email="noa@example.org").exists()
    # the post is gone, the vote others earned stays
    post = Post.objects.get(pk=club.post.pk)
    assert (post.status, post.title, post.body) == (Post.Status.DELETED, "", "")
    assert Vote.objects.filter(member=member).count() == 1 and not Follow.objects.filter(member=member)
    # the audit rows keep what was done, not the values (the known bug: member.update kept before/after)
    update = AuditEntry.objects.get(action="member.update", target_id=str(member.pk))
    assert update.data == {"before": {"last_name": "[erased]"}, "after": {"last_name": "[erased]"}}
    grant = AuditEntry.objects.get(action="consent.grant", target_id=str(member.pk))
    assert grant.data["origin"] == "[erased]"
    assert AuditEntry.objects.filter(action="member.erase", target_id=str(member.pk)).exists()
    log = StaffAccessLog.objects.get(kind=AccessKind.ERASE)
    assert (log.user_id, log.reason) == (club.owner.pk, "asked by phone")
    # nothing anywhere still holds a personal value
    everything = json.dumps(
        [
            list(model.objects.values())
            for model in (Member, ConsentEvent, AuditEntry, Message, Post, Activity)
        ],
        default=str,
        ensure_ascii=False,
    )
    for personal in (
        "noa@example.org",
        "+972501234567",
        "נועה",
        "לוי",
        "1990-05-17",
        "203.0.113.7",
        "Noa Levi",
    ):
        assert personal not in everything, everything[everything.index(personal) - 300 :][:400]


def test_erasure_emits_member_erased_once_committed(club: Everything, django_capture_on_commit_callbacks):
    heard: list[tuple[str, str]] = []
    on_event(lambda event: heard.append((event.type, str(event.data.get("member_id")))))
    with django_capture_on_commit_callbacks(execute=True):
        privacy_erase(member=club.member, actor=Actor(user=club.owner))
    assert ("member.erased", str(club.member.pk)) in heard


def test_erasing_twice_changes_nothing(club: Everything):
    from kesher.core.tests.fingerprint import changed_models, rows_fingerprint

    privacy_erase(member=club.member, actor=Actor(user=club.owner))
    before = rows_fingerprint()
    privacy_erase(member=club.member, actor=Actor(user=club.owner), staff=False)
    assert changed_models(before, rows_fingerprint()) == []


def test_an_erased_member_who_comes_back_starts_clean(club: Everything):
    old = club.member
    privacy_erase(member=old, actor=Actor(user=club.owner))
    again = member_create(brand=club.brand, email="noa@example.org", phone="050-1234567", first_name="נועה")
    assert again.pk != old.pk and again.status == MemberStatus.ACTIVE
    assert (again.consent_email, again.consent_sms) == (False, False)
    data = member_data_export(member=again)["sections"]
    assert data["consents"] == [] and data["loyalty"]["coupons"] == [] and data["community"]["posts"] == []
    assert data["campaigns"]["messages"] == []
    assert [a["type"] for a in data["activities"]] == ["signup"]
    old.refresh_from_db()
    shared = {
        name
        for name in ("email", "phone", "external_id", "card_number", "referral_code", "user_id")
        if getattr(old, name) is not None and getattr(old, name) == getattr(again, name)
    }
    assert shared == set()
