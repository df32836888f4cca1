"""Personas: the brand's members clustered by behaviour (KMeans on standardised features from the nightly
summaries), each described by the features that set it apart, with a name a marketer may edit (issue 17).

Clusters are found again each night; a new cluster takes the number (and so the name) of last night's
cluster whose centre is nearest, matched one to one, so a name stays with the group it was given to.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from kesher.brands.models import Brand
from kesher.core.audit import SYSTEM, Actor, audit_record
from kesher.core.errors import NotFound, ValidationFailed
from kesher.insights.models import MemberSummary, Persona

log = logging.getLogger(__name__)

FEATURES: dict[str, Any] = {
    "purchases": _("purchases"),
    "spend": _("spend"),
    "since_last_days": _("days since the last purchase"),
    "access": _("access track"),
    "engage": _("engage track"),
    "customize": _("customize track"),
    "connect": _("connect track"),
    "collaborate": _("collaborate track"),
    "advocacy_score": _("advocacy"),
}
CLUSTERS = 4
MIN_MEMBERS = 20  # fewer members than this and the brand has no personas
TRAITS = 3  # the features furthest from the average that describe a persona
UPDATE_CHUNK = 5000


def _frame(brand: Brand) -> pd.DataFrame:
    rows = MemberSummary.objects.filter(brand=brand).values_list("member_id", *FEATURES)
    frame = pd.DataFrame.from_records(list(rows.iterator(chunk_size=20000)), columns=["member_id", *FEATURES])
    if frame.empty:
        return frame
    frame["spend"] = frame["spend"].astype(float)
    # A member who never bought is "long ago": the longest gap in the brand, plus a day.
    frame["since_last_days"] = frame["since_last_days"].astype(float)
    longest = frame["since_last_days"].max()
    frame["since_last_days"] = frame["since_last_days"].fillna((longest if pd.notna(longest) else 0) + 1)
    return frame


def _matched_numbers(old: dict[int, np.ndarray], centres: np.ndarray) -> list[int]:
    """Last night's numbers for tonight's clusters, nearest centre first (one to one); new ones after."""
    from scipy.optimize import linear_sum_assignment

    count = len(centres)
    numbers: list[int | None] = [None] * count
    if old:
        keys = sorted(old)
        cost = np.array([[float(np.linalg.norm(c - old[k])) for k in keys] for c in centres])
        for row, col in zip(*linear_sum_assignment(cost), strict=True):
            numbers[row] = keys[col]
    taken = {n for n in numbers if n is not None}
    spare = (n for n in range(1, count + len(taken) + 2) if n not in taken)
    return [n if n is not None else next(spare) for n in numbers]


@transaction.atomic
def personas_fit(*, brand: Brand, clusters: int = CLUSTERS, seed: int = 0) -> list[Persona]:
    """Cluster the brand's members and keep each persona's size, centre and traits; names are kept."""
    from sklearn.cluster import KMeans, MiniBatchKMeans
    from sklearn.preprocessing import StandardScaler

    frame = _frame(brand)
    if len(frame) < MIN_MEMBERS:
        Persona.objects.filter(brand=brand).update(members=0)
        return list(Persona.objects.filter(brand=brand))
    values = frame[list(FEATURES)].to_numpy(dtype=float)
    scaled = StandardScaler().fit_transform(values)
    scaled = np.nan_to_num(scaled)
    k = min(clusters, len(np.unique(scaled, axis=0)))
    if len(frame) > 50_000:  # the same clusters, found on batches: minutes become seconds at a million
        model: Any = MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=8192)
    else:
        model = KMeans(n_clusters=k, random_state=seed, n_init=10)
    labels = model.fit_predict(scaled)
    centres = model.cluster_centers_  # in standard units: the distance from the average in each feature
    old = {
        p.number: np.array(p.centre.get("_z", []), dtype=float) for p in Persona.objects.filter(brand=brand)
    }
    old = {n: z for n, z in old.items() if z.shape == (len(FEATURES),)}
    numbers = _matched_numbers(old, centres)
    keep: list[int] = []
    for index, number in enumerate(numbers):
        inside = labels == index
        raw = values[inside].mean(axis=0)
        order = np.argsort(-np.abs(centres[index]))[:TRAITS]
        traits = [{"feature": list(FEATURES)[i], "z": round(float(centres[index][i]), 2)} for i in order]
        centre = {name: round(float(raw[i]), 2) for i, name in enumerate(FEATURES)}
        centre["_z"] = [round(float(v), 4) for v in centres[index]]  # type: ignore[assignment]
        Persona.objects.update_or_create(
            brand=brand,
            number=number,
            defaults={"members": int(inside.sum()), "centre": centre, "traits": traits},
        )
        keep.append(number)
        ids = frame.loc[inside, "member_id"].tolist()
        for start in range(0, len(ids), UPDATE_CHUNK):
            MemberSummary.objects.filter(brand=brand, member_id__in=ids[start : start + UPDATE_CHUNK]).update(
                persona=number
            )
    Persona.objects.filter(brand=brand).exclude(number__in=keep).update(members=0)
    return list(Persona.objects.filter(brand=brand, members__gt=0))


def persona_describe(persona: Persona) -> list[dict[str, Any]]:
    """The traits in words: each feature, above or below average, by how many standard deviations."""
    return [
        {"label": FEATURES.get(t["feature"], t["feature"]), "z": t["z"], "above": t["z"] > 0}
        for t in persona.traits
    ]


@transaction.atomic
def persona_rename(*, brand: Brand, number: int, name: str, actor: Actor = SYSTEM) -> Persona:
    """A marketer's name for a persona (audited)."""
    name = " ".join((name or "").split())
    if len(name) > 100:
        raise ValidationFailed("a name is at most 100 characters", field="name")
    persona = Persona.objects.select_for_update().filter(brand=brand, number=number).first()
    if persona is None:
        raise NotFound(f"No persona {number}", code="persona_not_found")
    before = persona.name
    persona.name = name
    persona.save(update_fields=["name", "updated_at"])
    audit_record(
        brand=brand,
        actor=actor,
        action="persona.rename",
        target_type="persona",
        target_id=persona.pk,
        data={"from": before, "to": name},
    )
    return persona
