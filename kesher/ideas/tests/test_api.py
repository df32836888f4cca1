"""The ideas API as integrations call it: submit, support once, read supporters and stage, comments,
statuses; brand isolation and refusals that change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from kesher.activity.models import Activity
from kesher.core.models import AuditEntry
from kesher.core.tests.fingerprint import changed_models, rows_fingerprint
from kesher.ideas.models import Idea, IdeaNotice, IdeaSupport

pytestmark = pytest.mark.django_db


def test_a_member_submits_and_others_support_once_each(api, make_member):
    author, noa, dan = make_member("Author"), make_member("Noa"), make_member("Dan")
    made = api.post("/ideas", {"member_id": str(author.pk), "title": "Oat milk everywhere", "body": "Please"})
    assert made.status == 201, made.body
    idea_id = made.body["id"]
    assert made.body["supporters"] == 0
    assert made.body["stage"] == {
        "number": 1,
        "of": 4,
        "threshold": 100,
        "deadline": made.body["stage"]["deadline"],
        "phase": "gathering",
    }
    assert made.body["status"]["code"] == "open"
    first = api.post(f"/ideas/{idea_id}/support", {"member_id": str(noa.pk)})
    again = api.post(f"/ideas/{idea_id}/support", {"member_id": str(noa.pk)})
    other = api.post(f"/ideas/{idea_id}/support", {"member_id": str(dan.pk)})
    assert (first.status, first.body["added"], first.body["supporters"]) == (200, True, 1)
    assert (again.status, again.body["added"], again.body["supporters"]) == (200, False, 1)
    assert (other.body["added"], other.body["supporters"]) == (True, 2)
    read = api.get(f"/ideas/{idea_id}")
    assert read.status == 200 and read.body["supporters"] == 2
    assert IdeaSupport.objects.filter(idea_id=idea_id).count() == 2
    assert set(Activity.objects.filter(type="idea_supported").values_list("member_id", flat=True)) == {
        noa.pk,
        dan.pk,
    }
    assert Activity.objects.get(type="idea_submitted").attributes == {"idea_id": idea_id}


def test_the_author_cannot_support_their_own_idea_and_nothing_changes(api, make_idea):
    idea = make_idea()
    before = rows_fingerprint()
    answer = api.post(f"/ideas/{idea.pk}/support", {"member_id": str(idea.author_id)})
    assert (answer.status, answer.body["error"]["code"]) == (409, "own_idea")
    assert changed_models(before, rows_fingerprint()) == []


def test_reaching_a_threshold_moves_the_stage_and_tells_supporters(api, brand, make_member, make_idea):
    # the brand's own ladder: 2 supporters in 10 days, then 3 in 5
    from kesher.core.audit import SYSTEM
    from kesher.ideas.services import idea_stages_set

    idea_stages_set(
        brand=brand, stages=[{"threshold": 2, "days": 10}, {"threshold": 3, "days": 5}], actor=SYSTEM
    )
    idea = make_idea()
    members = [make_member(f"M{i}") for i in range(3)]
    api.post(f"/ideas/{idea.pk}/support", {"member_id": str(members[0].pk)})
    second = api.post(f"/ideas/{idea.pk}/support", {"member_id": str(members[1].pk)}).body
    assert second["stage"]["number"] == 2 and second["stage"]["threshold"] == 3
    assert IdeaNotice.objects.filter(idea=idea, kind="stage", stage=1).count() == 3  # two supporters, author
    third = api.post(f"/ideas/{idea.pk}/support", {"member_id": str(members[2].pk)}).body
    assert third["stage"]["phase"] == "review"
    assert third["status"]["code"] == "under_review"
    assert IdeaNotice.objects.filter(idea=idea, kind="stage", stage=2).count() == 4


def test_an_idea_past_its_deadline_expires_when_read_and_takes_no_support(api, make_member, make_idea):
    idea = make_idea()
    Idea.objects.filter(pk=idea.pk).update(stage_deadline=timezone.now() - timedelta(minutes=1))
    read = api.get(f"/ideas/{idea.pk}").body
    assert read["stage"]["phase"] == "expired"
    assert IdeaNotice.objects.filter(idea=idea, kind="expired").count() == 1
    late = make_member("Late")
    before = rows_fingerprint()
    refused = api.post(f"/ideas/{idea.pk}/support", {"member_id": str(late.pk)})
    assert (refused.status, refused.body["error"]["code"]) == (409, "idea_expired")
    assert changed_models(before, rows_fingerprint()) == []


def test_the_daily_sweep_expires_what_is_due(make_idea):
    from kesher.ideas.services import ideas_expire_due

    due, fresh = make_idea(), make_idea(title="Another idea")
    Idea.objects.filter(pk=due.pk).update(stage_deadline=timezone.now() - timedelta(days=1))
    assert ideas_expire_due() == 1
    assert Idea.objects.get(pk=due.pk).phase == "expired"
    assert Idea.objects.get(pk=fresh.pk).phase == "gathering"


def test_staff_set_a_status_with_reason_audited_and_supporters_hear(api, make_member, make_idea):
    idea = make_idea()
    fan = make_member("Fan")
    api.post(f"/ideas/{idea.pk}/support", {"member_id": str(fan.pk)})
    before = rows_fingerprint()
    no_reason = api.post(f"/ideas/{idea.pk}/status", {"status": "declined"})
    assert no_reason.status == 422
    assert changed_models(before, rows_fingerprint()) == []
    done = api.post(f"/ideas/{idea.pk}/status", {"status": "declined", "reason": "Our ovens cannot"})
    assert done.status == 200 and done.body["status"]["kind"] == "declined"
    assert done.body["status_reason"] == "Our ovens cannot"
    notice = IdeaNotice.objects.get(idea=idea, member=fan, kind="status")
    assert notice.status is not None
    assert (notice.status.code, notice.reason) == ("declined", "Our ovens cannot")
    assert AuditEntry.objects.filter(action="ideas.status_set", target_id=str(idea.pk)).count() == 1


def test_a_pos_key_may_not_set_a_status(brand, make_api, make_idea):
    idea = make_idea()
    pos = make_api(brand, "pos")
    before = rows_fingerprint()
    answer = pos.post(f"/ideas/{idea.pk}/status", {"status": "planned"})
    assert answer.status == 403
    assert changed_models(before, rows_fingerprint()) == []


def test_list_sorts_and_filters_by_status(api, make_member, make_idea):
    quiet, loud = make_idea(title="Quiet idea"), make_idea(title="Loud idea")
    api.post(f"/ideas/{loud.pk}/support", {"member_id": str(make_member("A").pk)})
    assert [i["title"] for i in api.get("/ideas?sort=popular").body["items"]] == ["Loud idea", "Quiet idea"]
    assert [i["title"] for i in api.get("/ideas?sort=newest").body["items"]] == ["Loud idea", "Quiet idea"]
    api.post(f"/ideas/{quiet.pk}/status", {"status": "planned"})
    assert [i["title"] for i in api.get("/ideas?status=planned").body["items"]] == ["Quiet idea"]


def test_comments(api, make_member, make_idea):
    idea = make_idea()
    noa = make_member("Noa")
    made = api.post(f"/ideas/{idea.pk}/comments", {"member_id": str(noa.pk), "body": "Yes please"})
    brand_reply = api.post(f"/ideas/{idea.pk}/comments", {"body": "We are on it"})
    assert made.status == 201 and brand_reply.status == 201 and brand_reply.body["by_brand"] is True
    listed = api.get(f"/ideas/{idea.pk}/comments").body
    assert [c["body"] for c in listed] == ["Yes please", "We are on it"]
    assert api.get(f"/ideas/{idea.pk}").body["comment_count"] == 2


def test_another_brand_sees_nothing_and_changes_nothing(api, other_brand, make_api, make_member, make_idea):
    idea = make_idea()
    theirs = make_api(other_brand, "all")
    stranger = make_member("Stranger", of=other_brand)
    before = rows_fingerprint()
    assert theirs.get(f"/ideas/{idea.pk}").status == 404
    assert theirs.get("/ideas").body["items"] == []
    assert theirs.post(f"/ideas/{idea.pk}/support", {"member_id": str(stranger.pk)}).status == 404
    assert theirs.post(f"/ideas/{idea.pk}/status", {"status": "planned"}).status == 404
    assert api.post(f"/ideas/{idea.pk}/support", {"member_id": str(stranger.pk)}).status == 404
    assert changed_models(before, rows_fingerprint()) == []


def test_a_hidden_idea_is_gone_for_members_but_staff_see_it(api, brand, make_api, make_idea):
    from kesher.core.audit import SYSTEM
    from kesher.ideas.services import idea_moderate

    idea = make_idea()
    idea_moderate(idea=idea, action="hide", reason="spam", actor=SYSTEM)
    pos = make_api(brand, "pos")
    assert pos.get(f"/ideas/{idea.pk}").status == 404
    assert pos.get("/ideas").body["items"] == []
    assert api.get(f"/ideas/{idea.pk}").status == 200
    assert pos.get(f"/ideas/{idea.pk}?member_id={idea.author_id}").status == 200  # its author still sees it
