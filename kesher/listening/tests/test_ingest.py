"""Taking mentions in: analysed, weighed, linked to members, routed to the inbox; nothing twice."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kesher.listening.models import AuthorLink, Mention
from kesher.listening.services import MentionIn, influence_of, mention_clean, mentions_ingest, priority_of
from kesher.members.tests.factories import MemberFactory
from kesher.service.models import Case

pytestmark = pytest.mark.django_db

AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def item(external_id: str, text: str, **more) -> MentionIn:
    return mention_clean(
        MentionIn(
            source=more.pop("source", "twitter"), external_id=external_id, text=text, posted_at=AT, **more
        )
    )


def test_influence_is_reach_times_engagement_on_log_scales():
    assert influence_of(followers=None, shares=0, engagement=0) == 0.0
    assert influence_of(followers=99, shares=0, engagement=0) == 2.0
    # 9,999 followers (reach 10^4) with 9 reactions (1 + log10(10) = 2): 8
    assert influence_of(followers=9_999, shares=0, engagement=9) == 8.0
    # each share reaches SHARE_REACH (100) more
    assert influence_of(followers=0, shares=10, engagement=0) == influence_of(
        followers=1_000, shares=0, engagement=0
    )


@pytest.mark.parametrize(
    ("sentiment", "urgent", "influence", "expected"),
    [
        ("positive", [], 20.0, "low"),
        ("neutral", [], 0.0, "low"),
        ("negative", [], 2.0, "normal"),
        ("negative", [], 8.0, "high"),  # an influential author
        ("negative", ["complaint"], 2.0, "high"),
        ("negative", ["complaint"], 9.0, "urgent"),
        ("neutral", ["safety"], 0.0, "urgent"),
        ("negative", ["legal_threat"], 0.0, "urgent"),
    ],
)
def test_priority(sentiment, urgent, influence, expected):
    assert priority_of(sentiment=sentiment, urgent=urgent, influence=influence) == expected


def test_a_batch_is_analysed_and_what_was_seen_is_dropped(brand):
    first = mentions_ingest(
        brand=brand,
        items=[
            item("1", "Lovely coffee and great staff, thank you!"),
            item("2", "The delivery never arrived, terrible service, I want a refund"),
            item("1", "the same id again in the batch"),
        ],
    )
    assert first.added == 2 and len(first.mentions) == 2
    happy, angry = first.mentions
    assert happy.sentiment == "positive" and happy.priority == "low" and happy.case_id is None
    assert angry.sentiment == "negative" and angry.priority in ("normal", "high")
    assert "delivery" in angry.topics and angry.topics_text.startswith(" ")
    again = mentions_ingest(brand=brand, items=[item("2", "changed words"), item("3", "ok")])
    assert again.added == 1
    assert again.mentions[0].pk == angry.pk and again.mentions[0].text == angry.text
    assert Mention.objects.filter(brand=brand).count() == 3


def test_mentions_that_need_an_answer_open_one_case_each(brand):
    result = mentions_ingest(
        brand=brand,
        items=[
            item(
                "a",
                "The delivery never arrived, terrible, I will sue you",
                author_handle="@dana",
                author_name="Dana",
            ),
            item("b", "Nice shop"),
        ],
    )
    angry = result.mentions[0]
    assert angry.priority == "urgent" and "legal_threat" in angry.urgent
    case = Case.objects.get(pk=angry.case_id)
    assert (case.channel, case.source_ref, case.priority) == ("mention", str(angry.pk), "urgent")
    assert case.author_handle == "dana"
    assert result.mentions[1].case_id is None
    mentions_ingest(brand=brand, items=[item("a", "again")])
    assert Case.objects.filter(brand=brand).count() == 1


def test_authors_are_linked_to_members_by_email_phone_or_a_known_handle(brand, other_brand):
    noa = MemberFactory(brand=brand, email="noa@example.org", phone="052-5551234")
    MemberFactory(brand=other_brand, email="dan@example.org")
    result = mentions_ingest(
        brand=brand,
        items=[
            item("1", "hello", author_handle="noa_tlv", author_email="NOA@example.org"),
            item("2", "hi", author_handle="+972 52 555 1234", source="whatsapp"),
            item("3", "hey", author_handle="dan@example.org"),  # another brand's member: not linked
        ],
    )
    assert [m.member_id for m in result.mentions] == [noa.pk, noa.pk, None]
    assert AuthorLink.objects.get(brand=brand, source="twitter", handle="noa_tlv").member_id == noa.pk
    later = mentions_ingest(brand=brand, items=[item("4", "again me", author_handle="noa_tlv")])
    assert later.mentions[0].member_id == noa.pk


def test_a_reply_points_at_its_parent_whichever_comes_first(brand):
    reply = mentions_ingest(brand=brand, items=[item("r", "me too", parent_external_id="p")]).mentions[0]
    assert reply.parent_id is None
    parent = mentions_ingest(brand=brand, items=[item("p", "the original post")]).mentions[0]
    reply.refresh_from_db()
    assert reply.parent_id == parent.pk
    second = mentions_ingest(brand=brand, items=[item("r2", "and me", parent_external_id="p")]).mentions[0]
    assert second.parent_id == parent.pk


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"source": "Not A Source!"}, "source"),
        ({"external_id": " "}, "external_id"),
        ({"text": ""}, "text"),
        ({"posted_at": datetime(2026, 1, 1)}, "posted_at"),  # noqa: DTZ001  (no offset, on purpose)
        ({"author_followers": -3}, "author.followers"),
        ({"shares": "many"}, "shares"),
    ],
)
def test_bad_input_is_refused_naming_the_field(change, field):
    from kesher.core.errors import ValidationFailed

    values = {"source": "twitter", "external_id": "1", "text": "hi", "posted_at": AT, **change}
    with pytest.raises(ValidationFailed) as refusal:
        mention_clean(MentionIn(**values))
    assert refusal.value.field == field
