"""Probable duplicate members, found with Splink 4 on DuckDB (embedded, in-process).

Records are compared on name (a spelling-free key, so "כהן" meets "Cohen", and swapped first and last
names are a level of their own), phone (E.164), email and birthday. Splink's Fellegi-Sunter model gives
each compared pair a match probability: it is trained on the brand's own members (the chance two random
records match, u by random sampling, m by expectation maximisation) when there are enough of them, and
falls back to a model trained on generated people. New members are checked on arrival: a blocking query
finds the few existing members they could be, and the trained model scores them
(`find_matches_to_new_records`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from kesher.brands.models import Brand
from kesher.customers.cleansing import name_key
from kesher.customers.models import DedupeModel, DuplicatePair, MemberMerge
from kesher.members.models import Member, MemberStatus

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)
logging.getLogger("splink").setLevel(logging.WARNING)  # its INFO lines narrate every training step

TRAIN_MIN_MEMBERS = 2000  # fewer, and EM has too few pairs to learn from: the generated people's model
DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "default_model.json"
STORE_MIN_PROBABILITY = 0.5
COLUMNS = ["unique_id", "first_key", "last_key", "name_concat", "phone", "email", "birthday"]


def _blank(value: str | None) -> str | None:
    return value if value else None


def record_row(
    unique_id: str, first: str, last: str, phone: str | None, email: str | None, birthday: Any
) -> dict[str, Any]:
    """One member as the duplicate finder compares them."""
    first_key, last_key = _blank(name_key(first)), _blank(name_key(last))
    return {
        "unique_id": unique_id,
        "first_key": first_key,
        "last_key": last_key,
        "name_concat": _blank(f"{first_key or ''}{last_key or ''}"),
        "phone": _blank(phone),
        "email": _blank((email or "").strip().lower()),
        "birthday": _blank(birthday.isoformat() if hasattr(birthday, "isoformat") else birthday),
    }


def _settings() -> Any:
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[
            # Term frequencies: "כהן" shared says less than a rare name shared.
            cl.ForenameSurnameComparison(
                "first_key", "last_key", forename_surname_concat_col_name="name_concat"
            ).configure(term_frequency_adjustments=True),
            cl.ExactMatch("phone"),
            cl.EmailComparison("email"),
            cl.DateOfBirthComparison("birthday", input_is_string=True),
        ],
        blocking_rules_to_generate_predictions=_blocking_rules(block_on),
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=True,
    )


def _blocking_rules(block_on: Any) -> list[Any]:
    # Pairs are only compared when they share one of these: each rule an equality DuckDB joins by hashing.
    return [
        block_on("phone"),
        block_on("email"),
        block_on("name_concat"),
        block_on("birthday", "substr(last_key, 1, 1)"),
        block_on("birthday", "substr(first_key, 1, 1)"),
        "l.first_key = r.last_key and l.last_key = r.first_key",
    ]


def _linker(frame: pd.DataFrame, settings: Any) -> Any:
    from splink import DuckDBAPI, Linker

    return Linker(frame, settings, db_api=DuckDBAPI())


def model_train(frame: pd.DataFrame, *, u_pairs: float = 1e6) -> dict[str, Any]:
    """Train the model on these records; returns its settings with the learnt probabilities."""
    from splink import block_on

    linker = _linker(frame, _settings())
    linker.training.estimate_probability_two_random_records_match(
        [block_on("phone", "name_concat"), block_on("email")], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=u_pairs, seed=18)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("phone"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("birthday"))
    settings: dict[str, Any] = linker.misc.save_model_to_json()
    return settings


@cache
def default_model() -> dict[str, Any]:
    """The model trained on generated people (kesher/customers/default_model.json), for small brands."""
    if not DEFAULT_MODEL.exists():
        from kesher.customers.synthetic import people

        frame = _frame(
            record_row(p.external_id, p.first_name, p.last_name, _phone(p.phone), p.email, p.birthday)
            for p in people(3000, 900)
        )
        DEFAULT_MODEL.write_text(json.dumps(model_train(frame, u_pairs=3e5), indent=1))
    loaded: dict[str, Any] = json.loads(DEFAULT_MODEL.read_text())
    return loaded


def _phone(raw: str) -> str | None:
    from kesher.core.errors import ValidationFailed
    from kesher.customers.cleansing import phone_clean

    try:
        return phone_clean(raw)
    except ValidationFailed:
        return None


def _frame(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    import pandas as pd

    # Text throughout: a column that is empty in every row must still reach DuckDB as VARCHAR.
    return pd.DataFrame.from_records(list(rows), columns=COLUMNS).astype("string")


def _reasons(row: dict[str, Any]) -> list[str]:
    """What speaks for the pair: each comparison whose Bayes factor is above 1, said in words."""
    reasons = []

    def same(name: str) -> bool:
        return row.get(f"{name}_l") is not None and row.get(f"{name}_l") == row.get(f"{name}_r")

    def evidence(name: str) -> bool:
        factor = row.get(f"bf_{name}")
        return factor is not None and factor == factor and factor > 1  # NaN is not evidence

    if evidence("first_key_last_key"):
        if same("name_concat"):
            reasons.append("same name")
        elif row.get("first_key_l") == row.get("last_key_r") and row.get("last_key_l") == row.get(
            "first_key_r"
        ):
            reasons.append("same name, first and last swapped")
        else:
            reasons.append("similar name")
    if evidence("phone"):
        reasons.append("same phone")
    if evidence("email"):
        reasons.append("same email" if same("email") else "similar email")
    if evidence("birthday"):
        reasons.append("same birthday" if same("birthday") else "close birthday")
    return reasons


def _without_term_frequencies(settings: dict[str, Any]) -> dict[str, Any]:
    """The model without term-frequency adjustments: over a handful of records (a small brand, or the few
    candidates of a new member) the frequencies say nothing about how common a name is."""
    plain = json.loads(json.dumps(settings))
    for comparison in plain.get("comparisons", []):
        for level in comparison.get("comparison_levels", []):
            level.pop("tf_adjustment_column", None)
            level.pop("tf_adjustment_weight", None)
            level.pop("tf_minimum_u_value", None)
    return plain


def pairs_predict(
    frame: pd.DataFrame,
    *,
    settings: dict[str, Any] | None = None,
    min_probability: float = STORE_MIN_PROBABILITY,
) -> list[tuple[str, str, float, list[str]]]:
    """Every pair of records above `min_probability`: (id, id, probability, reasons), ids in order."""
    if len(frame) < 2:
        return []
    settings = settings if settings is not None else model_train(frame)
    if len(frame) < TRAIN_MIN_MEMBERS:
        settings = _without_term_frequencies(settings)
    linker = _linker(frame, settings)
    predictions = linker.inference.predict(threshold_match_probability=min_probability)
    found = []
    for row in predictions.as_pandas_dataframe().to_dict("records"):
        a, b = sorted([str(row["unique_id_l"]), str(row["unique_id_r"])])
        found.append((a, b, float(row["match_probability"]), _reasons(row)))
    return found


def _members_frame(brand: Brand, only: Q | None = None) -> pd.DataFrame:
    """The brand's members who could have duplicates (not erased, not merged away), read in one pass."""
    members = Member.objects.filter(brand=brand, status__in=[MemberStatus.ACTIVE, MemberStatus.PROSPECT])
    if only is not None:
        members = members.filter(only)
    merged = MemberMerge.objects.filter(brand=brand, undone_at__isnull=True).values("source_id")
    members = members.exclude(pk__in=merged)
    rows = members.values_list("id", "first_name", "last_name", "phone", "email", "birthday")
    return _frame(
        record_row(str(pk), f, l_, p, e, b) for pk, f, l_, p, e, b in rows.iterator(chunk_size=20_000)
    )


@dataclass(frozen=True)
class DedupeResult:
    members: int
    pairs: int
    new_pairs: int
    trained: bool


def duplicates_find(*, brand: Brand, min_probability: float = STORE_MIN_PROBABILITY) -> DedupeResult:
    """Find the brand's probable duplicate pairs and store the new ones for review; pairs already decided
    (merged, or "not a duplicate") are not proposed again. Trains and keeps the brand's model when it has
    enough members."""
    frame = _members_frame(brand)
    trained = len(frame) >= TRAIN_MIN_MEMBERS
    settings = model_train(frame) if trained else default_model()
    # Kept even when it is the default model: a brand that has looked for duplicates once has its new
    # members checked on arrival from then on.
    DedupeModel.objects.update_or_create(
        brand=brand,
        defaults={
            "settings": settings,
            "trained_at": timezone.now(),
            "members": len(frame) if trained else 0,
        },
    )
    found = pairs_predict(frame, settings=settings, min_probability=min_probability)
    new = pairs_store(brand=brand, pairs=found)
    return DedupeResult(members=len(frame), pairs=len(found), new_pairs=new, trained=trained)


def pairs_store(*, brand: Brand, pairs: list[tuple[str, str, float, list[str]]]) -> int:
    """Store pairs not seen before; open ones get their new probability. Returns how many are new."""
    created = 0
    with transaction.atomic():
        for start in range(0, len(pairs), 5000):
            chunk = pairs[start : start + 5000]
            known = {
                (str(a), str(b)): (pk, status)
                for pk, a, b, status in DuplicatePair.objects.filter(
                    brand=brand, member_a_id__in=[p[0] for p in chunk]
                ).values_list("pk", "member_a_id", "member_b_id", "status")
            }
            fresh = [
                DuplicatePair(brand=brand, member_a_id=a, member_b_id=b, probability=prob, reasons=reasons)
                for a, b, prob, reasons in chunk
                if (a, b) not in known
            ]
            DuplicatePair.objects.bulk_create(fresh, ignore_conflicts=True, batch_size=5000)
            created += len(fresh)
            reopen = [
                DuplicatePair(pk=known[(a, b)][0], probability=prob, reasons=reasons)
                for a, b, prob, reasons in chunk
                if (a, b) in known and known[(a, b)][1] == DuplicatePair.Status.OPEN
            ]
            DuplicatePair.objects.bulk_update(reopen, ["probability", "reasons"], batch_size=1000)
    return created


def member_duplicates_check(*, member: Member, min_probability: float = STORE_MIN_PROBABILITY) -> int:
    """Compare one (new) member with the brand's existing members who share a phone, an email, a birthday
    or a name key: a blocking query in the database, then Splink's find_matches_to_new_records over just
    those candidates. Stores the pairs found; returns how many."""
    from splink import block_on

    if member.status not in (MemberStatus.ACTIVE, MemberStatus.PROSPECT):
        return 0
    blocks = Q(pk__in=[])
    if member.phone:
        blocks |= Q(phone=member.phone)
    if member.email:
        blocks |= Q(email=member.email)
    if member.birthday:
        blocks |= Q(birthday=member.birthday)
    names = [n for n in (member.first_name, member.last_name) if n]
    for name in names:
        blocks |= Q(first_name__iexact=name) | Q(last_name__iexact=name)
    candidates = _members_frame(member.brand, blocks & ~Q(pk=member.pk))
    if candidates.empty:
        return 0
    stored = DedupeModel.objects.filter(brand=member.brand).first()
    settings = stored.settings if stored is not None else default_model()
    linker = _linker(candidates, _without_term_frequencies(settings))
    new = _frame(
        [
            record_row(
                str(member.pk),
                member.first_name,
                member.last_name,
                member.phone,
                member.email,
                member.birthday,
            )
        ]
    )
    rules = _blocking_rules(block_on)
    matches = linker.inference.find_matches_to_new_records(
        new, blocking_rules=rules, match_weight_threshold=-10
    )
    found = []
    for row in matches.as_pandas_dataframe().to_dict("records"):
        if float(row["match_probability"]) < min_probability:
            continue
        a, b = sorted([str(row["unique_id_l"]), str(row["unique_id_r"])])
        found.append((a, b, float(row["match_probability"]), _reasons(row)))
    pairs_store(brand=member.brand, pairs=found)
    return len(found)


def member_arrived(*, member: Member) -> None:
    """on_member_created: once the brand has looked for duplicates, each new member is compared with the
    existing ones in the background after the commit (one indexed lookup here, nothing more)."""
    from kesher.core.tasks import enqueue

    if DedupeModel.objects.filter(brand_id=member.brand_id).exists():
        member_id = str(member.pk)
        transaction.on_commit(lambda: enqueue("kesher.customers.tasks.member_duplicates_check", member_id))
