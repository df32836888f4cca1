"""Supports sent at once on PostgreSQL: one member counts once, N members count N."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection

from kesher.brands.services import api_key_create, brand_create
from kesher.conftest import ApiClient
from kesher.ideas.models import Idea, IdeaSupport
from kesher.ideas.services import idea_submit
from kesher.members.tests.factories import MemberFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
N = 8


def _scene() -> tuple[str, Idea]:
    brand = brand_create(slug="cafe", name="קפה טוב", default_locale="he")
    key = api_key_create(brand=brand, scope="all").raw_key
    idea = idea_submit(member=MemberFactory(brand=brand), title="Oat milk everywhere", body="Please")
    return key, idea


def _send_all(key: str, idea: Idea, member_ids: list[str]) -> list[Any]:
    start = threading.Barrier(len(member_ids))

    def send(member_id: str) -> Any:
        try:
            client = ApiClient(key)
            start.wait()
            return client.post(f"/ideas/{idea.pk}/support", {"member_id": member_id})
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(member_ids)) as pool:
        return list(pool.map(send, member_ids))


def test_one_member_supporting_n_times_at_once_counts_once():
    key, idea = _scene()
    fan = MemberFactory(brand=idea.brand)
    answers = _send_all(key, idea, [str(fan.pk)] * N)
    assert [a.status for a in answers] == [200] * N
    assert sorted(a.body["added"] for a in answers) == [False] * (N - 1) + [True]
    assert IdeaSupport.objects.filter(idea=idea).count() == 1
    assert Idea.objects.get(pk=idea.pk).supporters == 1


def test_n_members_supporting_at_once_count_n():
    key, idea = _scene()
    fans = [str(MemberFactory(brand=idea.brand).pk) for _ in range(N)]
    answers = _send_all(key, idea, fans)
    assert [a.status for a in answers] == [200] * N
    assert all(a.body["added"] for a in answers)
    assert IdeaSupport.objects.filter(idea=idea).count() == N
    assert Idea.objects.get(pk=idea.pk).supporters == N
    assert sorted(a.body["supporters"] for a in answers) == list(range(1, N + 1))
