"""Invitations: the member's own link opens the survey without signing in, the contact-frequency rule
holds across all the brand's surveys, and an activity (a purchase, a service contact) invites through the
campaigns part's message delivery, with the store and product it names."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from kesher.activity.services import activity_record
from kesher.campaigns.models import Message
from kesher.core.errors import Conflict
from kesher.core.tests.fingerprint import changed_models, rows_fingerprint
from kesher.members.tests.factories import MemberFactory
from kesher.surveys.invitations import invitation_by_token, survey_invite
from kesher.surveys.models import SurveyInvitation, SurveyResponse
from kesher.surveys.services import response_submit, survey_settings_update
from kesher.surveys.tests.factories import key, make_survey

pytestmark = pytest.mark.django_db

NPS_ONLY = [
    {"kind": "nps", "text_he": "תמליצו?", "text_en": "Recommend?"},
    {"kind": "text", "text_en": "Why?", "required": False},
]


def test_no_member_is_asked_twice_within_the_brands_interval_across_surveys(brand):
    survey_settings_update(brand=brand, contact_interval_days=30)
    first, second = make_survey(brand, questions=NPS_ONLY), make_survey(brand, questions=NPS_ONLY)
    member = MemberFactory(brand=brand)
    now = timezone.now()
    survey_invite(survey=first, member=member, now=now)
    before = rows_fingerprint()
    with pytest.raises(Conflict) as refused:
        survey_invite(survey=second, member=member, now=now + timedelta(days=29, hours=23))
    assert refused.value.code == "contact_frequency"
    assert changed_models(before, rows_fingerprint()) == []
    later = survey_invite(survey=second, member=member, now=now + timedelta(days=30, minutes=1))
    assert later.invitation.status == "sent"
    with pytest.raises(Conflict) as again:  # never twice to one survey
        survey_invite(survey=first, member=member, now=now + timedelta(days=90))
    assert again.value.code == "already_invited"


def test_the_rule_is_per_brand_and_zero_days_turns_it_off(brand, other_brand):
    here, there = make_survey(brand, questions=NPS_ONLY), make_survey(other_brand, questions=NPS_ONLY)
    member, elsewhere = MemberFactory(brand=brand), MemberFactory(brand=other_brand, email="x@example.org")
    survey_invite(survey=here, member=member)
    survey_invite(survey=there, member=elsewhere)  # another brand's invitation counts only there
    survey_settings_update(brand=brand, contact_interval_days=0)
    assert (
        survey_invite(survey=make_survey(brand, questions=NPS_ONLY), member=member).invitation.status
        == "sent"
    )


def test_a_member_who_answered_is_not_invited_and_a_refusal_may_be_logged(brand):
    survey = make_survey(brand, questions=NPS_ONLY)
    member = MemberFactory(brand=brand)
    response_submit(survey=survey, member=member, answers={key(survey, "nps"): 9})
    logged = survey_invite(survey=survey, member=member, log_refusal=True)
    assert (logged.token, logged.url) == ("", "")
    row = logged.invitation
    assert (row.status, row.reason, row.token_hash) == ("skipped", "answered", None)


def test_the_link_opens_the_survey_for_its_member_without_signing_in(brand):
    survey = make_survey(brand, questions=NPS_ONLY)
    member = MemberFactory(brand=brand, locale="en")
    invited = survey_invite(survey=survey, member=member, store="Dizengoff", sku="LATTE")
    assert invited.url.endswith(f"/s/{invited.token}/")
    path = f"/s/{invited.token}/"
    client = Client()
    page = client.get(path)
    assert page.status_code == 200
    assert b"Recommend?" in page.content and b'dir="ltr"' in page.content
    assert SurveyInvitation.objects.get().opened_at is not None
    wrong = client.post(path, {f"q_{key(survey, 'nps')}": "11"})
    assert wrong.status_code == 422 and b"Choose a number from 0 to 10." in wrong.content
    done = client.post(path, {f"q_{key(survey, 'nps')}": "4", f"q_{key(survey, 'text')}": "Slow"})
    assert done.status_code == 200 and b'data-test="survey-thanks"' in done.content
    response = SurveyResponse.objects.get()
    assert (response.member_id, response.nps, response.store, response.sku, response.locale) == (
        member.pk,
        4,
        "Dizengoff",
        "LATTE",
        "en",
    )
    assert SurveyInvitation.objects.get().answered_at is not None
    again = client.post(path, {f"q_{key(survey, 'nps')}": "10"})
    assert b'data-test="survey-answered"' in again.content
    assert SurveyResponse.objects.count() == 1
    assert client.get("/s/not-a-real-token/").status_code == 404


def test_the_token_is_kept_only_as_its_hash(brand):
    survey = make_survey(brand, questions=NPS_ONLY)
    invited = survey_invite(survey=survey, member=MemberFactory(brand=brand))
    row = SurveyInvitation.objects.get()
    assert invited.token not in (row.token_hash or "")
    assert invitation_by_token(invited.token) == row


def test_a_purchase_invites_through_a_message_with_the_link_and_the_rule_logs_the_rest(
    brand, django_capture_on_commit_callbacks
):
    survey = make_survey(
        brand, questions=NPS_ONLY, trigger_activity="purchase", invite_channel="email", trigger_delay_hours=24
    )
    member = MemberFactory(brand=brand, locale="he")
    with django_capture_on_commit_callbacks(execute=True):
        activity_record(
            brand=brand,
            member=member,
            type="purchase",
            attributes={"amount": "40", "store": "Dizengoff", "items": [{"sku": "LATTE", "quantity": 1}]},
        )
    invitation = SurveyInvitation.objects.get(member=member)
    assert (invitation.status, invitation.source, invitation.store, invitation.sku, invitation.channel) == (
        "sent",
        "activity:purchase",
        "Dizengoff",
        "LATTE",
        "email",
    )
    message = Message.objects.get(pk=invitation.message_id)
    assert (message.to, message.advertising, message.consent_basis, message.status) == (
        member.email,
        False,
        "service",
        "queued",
    )
    assert "/s/" in message.body
    assert message.not_before is not None and message.not_before > timezone.now() + timedelta(hours=23)
    token = message.body.split("/s/")[1].split("/")[0]
    assert invitation_by_token(token) == invitation
    # A second purchase, and a second survey after purchases: invited to neither (once per survey, and once
    # in the brand's 30 days across its surveys).
    other = make_survey(brand, questions=NPS_ONLY, trigger_activity="purchase")
    with django_capture_on_commit_callbacks(execute=True):
        activity_record(brand=brand, member=member, type="purchase", attributes={"amount": "10"})
    logged = SurveyInvitation.objects.filter(member=member, status="skipped")
    assert {(row.survey_id, row.reason) for row in logged} == {
        (survey.pk, "already_invited"),
        (other.pk, "contact_frequency"),
    }
    assert Message.objects.filter(member=member).count() == 1


def test_a_service_contact_invites_to_the_service_survey(brand, django_capture_on_commit_callbacks):
    survey = make_survey(brand, questions=NPS_ONLY, trigger_activity="service_contact", invite_channel="sms")
    member = MemberFactory(brand=brand)
    with django_capture_on_commit_callbacks(execute=True):
        activity_record(brand=brand, member=member, type="service_contact", attributes={"channel": "phone"})
    invitation = SurveyInvitation.objects.get(member=member, survey=survey)
    assert (invitation.status, invitation.channel) == ("sent", "sms")
    assert Message.objects.get(pk=invitation.message_id).to == member.phone


def test_the_api_gives_the_link_for_a_campaign_or_another_system(api, brand):
    survey = make_survey(brand, questions=NPS_ONLY)
    member = MemberFactory(brand=brand)
    made = api.post(f"/surveys/{survey.pk}/invitations", {"member_id": str(member.pk), "store": "Haifa"})
    assert made.status == 201, made.body
    assert made.body["url"].startswith("http") and "/s/" in made.body["url"]
    assert made.body["message_id"] is None
    before = rows_fingerprint()
    again = api.post(f"/surveys/{survey.pk}/invitations", {"member_id": str(member.pk)})
    assert (again.status, again.body["error"]["code"]) == (409, "already_invited")
    assert changed_models(before, rows_fingerprint()) == []
