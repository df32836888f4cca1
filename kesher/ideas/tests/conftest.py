"""Fixtures for the ideas tests: members of the brand and a quick way to submit an idea."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kesher.brands.models import Brand
from kesher.ideas.models import Idea
from kesher.ideas.services import idea_submit
from kesher.members.models import Member
from kesher.members.tests.factories import MemberFactory


@pytest.fixture
def make_member(brand: Brand) -> Callable[..., Member]:
    def make(first_name: str = "נועה", *, of: Brand | None = None, **kw: Any) -> Member:
        return MemberFactory(brand=of or brand, first_name=first_name, **kw)  # type: ignore[return-value]

    return make


@pytest.fixture
def make_idea(make_member: Callable[..., Member]) -> Callable[..., Idea]:
    def make(author: Member | None = None, title: str = "Oat milk in every branch", **kw: Any) -> Idea:
        return idea_submit(member=author or make_member("Author"), title=title, body="Please.", **kw)

    return make
