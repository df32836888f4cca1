"""A fingerprint of every Kesher row, to prove that a refused write changed nothing."""

from __future__ import annotations

import hashlib

from django.apps import apps

# Written by any authenticated call, refused or not: when a key was last used is not a change of data.
_IGNORED = {("brands", "apikey"): {"last_used_at"}}


def rows_fingerprint() -> dict[str, str]:
    """Per model (app_label.model), a hash of all its rows in primary-key order."""
    prints: dict[str, str] = {}
    for model in apps.get_models():
        if not model.__module__.startswith("kesher."):
            continue
        meta = model._meta
        ignored = _IGNORED.get((meta.app_label, meta.model_name or ""), set())
        fields = [f.attname for f in meta.concrete_fields if f.attname not in ignored]
        rows = model._default_manager.order_by("pk").values_list(*fields)
        prints[meta.label_lower] = hashlib.sha256(repr(list(rows)).encode()).hexdigest()
    return prints


def changed_models(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(label for label in before.keys() | after.keys() if before.get(label) != after.get(label))
