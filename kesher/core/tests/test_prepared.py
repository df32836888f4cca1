"""On PostgreSQL a statement run a few times on a connection is prepared there, not planned every time."""

from __future__ import annotations

import pytest
from django.db import connection

from kesher.members.selectors import member_get
from kesher.members.services import member_create


@pytest.mark.postgres
def test_a_statement_run_often_is_prepared_on_its_connection(brand):
    member = member_create(brand=brand, first_name="Yael")

    def prepared() -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s", ["%members_member%"]
            )
            return [row[0] for row in cursor.fetchall()]

    before = prepared()
    for _ in range(6):
        assert member_get(brand=brand, member_id=member.pk).pk == member.pk
    after = prepared()
    assert len(after) > len(before)
    assert any('FROM "members_member"' in statement for statement in after)
