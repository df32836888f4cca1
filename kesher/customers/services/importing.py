"""Importing members, purchases and opening balances: checked first, written in chunks, resumable, idempotent.

A file is read once per run and handled `CHUNK` rows at a time: one query finds the chunk's existing rows by
external id, one statement per table writes its new rows, and the job's `last_row` moves on in the same
transaction, so an import killed half-way continues after the last chunk it committed. Rows with problems
are skipped (and reported); importing the same file again finds every row in place and reports it unchanged.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from kesher.activity.services import Draft, activities_record_many
from kesher.brands.models import Brand
from kesher.core.audit import Actor, audit_record
from kesher.core.errors import ValidationFailed
from kesher.customers.cleansing import Problem
from kesher.customers.models import ImportedRecord, ImportJob, ImportKind
from kesher.customers.readers import file_digest, rows_read
from kesher.customers.services.checking import Checked, Context, mapping_check, mapping_guess, row_check
from kesher.loyalty.models import PointsAccount, Store
from kesher.loyalty.services.opening import OpeningBalance, points_open_balances
from kesher.loyalty.services.program import program_of
from kesher.members.models import Channel, ConsentEvent, Member, MemberStatus
from kesher.members.services import REFERRAL_ALPHABET, birthday_keys

CHUNK = 5000
REPORT_LIMIT = 100_000  # problem rows kept for the report; the counts go on past it
_MEMBER_FIELDS = ("email", "phone", "first_name", "last_name", "birthday", "locale")


@dataclass
class Summary:
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    problems: list[Checked] = field(default_factory=list)
    dry_run: bool = False

    def count(self, outcome: str, checked: Checked | None = None) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)
        if checked is not None and checked.problems and len(self.problems) < REPORT_LIMIT:
            self.problems.append(checked)


def import_start(
    *, brand: Brand, kind: str, path: str | Path, file_name: str = "", mapping: dict[str, str] | None = None
) -> ImportJob:
    """The job for this file: an unfinished one of the same file and kind is resumed, else a new one."""
    if kind not in ImportKind.values:
        raise ValidationFailed("import members, purchases or balances", field="kind")
    path = Path(path)
    header, _ = rows_read(path)
    mapping = mapping or mapping_guess(header, kind)
    mapping_check(mapping, header, kind)
    digest = file_digest(path)
    unfinished = (
        ImportJob.objects.filter(brand=brand, kind=kind, digest=digest)
        .exclude(status=ImportJob.Status.DONE)
        .order_by("-created_at")
        .first()
    )
    if unfinished is not None and unfinished.mapping == mapping:
        if unfinished.path != str(path):
            ImportJob.objects.filter(pk=unfinished.pk).update(path=str(path))
            unfinished.path = str(path)
        return unfinished
    return ImportJob.objects.create(
        brand=brand,
        kind=kind,
        file_name=file_name or path.name,
        path=str(path),
        digest=digest,
        mapping=mapping,
    )


def import_mapping_set(*, job: ImportJob, mapping: dict[str, str]) -> ImportJob:
    header, _ = rows_read(job.path)
    mapping = {name: column for name, column in mapping.items() if column}
    mapping_check(mapping, header, job.kind)
    if job.last_row:
        raise ValidationFailed("this import has begun: its mapping is fixed", field="mapping")
    job.mapping = mapping
    job.save(update_fields=["mapping"])
    return job


def _context(brand: Brand) -> Context:
    stores = {code.lower() for code in Store.objects.filter(brand=brand).values_list("code", flat=True)}
    return Context(stores=stores, country=brand.default_country, time_zone=brand.time_zone)


def _mapped(job: ImportJob, start: int = 0) -> Iterator[tuple[int, dict[str, str]]]:
    header, rows = rows_read(job.path)
    where = {name: header.index(column) for name, column in job.mapping.items() if column in header}
    for number, row in enumerate(rows, start=1):
        if number <= start:
            continue
        yield number, {name: (row[index] if index < len(row) else "") for name, index in where.items()}


def import_preview(*, job: ImportJob, rows: int = 20) -> list[Checked]:
    """The first rows as they would be imported, each with its problems."""
    context = _context(job.brand)
    found = []
    for number, raw in _mapped(job):
        found.append(row_check(job.kind, number, raw, context))
        if len(found) >= rows:
            break
    return found


def _chunks(job: ImportJob, start: int) -> Iterator[list[Checked]]:
    context = _context(job.brand)
    chunk: list[Checked] = []
    for number, raw in _mapped(job, start):
        chunk.append(row_check(job.kind, number, raw, context))
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def import_run(
    *,
    job: ImportJob,
    actor: Actor,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Summary:
    """Import the good rows of the job's file from where it stopped; a dry run only reads and reports.

    The summary counts every row of this run (created, updated, unchanged, failed) and keeps the problem
    rows for the validation report. A dry run starts from the first row and writes nothing at all."""
    summary = Summary(dry_run=dry_run)
    start = 0 if dry_run else job.last_row
    if not dry_run:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.RUNNING, started_at=job.started_at or timezone.now()
        )
    handle = {ImportKind.MEMBERS: _members, ImportKind.PURCHASES: _purchases, ImportKind.BALANCES: _balances}[
        ImportKind(job.kind)
    ]
    for chunk in _chunks(job, start):
        before = (summary.created, summary.updated, summary.unchanged, summary.failed)
        if dry_run:
            handle(job, chunk, summary, write=False, actor=actor)
        else:
            with transaction.atomic():
                handle(job, chunk, summary, write=True, actor=actor)
                # The job moves on with the chunk: a run killed now resumes after this chunk, never inside it.
                job.last_row = chunk[-1].number
                job.created += summary.created - before[0]
                job.updated += summary.updated - before[1]
                job.unchanged += summary.unchanged - before[2]
                job.failed += summary.failed - before[3]
                job.save(update_fields=["last_row", "created", "updated", "unchanged", "failed"])
        summary.total += len(chunk)
        if progress is not None:
            progress(len(chunk))
    if not dry_run:
        job.status = ImportJob.Status.DONE
        job.total_rows = job.last_row
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "total_rows", "finished_at"])
        audit_record(
            brand=job.brand,
            actor=actor,
            action=f"customers.import.{job.kind}",
            target_type="import_job",
            target_id=job.pk,
            data={
                "file": job.file_name,
                "rows": summary.total,
                "created": summary.created,
                "updated": summary.updated,
                "unchanged": summary.unchanged,
                "failed": summary.failed,
            },
        )
    return summary


def _fail(checked: Checked, summary: Summary, name: str, code: str, message: str) -> None:
    checked.problems.append(Problem(field=name, code=code, message=message))
    summary.count("failed", checked)


def _good(chunk: list[Checked], summary: Summary) -> list[Checked]:
    """The chunk's rows without problems, each external id once (a repeat in the file is a problem)."""
    good: list[Checked] = []
    seen: dict[str, int] = {}
    for checked in chunk:
        if not checked.ok:
            summary.count("failed", checked)
            continue
        key = checked.values.get("external_id")
        if key and key in seen:
            _fail(
                checked, summary, "external_id", "repeated_row", f"row {seen[key]} has the same external id"
            )
            continue
        if key:
            seen[key] = checked.number
        good.append(checked)
    return good


# --- members ---------------------------------------------------------------------------------------------


def _luhn(digits: str) -> str:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


def _card_number() -> str:
    body = "8" + "".join(secrets.choice("0123456789") for _ in range(14))
    return body + _luhn(body)


def _referral_code() -> str:
    # Twelve letters rather than the API's eight: a million imported at once must not collide.
    return "".join(secrets.choice(REFERRAL_ALPHABET) for _ in range(12))


def _members(job: ImportJob, chunk: list[Checked], summary: Summary, *, write: bool, actor: Actor) -> None:
    brand = job.brand
    good = _good(chunk, summary)
    existing = {
        m.external_id: m
        for m in Member.objects.filter(brand=brand, external_id__in=[c.values["external_id"] for c in good])
    }
    emails = [c.values["email"] for c in good if c.values.get("email")]
    email_owner = dict(
        Member.objects.filter(brand=brand, email__in=emails).values_list("email", "external_id")
    )
    seen_emails: dict[str, str] = {}
    new: list[Member] = []
    consents: list[tuple[Member, str, bool]] = []
    changed: list[Member] = []
    now = timezone.now()
    mapped = set(job.mapping)
    for checked in good:
        values = checked.values
        email = values.get("email")
        if email:
            owner = email_owner.get(email, seen_emails.get(email))
            if owner is not None and owner != values["external_id"]:
                _fail(checked, summary, "email", "email_taken", f"{email} belongs to the member {owner}")
                continue
            seen_emails[email] = values["external_id"]
        member = existing.get(values["external_id"])
        if member is None:
            member = Member(
                id=uuid.uuid4(),
                brand=brand,
                external_id=values["external_id"],
                email=email,
                phone=values.get("phone"),
                first_name=values.get("first_name", ""),
                last_name=values.get("last_name", ""),
                birthday=values.get("birthday"),
                **birthday_keys(values.get("birthday")),
                locale=values.get("locale") or brand.default_locale,
                status=MemberStatus.ACTIVE,
                joined_at=now,
                source=f"import:{values['store']}"[:50] if values.get("store") else "import",
                card_number=_card_number(),
                referral_code=_referral_code(),
                consent_email=bool(values.get("consent_email")),
                consent_sms=bool(values.get("consent_sms")),
            )
            new.append(member)
            for channel in (Channel.EMAIL, Channel.SMS):
                if values.get(f"consent_{channel}") is not None:
                    consents.append((member, channel, bool(values[f"consent_{channel}"])))
            summary.count("created", checked)
            continue
        # An import fills and corrects; an empty cell never blanks what the member has.
        updates = {
            name: values[name]
            for name in _MEMBER_FIELDS
            if name in mapped and values.get(name) not in (None, "") and getattr(member, name) != values[name]
        }
        if updates:
            for name, value in updates.items():
                setattr(member, name, value)
            if "birthday" in updates:
                for key, value in birthday_keys(member.birthday).items():
                    setattr(member, key, value)
            changed.append(member)
            summary.count("updated", checked)
        else:
            summary.count("unchanged", checked)
    if not write:
        return
    Member.objects.bulk_create(new, batch_size=CHUNK)
    # What loyalty's on_member_created hook does for one member, for the whole chunk in one statement.
    allow_debt = program_of(brand.pk).allow_debt
    PointsAccount.objects.bulk_create(
        [PointsAccount(member=m, brand=brand, allow_debt=allow_debt) for m in new], batch_size=CHUNK
    )
    ConsentEvent.objects.bulk_create(
        [
            ConsentEvent(
                brand=brand,
                member=m,
                channel=channel,
                granted=granted,
                source="import",
                wording=f"imported from {job.file_name}"[:500],
                origin=f"import job {job.pk}",
                occurred_at=now,
            )
            for m, channel, granted in consents
        ],
        batch_size=CHUNK,
    )
    if changed:
        Member.objects.bulk_update(
            changed, [*_MEMBER_FIELDS, "birthday_md", "hebrew_birthday_md", "updated_at"], batch_size=1000
        )


# --- purchases --------------------------------------------------------------------------------------------


def _members_by_external_id(brand: Brand, chunk: list[Checked]) -> dict[str, Member]:
    ids = {c.values.get("member_external_id") for c in chunk} - {None}
    return {
        m.external_id: m for m in Member.objects.filter(brand=brand, external_id__in=ids) if m.external_id
    }


def _purchases(job: ImportJob, chunk: list[Checked], summary: Summary, *, write: bool, actor: Actor) -> None:
    brand = job.brand
    good = _good(chunk, summary)
    members = _members_by_external_id(brand, good)
    drafts: list[tuple[Checked, Draft]] = []
    for checked in good:
        values = checked.values
        member = members.get(values["member_external_id"])
        if member is None:
            _fail(
                checked,
                summary,
                "member_external_id",
                "unknown_member",
                f"no member has the external id {values['member_external_id']!r}",
            )
            continue
        attributes: dict[str, Any] = {"amount": values["amount"], "currency": values["currency"]}
        if values.get("store"):
            attributes["store"] = values["store"]
        drafts.append(
            (
                checked,
                Draft(
                    member=member,
                    type="purchase",
                    attributes=attributes,
                    occurred_at=values.get("occurred_at"),
                    source="import",
                    external_id=values["external_id"],
                ),
            )
        )
    if not write:
        from kesher.activity.models import Activity

        known = set(
            Activity.objects.filter(
                brand=brand, source="import", external_id__in=[d.external_id for _, d in drafts]
            ).values_list("external_id", flat=True)
        )
        for checked, draft in drafts:
            summary.count("unchanged" if draft.external_id in known else "created", checked)
        return
    for (checked, _), outcome in zip(
        drafts, activities_record_many(brand=brand, drafts=[d for _, d in drafts]), strict=True
    ):
        if outcome.error is not None:
            _fail(checked, summary, outcome.error.field or "", outcome.error.code, outcome.error.message)
        else:
            summary.count("created" if outcome.created else "unchanged", checked)


# --- opening balances --------------------------------------------------------------------------------------


def _fingerprint(values: dict[str, Any]) -> str:
    text = json.dumps(
        values, sort_keys=True, default=lambda v: v.isoformat() if isinstance(v, date) else str(v)
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _balances(job: ImportJob, chunk: list[Checked], summary: Summary, *, write: bool, actor: Actor) -> None:
    brand = job.brand
    good = _good(chunk, summary)
    members = _members_by_external_id(brand, good)
    done = dict(
        ImportedRecord.objects.filter(
            brand=brand, kind=ImportKind.BALANCES, external_id__in=[c.values["external_id"] for c in good]
        ).values_list("external_id", "fingerprint")
    )
    balances: list[OpeningBalance] = []
    records: list[ImportedRecord] = []
    for checked in good:
        values = checked.values
        member = members.get(values["member_external_id"])
        if member is None:
            _fail(
                checked,
                summary,
                "member_external_id",
                "unknown_member",
                f"no member has the external id {values['member_external_id']!r}",
            )
            continue
        fingerprint = _fingerprint({k: values.get(k) for k in ("member_external_id", "points", "expires_at")})
        if values["external_id"] in done:
            if done[values["external_id"]] != fingerprint:
                _fail(
                    checked,
                    summary,
                    "points",
                    "already_imported",
                    "this balance was imported before with other values; it is not applied twice",
                )
            else:
                summary.count("unchanged", checked)
            continue
        balances.append(
            OpeningBalance(
                member_id=member.pk,
                points=values["points"],
                expires_at=values.get("expires_at"),
                description=f"Opening balance ({job.file_name})",
            )
        )
        records.append(
            ImportedRecord(
                brand=brand,
                kind=ImportKind.BALANCES,
                external_id=values["external_id"],
                fingerprint=fingerprint,
                member_id=member.pk,
            )
        )
        summary.count("created", checked)
    if write and balances:
        points_open_balances(brand=brand, balances=balances, actor=actor, source=f"import {job.file_name}")
        ImportedRecord.objects.bulk_create(records, batch_size=CHUNK)
