"""factory_boy factories that go through the services, so accounts and consent proofs exist as in life."""

from __future__ import annotations

from typing import Any

import factory

from kesher.members.models import Member
from kesher.members.services import member_create


class MemberFactory(factory.Factory[Member]):
    class Meta:
        model = Member

    external_id = factory.Sequence(lambda n: f"ext-{n:05d}")
    email = factory.Sequence(lambda n: f"member{n}@example.org")
    phone = factory.Sequence(lambda n: f"052-{5550000 + n}")
    first_name = "נועה"
    last_name = "לוי"

    @classmethod
    def _create(cls, model_class: type[Member], *args: Any, **kwargs: Any) -> Member:
        return member_create(**kwargs)
