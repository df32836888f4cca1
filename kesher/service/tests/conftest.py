"""Fixtures for the service tests: staff of each role, members, a case factory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from kesher.brands.models import Brand, StaffMembership
from kesher.members.models import Member
from kesher.members.tests.factories import MemberFactory
from kesher.service.models import Case
from kesher.service.services.cases import case_open


@pytest.fixture
def make_staff(brand: Brand) -> Callable[..., Any]:
    def make(role: str = "service_agent", *, name: str | None = None, of: Brand | None = None) -> Any:
        username = name or f"{role}-{get_user_model().objects.count()}"
        user = get_user_model().objects.create_user(username=username, password="pw-long-enough-1")
        StaffMembership.objects.create(brand=of or brand, user=user, role=role)
        return user

    return make


@pytest.fixture
def agent(make_staff: Callable[..., Any]) -> Any:
    return make_staff("service_agent", name="agent")


@pytest.fixture
def make_member(brand: Brand) -> Callable[..., Member]:
    def make(first_name: str = "נועה", *, of: Brand | None = None, **kw: Any) -> Member:
        return MemberFactory(brand=of or brand, first_name=first_name, **kw)  # type: ignore[return-value]

    return make


@pytest.fixture
def make_case(brand: Brand) -> Callable[..., Case]:
    counter = iter(range(1, 10_000))

    def make(*, of: Brand | None = None, **kw: Any) -> Case:
        n = next(counter)
        values: dict[str, Any] = {
            "channel": "portal",
            "source_ref": f"ref-{n}",
            "subject": f"המשלוח לא הגיע {n}",
            "text": "הזמנתי לפני שבוע ועדיין לא קיבלתי",
            **kw,
        }
        case, _ = case_open(brand=of or brand, **values)
        return case

    return make
