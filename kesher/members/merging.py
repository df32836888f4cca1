"""Merging a duplicate member into another: the members' own part (fields, consents) and the record of moves.

Every part's merger (registered with `on_members_merge`) writes what it does through a `MergeRecord` and
returns its `steps`: rows re-pointed from the duplicate to the target (a row whose like the target already
has stays with the duplicate), fields overwritten (with their old values), counters added to and, where a
part's rule takes a row out that cannot simply stay with the duplicate, rows removed with a copy of every
column (`remove`; an undo inserts them again, so remove children before their parents).
`merge_steps_undo` plays a merger's steps backwards, so a merge can be undone without each part writing
its own undo.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import models
from django.db.models import F

from kesher.members.hooks import on_members_merge
from kesher.members.models import ConsentEvent, Member
from kesher.members.services import birthday_keys

Step = dict[str, Any]


def _label(model: type[models.Model]) -> str:
    return model._meta.label_lower


class MergeRecord:
    """What a merger did, step by step, in a form that fits a JSON column."""

    def __init__(self) -> None:
        self.steps: list[Step] = []

    def move(
        self, rows: models.QuerySet[Any], field: str, *, old: Any, new: Any, unique: tuple[str, ...] = ()
    ) -> int:
        """Re-point `rows`' `field` (a column name such as "member_id") from `old` to `new`. With `unique`
        (the other columns of a unique constraint with `field`), a row whose like the target already has
        stays with the duplicate: nothing is lost, and an undo has nothing to recreate."""
        if unique:
            taken = set(rows.model._default_manager.filter(**{field: new}).values_list(*unique))
            ids = [row[0] for row in rows.values_list("pk", *unique) if tuple(row[1:]) not in taken]
        else:
            ids = list(rows.values_list("pk", flat=True))
        if ids:
            rows.model._default_manager.filter(pk__in=ids).update(**{field: new})
            self.steps.append(
                {
                    "op": "move",
                    "model": _label(rows.model),
                    "field": field,
                    "old": str(old),
                    "ids": _json(ids),
                }
            )
        return len(ids)

    def change(self, instance: models.Model, **values: Any) -> None:
        """Set fields of one row, remembering what they were."""
        old = {name: _json_value(getattr(instance, name)) for name in values}
        if all(old[name] == _json_value(value) for name, value in values.items()):
            return
        type(instance)._default_manager.filter(pk=instance.pk).update(**values)
        for name, value in values.items():
            setattr(instance, name, value)
        self.steps.append(
            {"op": "change", "model": _label(type(instance)), "pk": str(instance.pk), "old": old}
        )

    def add(self, model: type[models.Model], pk: Any, **deltas: int) -> None:
        """Add to counters of one row (an undo takes the same amounts off again)."""
        deltas = {name: delta for name, delta in deltas.items() if delta}
        if deltas:
            model._default_manager.filter(pk=pk).update(
                **{name: F(name) + delta for name, delta in deltas.items()}
            )
            self.steps.append({"op": "add", "model": _label(model), "pk": str(pk), "deltas": deltas})

    def remove(self, rows: models.QuerySet[Any]) -> int:
        """Delete `rows`, keeping every concrete column so that an undo can insert them again as they were.
        Only for rows nothing else points at (remove those first): a cascade would go unrecorded."""
        model = rows.model
        fields = list(model._meta.concrete_fields)
        copies = [
            {
                f.attname: (
                    f.value_from_object(row)
                    if isinstance(f, models.JSONField)
                    else _json_value(f.value_from_object(row))
                )
                for f in fields
            }
            for row in rows.order_by("pk")
        ]
        if copies:
            model._default_manager.filter(pk__in=[c[model._meta.pk.attname] for c in copies]).delete()
            self.steps.append({"op": "remove", "model": _label(model), "rows": copies})
        return len(copies)


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, models.Model):
        return str(value.pk)
    return str(value)


def _json(ids: list[Any]) -> list[Any]:
    return [id_ if isinstance(id_, int) else str(id_) for id_ in ids]


def merge_steps_undo(steps: list[Step]) -> None:
    """Play a merger's steps backwards (call inside the undo's transaction)."""
    for step in reversed(steps):
        model = apps.get_model(step["model"])
        if step["op"] == "move":
            model._default_manager.filter(pk__in=step["ids"]).update(**{step["field"]: step["old"]})
        elif step["op"] == "change":
            fields = {}
            for name, value in step["old"].items():
                field = model._meta.get_field(name)
                fields[field.attname if field.is_relation else name] = (
                    None if value is None else field.to_python(value)
                )
            model._default_manager.filter(pk=step["pk"]).update(**fields)
        elif step["op"] == "add":
            model._default_manager.filter(pk=step["pk"]).update(
                **{name: F(name) - delta for name, delta in step["deltas"].items()}
            )
        elif step["op"] == "remove":
            by_attname = {f.attname: f for f in model._meta.concrete_fields}
            model._default_manager.bulk_create(
                [
                    model(
                        **{
                            name: value
                            if value is None or isinstance(by_attname[name], models.JSONField)
                            else by_attname[name].to_python(value)
                            for name, value in row.items()
                        }
                    )
                    for row in step["rows"]
                ]
            )


# --- the members' own part ---------------------------------------------------------------------------

_CHANNELS = ("email", "sms", "push")
_FILLED_FROM_DUPLICATE = ("email", "phone", "birthday", "external_id", "first_name", "last_name")


def _latest_refused(member: Member, channel: str) -> bool:
    latest = (
        ConsentEvent.objects.filter(member=member, channel=channel).order_by("-occurred_at", "-id").first()
    )
    return latest is not None and not latest.granted


def members_merge(*, source: Member, target: Member) -> list[Step]:
    """The target keeps its fields and takes the duplicate's where it has none; consent per channel is the
    stricter of the two (a withdrawal on either beats a grant on the other); the consent proof moves."""
    record = MergeRecord()
    consents: dict[str, bool] = {}
    for channel in _CHANNELS:
        refused = _latest_refused(source, channel) or _latest_refused(target, channel)
        granted = getattr(source, f"consent_{channel}") or getattr(target, f"consent_{channel}")
        consents[f"consent_{channel}"] = granted and not refused
    taken = {
        name: getattr(source, name)
        for name in _FILLED_FROM_DUPLICATE
        if not getattr(target, name) and getattr(source, name)
    }
    # Unique fields (email, external id) leave the duplicate before the target takes them.
    released = {name: None for name in ("email", "external_id") if name in taken}
    if released:
        record.change(source, **released)
    record.move(ConsentEvent.objects.filter(member=source), "member_id", old=source.pk, new=target.pk)
    if "birthday" in taken:
        taken.update(birthday_keys(taken["birthday"]))
    record.change(target, **taken, **consents)
    # The duplicate stays (an undo needs it) but is blocked, and no longer asks for any message.
    record.change(source, status="blocked", consent_email=False, consent_sms=False, consent_push=False)
    return record.steps


on_members_merge(members_merge)  # imported by the part's AppConfig.ready()
