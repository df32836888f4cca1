"""Writing many rows at once, with fewer round trips than the ORM's own bulk methods.

rows_update: on PostgreSQL one UPDATE ... FROM unnest(one array a column) for many rows; elsewhere one
parameterised UPDATE a row with executemany; either way cheaper than QuerySet.bulk_update's CASE
expressions.
rows_insert_new / row_insert_new: INSERT ... ON CONFLICT DO NOTHING RETURNING the primary key, so the
caller learns in the same statement which rows were new and which collided with a unique constraint.
rows_insert_values: new rows given as tuples of values, for callers that never need the instances.
rows_in: the rows whose column is one of many values, optionally locked in primary-key order.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from functools import cache, partial
from operator import attrgetter
from typing import Any, TypeVar

from django.db import connection, models
from django.db.models import Model
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery
from django.utils import timezone
from psycopg.types.json import Jsonb

INSERT_BATCH = 500

M = TypeVar("M", bound=Model)


def rows_update(model: type[Model], objects: Sequence[Model], fields: list[str]) -> None:
    if not objects:
        return
    meta = model._meta
    quote = connection.ops.quote_name
    columns: list[Any] = [meta.get_field(name) for name in fields]
    values = _update_values_of(model, tuple(fields))
    if values is not None and len(objects) > 1:
        # One statement, its arrays in binary: a thousand pipelined UPDATEs cost the driver and the
        # server a statement each. The last object of a primary key wins, as it would one by one. The keys
        # again as `= ANY`: without it, knowing the array's length, the planner joins by hashing the
        # whole table.
        rows = {obj.pk: values(obj) for obj in objects}
        assert meta.pk is not None
        pk = f"t.{quote(meta.pk.column)}"
        arrays = [list(column) for column in zip(*rows.values(), strict=True)]
        expressions, source, unnested = _unnest([*columns, meta.pk], arrays, varying=len(columns))
        assignments = ", ".join(
            f"{quote(column.column)} = {expression}"
            for column, expression in zip(columns, expressions, strict=False)
        )
        sql = (
            f"UPDATE {quote(meta.db_table)} AS t SET {assignments} FROM {source} "
            f"WHERE {pk} = {expressions[-1]} AND {pk} = ANY({_arrays([meta.pk])})"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*unnested, arrays[-1]])
        return
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


def _plain_values(fields: list[Any]) -> Callable[[Model], list[Any]] | None:
    """On PostgreSQL, a row's values for the driver without the ORM's per-value preparation.

    The ORM prepares each value through several layers (a fifth of a bulk call's time); psycopg adapts
    UUIDs, datetimes, decimals and strings itself, so only JSON needs wrapping and auto_now_add a value.
    None when a field needs the ORM's preparation (or on SQLite, which stores several types as text).
    """
    if connection.vendor != "postgresql":
        return None
    plain = (
        models.CharField,
        models.TextField,
        models.IntegerField,
        models.BooleanField,
        models.UUIDField,
        models.DecimalField,
        models.DateField,
        models.ForeignKey,
    )
    getters: list[Callable[[Model], Any]] = []
    for field in fields:
        if isinstance(field, models.JSONField):
            encoder = field.encoder

            def jsonb(obj: Model, name: str = field.attname, encoder: Any = encoder) -> Any:
                value = getattr(obj, name)
                return None if value is None else Jsonb(value, dumps=lambda v: json.dumps(v, cls=encoder))

            getters.append(jsonb)
        elif isinstance(field, models.DateTimeField) and (field.auto_now or field.auto_now_add):
            getters.append(partial(_stamp, field))
        elif isinstance(field, plain) and not getattr(field, "auto_now", False):
            getters.append(attrgetter(field.attname))
        else:
            return None
    return lambda obj: [get(obj) for get in getters]


@cache
def _plain_values_of(model: type[Model], with_pk: bool) -> Callable[[Model], list[Any]] | None:
    meta = model._meta
    return _plain_values([field for field in meta.concrete_fields if with_pk or field is not meta.pk])


@cache
def _update_values_of(model: type[Model], fields: tuple[str, ...]) -> Callable[[Model], list[Any]] | None:
    """The plain values of the fields and then the primary key; None for a field stamped on save (written
    here as it stands in memory, which only the ORM's preparation does)."""
    meta = model._meta
    columns: list[Any] = [meta.get_field(name) for name in fields]
    if any(_stamped(column) for column in columns):
        return None
    return _plain_values([*columns, meta.pk])


def _stamp(field: models.DateTimeField, obj: Model) -> Any:
    return field.pre_save(obj, add=True)


def _arrays(fields: list[Any]) -> str:
    """One typed array parameter a field, for unnest. In binary (%b) where parameters travel apart from
    the SQL: the text form escapes every element with a regular expression, a sixth of a bulk call's time.
    """
    marker = "%b" if _binds_server_side() else "%s"
    return ", ".join(f"{marker}::{field.db_type(connection)}[]" for field in fields)


def _unnest(
    fields: list[Any],
    columns: list[list[Any]],
    *,
    varying: int | None = None,
    adapters: Sequence[Callable[[Any], Any] | None] = (),
) -> tuple[list[str], str, list[Any]]:
    """Rows as unnest(one array a column): (an expression a field, the FROM item, the parameters in order).

    A column with one value in every row (the brand, a NULL, a zero) goes as that one value: the driver
    dumps arrays element by element in Python, the most of a bulk write's time. `varying` is the index of
    a column kept an array whatever its values (the key an UPDATE joins on); one stays an array anyway.
    `adapters` turn a column's values into what the driver takes (JSON into Jsonb), after the comparison.
    """
    marker = "%b" if _binds_server_side() else "%s"
    single = [
        index != varying and column.count(column[0]) == len(column) for index, column in enumerate(columns)
    ]
    if all(single):
        single[0] = False
    expressions, arrays, names, scalars, vectors = [], [], [], [], []
    for index, (field, column, one) in enumerate(zip(fields, columns, single, strict=True)):
        cast = field.db_type(connection)
        adapt = adapters[index] if index < len(adapters) else None
        if one:
            expressions.append(f"{marker}::{cast}")
            scalars.append(column[0] if adapt is None else adapt(column[0]))
        else:
            expressions.append(f"v.v{index}")
            arrays.append(f"{marker}::{cast}[]")
            names.append(f"v{index}")
            vectors.append(column if adapt is None else [adapt(value) for value in column])
    return expressions, f"unnest({', '.join(arrays)}) AS v({', '.join(names)})", [*scalars, *vectors]


def _insert(
    model: type[Model], objects: Sequence[Model], *, with_pk: bool, ignore_conflicts: bool
) -> list[Any]:
    """INSERT in batches; with ignore_conflicts, ON CONFLICT DO NOTHING and the new rows' keys returned."""
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    fields = [field for field in meta.concrete_fields if with_pk or field is not pk]
    returned: list[Any] = []
    values = _plain_values_of(model, with_pk)
    quote = connection.ops.quote_name
    for start in range(0, len(objects), INSERT_BATCH):
        batch = objects[start : start + INSERT_BATCH]
        if values is not None:
            # One array a column (unnest): a short statement whatever the batch size, which the driver
            # parses once and caches, where a VALUES list of thousands of placeholders is parsed each time.
            columns = ", ".join(quote(field.column) for field in fields)
            rows = [values(obj) for obj in batch]
            if len(rows) == 1:
                placeholders = ", ".join(["%s"] * len(fields))
                sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders})"
                params = rows[0]
            else:
                expressions, source, params = _unnest(
                    fields, [list(column) for column in zip(*rows, strict=True)]
                )
                sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) SELECT {', '.join(expressions)} "
                sql += f"FROM {source}"
            if ignore_conflicts:
                sql += f" ON CONFLICT DO NOTHING RETURNING {quote(pk.column)}"
            statements = [(sql, params)]
        else:
            query = InsertQuery(model, on_conflict=OnConflict.IGNORE if ignore_conflicts else None)
            query.insert_values(fields, list(batch))
            compiler = query.get_compiler(connection=connection)
            if ignore_conflicts:
                compiler.returning_fields = [pk]
            statements = list(compiler.as_sql())
        with connection.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)
                if ignore_conflicts:
                    returned += [pk.to_python(found[0]) for found in cursor.fetchall()]
    return returned


def _binds_server_side() -> bool:
    return bool(connection.settings_dict.get("OPTIONS", {}).get("server_side_binding"))


def rows_insert(model: type[Model], objects: Sequence[Model]) -> None:
    """Insert new rows, as bulk_create does but with less overhead; generated keys are not read back."""
    if not objects:
        return
    with_pk = objects[0].pk is not None
    if with_pk or connection.vendor == "postgresql":
        _insert(model, objects, with_pk=with_pk, ignore_conflicts=False)
    else:
        model._default_manager.bulk_create(objects, batch_size=INSERT_BATCH)


def rows_insert_new(model: type[Model], objects: Sequence[Model]) -> set[Any]:
    """Insert the objects (their primary keys set), skipping any that break a unique constraint.

    Returns the primary keys of the rows inserted; a concurrent insert of the same unique key makes
    PostgreSQL wait for the other transaction, then skip the row if that one committed.
    """
    if not objects:
        return set()
    return set(_insert(model, objects, with_pk=True, ignore_conflicts=True))


def row_insert_new(obj: Model) -> bool:
    """Insert one object unless a row with the same unique key exists; sets a generated primary key."""
    meta = obj._meta
    assert meta.pk is not None
    with_pk = obj.pk is not None
    returned = _insert(type(obj), [obj], with_pk=with_pk, ignore_conflicts=True)
    if not returned:
        return False
    if not with_pk:
        obj.pk = returned[0]
    obj._state.adding = False
    return True


def _column_values(fields: list[Any]) -> list[Callable[[Any], Any] | None] | None:
    """For each field, how a value is adapted for the driver (None: as it is); None when a field needs the
    ORM's preparation (see _plain_values)."""
    if _plain_values(fields) is None:
        return None
    adapters: list[Callable[[Any], Any] | None] = []
    for field in fields:
        adapters.append(_to_jsonb(field.encoder) if isinstance(field, models.JSONField) else None)
    return adapters


def _to_jsonb(encoder: Any) -> Callable[[Any], Any]:
    def adapt(value: Any) -> Any:
        return None if value is None else Jsonb(value, dumps=lambda v: json.dumps(v, cls=encoder))

    return adapt


@cache
def _values_plan(
    model: type[Model], attnames: tuple[str, ...]
) -> tuple[list[Any], list[Callable[[Any], Any] | None], list[Any]] | None:
    """(the named fields, their adapters, the other fields to fill), or None to go through instances."""
    meta = model._meta
    by_attname = {field.attname: field for field in meta.concrete_fields}
    fields = [by_attname[name] for name in attnames]
    adapters = _column_values(fields)
    if adapters is None or connection.vendor != "postgresql":
        return None
    others = [field for field in meta.concrete_fields if field.attname not in attnames]
    filled = [field for field in others if not (field is meta.pk and field.get_default() is None)]
    if any(field.get_default() is None and not _stamped(field) and not field.null for field in filled):
        return None  # a field with no default left out: let the ORM say what it says
    return fields, adapters, filled


def _stamped(field: Any) -> bool:
    return bool(getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))


def rows_insert_values(model: type[Model], attnames: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert new rows given as values for `attnames`, for callers that never use the instances.

    The other fields take their defaults (auto_now and auto_now_add the moment each row is written), an
    automatic primary key the database's next value: the rows rows_insert would write for instances made
    with those values, without the cost of making them (the most of a bulk call's time after the queries).
    """
    if not rows:
        return
    plan = _values_plan(model, tuple(attnames))
    if plan is None:
        rows_insert(model, [model(**dict(zip(attnames, row, strict=True))) for row in rows])
        return
    fields, adapters, filled = plan
    quote = connection.ops.quote_name
    columns = [list(column) for column in zip(*rows, strict=True)]
    for field in filled:
        fill = timezone.now if _stamped(field) else field.get_default
        columns.append([fill() for _ in rows])
    every = [*fields, *filled]
    names = ", ".join(quote(field.column) for field in every)
    expressions, source, params = _unnest(every, columns, adapters=adapters)
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({names}) SELECT {', '.join(expressions)} FROM {source}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@cache
def _select_shape(model: type[Model], name: str, equal: tuple[str, ...], lock: bool) -> tuple[str, Any]:
    meta = model._meta
    quote = connection.ops.quote_name
    fields = list(meta.concrete_fields)
    column_of = {field.name: field for field in fields} | {field.attname: field for field in fields}
    searched = column_of[name]
    where = [f"{quote(searched.column)} = ANY({_arrays([searched])})"]
    where += [f"{quote(column_of[other].column)} = %s" for other in equal]
    sql = (
        f"SELECT {', '.join(quote(field.column) for field in fields)} FROM {quote(meta.db_table)} "
        f"WHERE {' AND '.join(where)}"
    )
    if lock:
        assert meta.pk is not None
        sql += f" ORDER BY {quote(meta.pk.column)} FOR UPDATE"
    converters = []
    for index, field in enumerate(fields):
        column = field.get_col(meta.db_table)
        found = tuple(connection.ops.get_db_converters(column) + column.get_db_converters(connection))
        if found:
            converters.append((index, found, column))
    return sql, (tuple(field.attname for field in fields), tuple(converters))


def rows_in(model: type[M], name: str, values: Iterable[Any], *, lock: bool = False, **equal: Any) -> list[M]:
    """The rows whose `name` is one of `values` (and whose other columns equal `equal`), as the ORM's
    filter(name__in=...) gives them; with lock, locked FOR UPDATE in primary-key order.

    On PostgreSQL one array parameter (= ANY), the instances built with Model.from_db: a thousand
    placeholders and the ORM's per-row machinery cost more than the query.
    """
    field: Any = model._meta.get_field(name)
    wanted = [field.get_db_prep_value(value, connection) for value in values]
    if connection.vendor != "postgresql":
        found = model._default_manager.filter(**{f"{name}__in": wanted}, **equal)
        return list(found.select_for_update().order_by("pk") if lock else found)
    sql, (attnames, converters) = _select_shape(model, name, tuple(sorted(equal)), lock)
    with connection.cursor() as cursor:
        cursor.execute(sql, [wanted, *(equal[other] for other in sorted(equal))])
        rows = cursor.fetchall()
    built = []
    for row in rows:
        if converters:
            row = list(row)
            for index, functions, column in converters:
                for convert in functions:
                    row[index] = convert(row[index], column, connection)
        built.append(model.from_db(connection.alias, attnames, row))
    return built
