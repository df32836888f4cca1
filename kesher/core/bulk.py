"""Setting a few columns on many rows at once, faster than QuerySet.bulk_update's CASE expressions.

One parameterised UPDATE sent for every row with executemany (psycopg pipelines it on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Model


def rows_update(model: type[Model], objects: Sequence[Model], fields: list[str]) -> None:
    if not objects:
        return
    meta = model._meta
    quote = connection.ops.quote_name
    columns: list[Any] = [meta.get_field(name) for name in fields]
    assignments = ", ".join(f"{quote(column.column)} = %s" for column in columns)
    pk_column = meta.pk.column if meta.pk is not None else "id"
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(pk_column or 'id')} = %s"
    params: list[list[Any]] = [
        [
            *(column.get_db_prep_save(getattr(obj, column.attname), connection) for column in columns),
            meta.pk.get_db_prep_save(obj.pk, connection),  # type: ignore[union-attr]
        ]
        for obj in objects
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
