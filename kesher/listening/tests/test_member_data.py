"""A member's mentions and handles: exported, erased (the rows stay, unnamed, so they are not taken in anew),
merged and unmerged."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kesher.listening.models import AuthorLink, Mention
from kesher.listening.services import MentionIn, mention_clean, mentions_ingest
from kesher.members.hooks import member_export_run
from kesher.members.merging import merge_steps_undo
from kesher.members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db
AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _said(brand, external_id, text, **author):
    item = MentionIn(source="twitter", external_id=external_id, text=text, posted_at=AT, **author)
    return mentions_ingest(brand=brand, items=[mention_clean(item)]).mentions[0]


def test_export_erase(brand):
    from kesher.listening.services.member_data import listening_member_erase, listening_member_export

    noa = MemberFactory(brand=brand, email="noa@example.org")
    _said(brand, "1", "I love the croissants", author_handle="noa_tlv", author_email="noa@example.org")
    _said(brand, "2", "Someone else", author_handle="dan")
    exported = listening_member_export(member=noa)
    assert member_export_run(member=noa)["listening"] == exported  # registered from the part's ready()
    assert [m["text"] for m in exported["mentions"]] == ["I love the croissants"]
    assert exported["handles"] == [{"source": "twitter", "handle": "noa_tlv"}]
    listening_member_erase(member=noa)
    erased = Mention.objects.get(external_id="1")
    assert (erased.member_id, erased.text, erased.author_handle) == (None, "", "")
    assert not AuthorLink.objects.filter(member=noa).exists()
    assert Mention.objects.get(external_id="2").text == "Someone else"
    # The same post read again is known: it is not taken in anew with the words back.
    assert (
        mentions_ingest(
            brand=brand,
            items=[
                mention_clean(
                    MentionIn(source="twitter", external_id="1", text="I love the croissants", posted_at=AT)
                )
            ],
        ).added
        == 0
    )


def test_merge_moves_mentions_and_handles_and_undoes(brand):
    from kesher.listening.services.member_data import listening_members_merge

    kept = MemberFactory(brand=brand, email="kept@example.org")
    duplicate = MemberFactory(brand=brand, email="dup@example.org")
    _said(brand, "1", "hello", author_handle="same", author_email="dup@example.org")
    _said(brand, "2", "hi", author_handle="same", author_email="kept@example.org")
    _said(brand, "3", "hey", author_handle="dups_own", author_email="dup@example.org")
    AuthorLink.objects.filter(handle="same").update(member=duplicate)
    AuthorLink.objects.create(brand=brand, source="facebook", handle="same", member=kept)
    AuthorLink.objects.create(brand=brand, source="facebook", handle="kept_only", member=kept)
    AuthorLink.objects.create(brand=brand, source="instagram", handle="x", member=duplicate)
    before = sorted(Mention.objects.values_list("external_id", "member_id"))
    links_before = sorted(AuthorLink.objects.values_list("source", "handle", "member_id"))
    steps = listening_members_merge(source=duplicate, target=kept)
    assert set(Mention.objects.values_list("member_id", flat=True)) == {kept.pk}
    assert AuthorLink.objects.filter(member=kept, source="instagram", handle="x").exists()
    merge_steps_undo(steps)
    assert sorted(Mention.objects.values_list("external_id", "member_id")) == before
    assert sorted(AuthorLink.objects.values_list("source", "handle", "member_id")) == links_before
