"""Migration operations Kesher's schema changes share: integer columns made 64-bit on live tables."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.operations import AlterField
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState


class WidenToBigInteger(Operation):
    """Turn integer columns of one model into their 64-bit fields, in one statement on PostgreSQL.

    PostgreSQL rewrites the whole table, under an exclusive lock, for every `ALTER COLUMN ... TYPE bigint`;
    Django's AlterField gives one such statement per column, this one statement for all of a table's. The
    schema left behind is the one AlterField would leave (same types, the `>= 0` checks kept). SQLite,
    which stores every integer in 64 bits already, gets Django's own AlterField for each column.
    """

    reversible = True

    def __init__(self, model_name: str, fields: list[tuple[str, models.Field[Any, Any]]]) -> None:
        self.model_name = model_name
        self.fields = fields

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (self.__class__.__qualname__, [], {"model_name": self.model_name, "fields": self.fields})

    def _alters(self) -> list[AlterField]:
        return [AlterField(self.model_name, name, field) for name, field in self.fields]

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        for alter in self._alters():
            alter.state_forwards(app_label, state)

    def _states(self, app_label: str, before: ProjectState) -> list[ProjectState]:
        states = [before]
        for alter in self._alters():
            state = states[-1].clone()
            alter.state_forwards(app_label, state)
            states.append(state)
        return states

    def _alter_types(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, state: ProjectState
    ) -> None:
        model = state.apps.get_model(app_label, self.model_name)
        quote = schema_editor.quote_name
        clauses = []
        for name, _field in self.fields:
            field = model._meta.get_field(name)
            column = quote(field.column)  # type: ignore[union-attr]
            db_type = field.db_type(schema_editor.connection)  # type: ignore[union-attr]
            clauses.append(f"ALTER COLUMN {column} TYPE {db_type} USING {column}::{db_type}")
        schema_editor.execute(f"ALTER TABLE {quote(model._meta.db_table)} {', '.join(clauses)}")

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            self._alter_types(app_label, schema_editor, to_state)
            return
        states = self._states(app_label, from_state)
        for index, alter in enumerate(self._alters()):
            alter.database_forwards(app_label, schema_editor, states[index], states[index + 1])

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            self._alter_types(app_label, schema_editor, to_state)
            return
        states = self._states(app_label, to_state)
        for index in reversed(range(len(self.fields))):
            self._alters()[index].database_backwards(
                app_label, schema_editor, states[index + 1], states[index]
            )

    def describe(self) -> str:
        return f"Make {', '.join(name for name, _ in self.fields)} of {self.model_name} 64-bit"

    @property
    def migration_name_fragment(self) -> str:
        return f"{self.model_name.lower()}_bigint"
