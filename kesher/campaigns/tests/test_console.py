"""The staff console's campaign authoring, through its pages: a draft written in both languages with A/B
variants and a segment built on the page, the live count and preview for a real member, the test send to
oneself (a real SMTP server), send, schedule, pause, resume and cancel with refusals that change nothing,
the results with revenue, and who may do what (an analyst reads, a cashier sees none of it, another
brand's owner cannot reach it)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kesher.brands.models import StaffRole
from kesher.brands.services import staff_grant
from kesher.campaigns import services
from kesher.campaigns.models import (
    Campaign,
    CampaignStatus,
    CampaignVariant,
    Message,
    MessageStatus,
    Segment,
)
from kesher.campaigns.tests.conftest import member
from kesher.core.errors import Conflict
from kesher.core.models import AuditEntry
from kesher.core.tests.fingerprint import changed_models, rows_fingerprint
from kesher.web.tests.conftest import make_user

pytestmark = pytest.mark.django_db


def _client(brand: Any, role: str, email: str | None = None) -> Client:
    user = make_user(email or f"{role}@staff.example.org")
    staff_grant(brand=brand, user=user, role=role)
    client = Client()
    client.force_login(user)
    return client


def _form(brand: Any, **changes: str) -> dict[str, str]:
    form = {
        "brand": str(brand.pk),
        "name": "Spring sale",
        "channel": "email",
        "advertising": "on",
        "locale": "he",
        "subject": "{{ first_name }}, מבצע אביב",
        "body": "שלום {{ first_name }}, יש לך {{ points }} נקודות.",
        "other_subject": "{{ first_name }}, a spring sale",
        "other_body": "Hello {{ first_name }}, you have {{ points }} points.",
        "segment": "",
    }
    form.update(changes)
    return form


@pytest.fixture
def audience(brand: Any) -> dict[str, Any]:
    return {
        "noa": member(
            brand, first_name="נועה", email="noa@example.org", locale="he", consents={"email": True}
        ),
        "dan": member(
            brand,
            first_name="Dan",
            last_name="Cohen",
            email="dan@example.org",
            locale="en",
            interests=["coffee"],
            consents={"email": True},
        ),
        "ron": member(
            brand, first_name="רון", email="ron@example.org", locale="he", consents={"email": False}
        ),
    }


def test_the_owner_writes_a_bilingual_ab_campaign_for_a_segment_built_on_the_page(brand, audience):
    owner = _client(brand, StaffRole.OWNER)
    page = owner.get(reverse("campaigns:staff_new"))
    assert page.status_code == 200
    assert 'data-test="preview-desktop"' in page.content.decode()
    response = owner.post(
        reverse("campaigns:staff_new"),
        _form(
            brand,
            segment="new",
            new_segment_name="Coffee lovers",
            seg_interest="coffee",
            ab="on",
            b_subject="{{ first_name }}, רק השבוע",
            b_body="שלום {{ first_name }}, רק השבוע!",
            b_other_subject="{{ first_name }}, this week only",
            b_other_body="Hello {{ first_name }}, this week only!",
            ab_percent="50",
            ab_hours="2",
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    campaign = Campaign.objects.get(name="Spring sale")
    assert response["Location"] == reverse("campaigns:staff_detail", args=[campaign.pk])
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.translations["en"]["body"].startswith("Hello")
    assert campaign.segment is not None and campaign.segment.name == "Coffee lovers"
    assert campaign.segment.rules == {
        "match": "all",
        "conditions": [{"kind": "interests", "any": ["coffee"], "all": []}],
    }
    variants = list(CampaignVariant.objects.filter(campaign=campaign).values_list("name", "subject"))
    assert variants == [("A", "{{ first_name }}, מבצע אביב"), ("B", "{{ first_name }}, רק השבוע")]
    assert campaign.ab_test_percent == 50 and campaign.ab_wait_hours == 2
    assert AuditEntry.objects.filter(action="campaign.create", target_id=str(campaign.pk)).count() == 1
    assert AuditEntry.objects.filter(action="segment.create").count() == 1
    # A draft says it is not sent: no "100% of 0".
    detail = owner.get(reverse("campaigns:staff_detail", args=[campaign.pk])).content.decode()
    assert 'data-test="not-sent"' in detail
    assert 'data-test="funnel"' not in detail and "messages handled" not in detail
    assert 'data-test="send-now"' in detail


def test_a_mistake_in_the_template_is_said_on_the_page_and_saves_nothing(brand, audience):
    owner = _client(brand, StaffRole.OWNER)
    before = rows_fingerprint()
    response = owner.post(reverse("campaigns:staff_new"), _form(brand, body="שלום {% load i18n %}"))
    assert response.status_code == 422
    assert 'data-test="form-error"' in response.content.decode()
    assert changed_models(before, rows_fingerprint()) == []


def test_the_live_count_and_preview_follow_the_form_for_a_real_member(brand, audience):
    owner = _client(brand, StaffRole.OWNER)
    count = owner.post(
        reverse("campaigns:staff_audience"), _form(brand, segment="new", seg_interest="coffee")
    ).json()
    assert (count["in_segment"], count["reachable"]) == (1, 1)
    assert count["members"] == [{"id": str(audience["dan"].pk), "name": "Dan Cohen"}]
    everyone = owner.post(reverse("campaigns:staff_audience"), _form(brand)).json()
    assert (everyone["in_segment"], everyone["reachable"], everyone["no_consent"]) == (3, 2, 1)
    # Dan reads English: his preview is the English text with his name, as an HTML page.
    dan = owner.post(reverse("campaigns:staff_preview"), _form(brand, member=str(audience["dan"].pk))).json()
    assert dan["member"]["name"] == "Dan Cohen"
    assert "Hello Dan, you have 0 points." in dan["document"]
    assert dan["subject"].endswith("Dan, a spring sale")
    noa = owner.post(reverse("campaigns:staff_preview"), _form(brand, member=str(audience["noa"].pk))).json()
    assert "שלום נועה" in noa["document"]
    # Version B of an A/B test, and an SMS with its parts.
    b = owner.post(
        reverse("campaigns:staff_preview"),
        _form(
            brand,
            member=str(audience["noa"].pk),
            ab="on",
            b_subject="B {{ first_name }}",
            b_body="גרסה ב {{ first_name }}",
            variant="b",
        ),
    ).json()
    assert "גרסה ב נועה" in b["document"]
    sms = owner.post(
        reverse("campaigns:staff_preview"),
        _form(brand, channel="sms", subject="", member=str(audience["noa"].pk)),
    ).json()
    assert "SMS" in sms["document"] or sms["sms_parts"] >= 1
    broken = owner.post(reverse("campaigns:staff_preview"), _form(brand, body="{% for %}"))
    assert broken.status_code == 422
    assert broken.json()["error"]["field"]


def test_a_test_send_goes_to_the_author_only_and_counts_nothing(brand, audience, smtp_server):
    owner = _client(brand, StaffRole.OWNER, email="owner@cafe.example.org")
    owner.post(reverse("campaigns:staff_new"), _form(brand))
    campaign = Campaign.objects.get()
    response = owner.post(
        reverse("campaigns:staff_test_send", args=[campaign.pk]), {"member": str(audience["dan"].pk)}
    )
    assert response.status_code == 302
    assert len(smtp_server.sink.received) == 1
    mail = smtp_server.sink.received[0]
    assert mail.rcpt_tos == ["owner@cafe.example.org"]
    assert "Dan" in mail.message["Subject"] and "[Test]" in mail.message["Subject"]
    assert Message.objects.count() == 0
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT
    assert AuditEntry.objects.filter(action="campaign.test_send").count() == 1


def test_send_now_sends_and_the_results_count_revenue(
    brand, audience, smtp_server, api, django_capture_on_commit_callbacks
):
    owner = _client(brand, StaffRole.OWNER)
    owner.post(reverse("campaigns:staff_new"), _form(brand))
    campaign = Campaign.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = owner.post(reverse("campaigns:staff_send", args=[campaign.pk]))
    assert response.status_code == 302
    assert sorted(r.rcpt_tos[0] for r in smtp_server.sink.received) == ["dan@example.org", "noa@example.org"]
    with django_capture_on_commit_callbacks(execute=True):
        bought = api.post(
            "/activities",
            {"member_id": str(audience["noa"].pk), "type": "purchase", "attributes": {"amount": "1250.50"}},
            idem="p-1",
        )
    assert bought.status == 201, bought.body
    page = owner.get(reverse("campaigns:staff_detail", args=[campaign.pk])).content.decode()
    assert 'data-test="results"' in page
    assert 'data-test="result-count-sent">2<' in page
    assert 'data-test="result-count-converted">1<' in page
    assert "1,250.50" in page
    assert AuditEntry.objects.filter(action="campaign.send", target_id=str(campaign.pk)).count() == 1
    # Sending again is refused and sends nothing more.
    before = len(smtp_server.sink.received)
    again = owner.post(reverse("campaigns:staff_send", args=[campaign.pk]))
    assert again.status_code == 409
    assert 'data-test="action-error"' in again.content.decode()
    assert len(smtp_server.sink.received) == before


def test_schedule_pause_resume_cancel_and_the_refusals_change_nothing(
    brand, audience, smtp_server, django_capture_on_commit_callbacks
):
    owner = _client(brand, StaffRole.MARKETER)
    owner.post(reverse("campaigns:staff_new"), _form(brand))
    campaign = Campaign.objects.get()
    detail = reverse("campaigns:staff_detail", args=[campaign.pk])

    def post(action: str, **data: str) -> Any:
        return owner.post(reverse(f"campaigns:staff_{action}", args=[campaign.pk]), data)

    # A draft cannot be paused or cancelled, nor scheduled in the past.
    for action in ("pause", "cancel", "resume"):
        before = rows_fingerprint()
        assert post(action).status_code == 409
        assert changed_models(before, rows_fingerprint()) == []
    before = rows_fingerprint()
    past = (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    assert post("schedule", scheduled_for=past).status_code == 422
    assert changed_models(before, rows_fingerprint()) == []

    soon = timezone.now() + timedelta(hours=2)
    assert post("schedule", scheduled_for=soon.isoformat()).status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED
    assert campaign.scheduled_for is not None
    assert abs((campaign.scheduled_for - soon).total_seconds()) < 1
    assert 'data-test="scheduled-for"' in owner.get(detail).content.decode()
    assert post("pause").status_code == 302
    campaign.refresh_from_db()
    assert (campaign.status, campaign.paused_from) == (CampaignStatus.PAUSED, "scheduled")
    # Its time comes while paused: nothing starts.
    assert services.campaigns_start_due(now=soon + timedelta(minutes=1)) == 0
    assert post("resume").status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED
    with django_capture_on_commit_callbacks(execute=True):
        assert services.messages_dispatch_due(now=soon + timedelta(minutes=1)) == 0
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT
    assert len(smtp_server.sink.received) == 2
    assert post("cancel").status_code == 409  # sent: nothing left to stop
    actions = list(
        AuditEntry.objects.filter(target_id=str(campaign.pk)).order_by("pk").values_list("action", flat=True)
    )
    assert actions == [
        "campaign.create",
        "campaign.schedule",
        "campaign.pause",
        "campaign.resume",
        "campaign.send",
    ]


def _waiting(brand: Any) -> tuple[Campaign, list[Any]]:
    """A campaign whose messages are written and not yet taken by delivery (the broker not yet run)."""
    campaign = services.campaign_create(
        brand=brand,
        name="Offer",
        channel="email",
        subject="מבצע",
        body="שלום {{ first_name }}",
        advertising=True,
    )
    with mock.patch("kesher.campaigns.services.sending.queuing_start"):
        services.campaign_send(campaign=campaign)
    with mock.patch("kesher.campaigns.services.sending.messages_dispatch"):
        services.campaign_queue(campaign_id=campaign.pk)
    campaign.refresh_from_db()
    return campaign, list(Message.objects.filter(campaign=campaign).values_list("pk", flat=True))


def test_a_paused_campaign_sends_nothing_until_resumed(
    brand, audience, smtp_server, django_capture_on_commit_callbacks
):
    campaign, ids = _waiting(brand)
    assert len(ids) == 2 and campaign.status == CampaignStatus.SENDING
    services.campaign_pause(campaign=campaign)
    assert services.messages_deliver(message_ids=ids, claim_token="t1").sent == 0
    assert services.messages_dispatch_due(now=timezone.now() + timedelta(hours=1)) == 0
    assert smtp_server.sink.received == []
    with django_capture_on_commit_callbacks(execute=True):
        services.campaign_resume(campaign=campaign)
    assert len(smtp_server.sink.received) == 2
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT


def test_a_cancelled_campaign_never_sends_what_waited(brand, audience, smtp_server):
    campaign, ids = _waiting(brand)
    services.campaign_cancel(campaign=campaign)
    statuses = set(Message.objects.filter(campaign=campaign).values_list("status", flat=True))
    assert statuses == {MessageStatus.CANCELLED}
    assert services.messages_deliver(message_ids=ids, claim_token="t2").sent == 0
    assert smtp_server.sink.received == []
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CANCELLED
    entry = AuditEntry.objects.get(action="campaign.cancel")
    assert entry.data["messages_not_sent"] == 2
    with pytest.raises(Conflict):
        services.campaign_resume(campaign=campaign)


def test_an_analyst_reads_without_buttons_and_every_post_is_refused(brand, audience):
    campaign = services.campaign_create(
        brand=brand,
        name="Offer",
        channel="email",
        subject="מבצע",
        body="שלום {{ first_name }}",
        advertising=True,
    )
    analyst = _client(brand, StaffRole.ANALYST)
    listing = analyst.get(reverse("campaigns:staff_list")).content.decode()
    assert "Offer" in listing and 'data-test="new-campaign"' not in listing
    detail = analyst.get(reverse("campaigns:staff_detail", args=[campaign.pk]))
    assert detail.status_code == 200 and 'data-test="actions"' not in detail.content.decode()
    assert analyst.get(reverse("campaigns:staff_new")).status_code == 403
    before = rows_fingerprint()
    assert analyst.post(reverse("campaigns:staff_new"), _form(brand)).status_code == 403
    assert analyst.post(reverse("campaigns:staff_preview"), _form(brand)).status_code == 403
    assert analyst.post(reverse("campaigns:staff_audience"), _form(brand)).status_code == 403
    for action in ("send", "schedule", "pause", "resume", "cancel", "test_send"):
        assert analyst.post(reverse(f"campaigns:staff_{action}", args=[campaign.pk])).status_code == 403
    assert changed_models(before, rows_fingerprint()) == []


def test_a_cashier_sees_none_of_it_and_another_brand_cannot_reach_it(brand, other_brand, audience):
    campaign = services.campaign_create(
        brand=brand,
        name="Offer",
        channel="email",
        subject="מבצע",
        body="שלום {{ first_name }}",
        advertising=True,
    )
    Segment.objects.create(brand=brand, name="Ours", rules={})
    cashier = _client(brand, StaffRole.SERVICE_AGENT)
    assert cashier.get(reverse("campaigns:staff_list")).status_code == 403
    assert cashier.get(reverse("campaigns:staff_new")).status_code == 403
    assert cashier.get(reverse("campaigns:staff_detail", args=[campaign.pk])).status_code in (403, 404)
    stranger = _client(other_brand, StaffRole.OWNER)
    before = rows_fingerprint()
    assert stranger.get(reverse("campaigns:staff_detail", args=[campaign.pk])).status_code in (403, 404)
    assert stranger.post(reverse("campaigns:staff_send", args=[campaign.pk])).status_code == 404
    # Naming our brand in the form is refused; naming our segment from theirs finds nothing.
    assert stranger.post(reverse("campaigns:staff_preview"), _form(brand)).status_code == 403
    ours = Segment.objects.get(name="Ours")
    answer = stranger.post(reverse("campaigns:staff_audience"), _form(other_brand, segment=str(ours.pk)))
    assert answer.status_code == 422
    assert changed_models(before, rows_fingerprint()) == []
    page = stranger.get(reverse("campaigns:staff_new")).content.decode()
    assert "Ours" not in page
