"""CSV upload of an export (a social-listening tool's, a review site's): the file is kept, its columns are
mapped to a mention's fields on the console, then its rows are taken in a thousand at a time.

A row's key is the mapped id column, or else a hash of its source, text, time and author, so the same file
uploaded twice adds nothing. The brand's CSV connector keeps, as its cursor, the last file imported.
"""

from __future__ import annotations

import csv
import hashlib
import io
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from kesher.brands.models import Brand
from kesher.core.audit import Actor, audit_record
from kesher.core.errors import NotFound, ValidationFailed
from kesher.listening.models import Connector, ConnectorKind, CsvUpload
from kesher.listening.services.ingest import MAX_BATCH, MentionIn, mention_clean, mentions_ingest

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
MAX_ERRORS_KEPT = 50
# A mention's fields a column may fill, in the order the mapping form shows them.
FIELDS = (
    "text",
    "external_id",
    "posted_at",
    "source",
    "url",
    "author_handle",
    "author_name",
    "author_followers",
    "shares",
    "engagement",
    "language",
    "in_reply_to",
    "author_email",
    "author_phone",
)
# Column names commonly found in exports, per field (compared lowercased, without spaces or underscores).
GUESSES = {
    "text": ("text", "message", "content", "body", "mention", "post", "טקסט", "תוכן"),
    "external_id": ("id", "externalid", "postid", "mentionid", "messageid", "guid"),
    "posted_at": ("postedat", "date", "time", "created", "createdat", "published", "timestamp", "תאריך"),
    "source": ("source", "network", "platform", "site", "channel", "מקור"),
    "url": ("url", "link", "permalink", "קישור"),
    "author_handle": ("handle", "username", "user", "authorhandle", "screenname"),
    "author_name": ("name", "author", "authorname", "fullname", "שם"),
    "author_followers": ("followers", "followercount", "authorfollowers", "reach", "עוקבים"),
    "shares": ("shares", "retweets", "reposts", "שיתופים"),
    "engagement": ("engagement", "likes", "reactions", "interactions", "לייקים"),
    "language": ("language", "lang", "שפה"),
    "in_reply_to": ("inreplyto", "parentid", "replyto"),
    "author_email": ("email", "authoremail", "אימייל", "דואל"),
    "author_phone": ("phone", "authorphone", "mobile", "טלפון"),
}
DATE_FORMATS = (
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y",
    "%d.%m.%Y %H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)


def _folder(brand: Brand) -> Path:
    folder = Path(settings.MEDIA_ROOT) / "listening-uploads" / str(brand.pk)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _decoded(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1255", errors="replace")  # Hebrew Windows, what older Excel exports


def _rows(text: str) -> Iterator[list[str]]:
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    for row in csv.reader(io.StringIO(text, newline=""), dialect):
        if any(cell.strip() for cell in row):
            yield [cell.strip() for cell in row]


def mapping_guess(columns: list[str]) -> dict[str, str]:
    """The column each field most likely comes from, by the export's column names."""
    squashed = {
        column.lower().replace(" ", "").replace("_", "").replace("-", ""): column for column in columns
    }
    guessed: dict[str, str] = {}
    for field_name in FIELDS:
        for guess in GUESSES[field_name]:
            if guess in squashed and squashed[guess] not in guessed.values():
                guessed[field_name] = squashed[guess]
                break
    return guessed


@transaction.atomic
def csv_upload(*, brand: Brand, file_name: str, content: bytes, actor: Actor) -> CsvUpload:
    """Keep an uploaded export and read its header; 422 for a file that is empty, too big or not CSV."""
    if not content:
        raise ValidationFailed("The file is empty", field="file", code="file_empty")
    if len(content) > MAX_FILE_BYTES:
        raise ValidationFailed("The file is larger than 20 MB", field="file", code="file_too_large")
    if b"\x00" in content[:4096]:
        raise ValidationFailed("The file is not a CSV (text) file", field="file", code="file_not_csv")
    rows = _rows(_decoded(content))
    header = next(rows, None)
    if not header or not any(header):
        raise ValidationFailed("The file has no header row", field="file", code="file_empty")
    count = sum(1 for _ in rows)
    if count > MAX_ROWS:
        raise ValidationFailed(f"At most {MAX_ROWS:,} rows a file", field="file", code="file_too_large")
    upload_id = uuid.uuid4()
    path = _folder(brand) / f"{upload_id}.csv"
    path.write_bytes(content)
    upload = CsvUpload.objects.create(
        id=upload_id,
        brand=brand,
        file_name=Path(file_name or "upload.csv").name[:200],
        path=str(path.relative_to(settings.MEDIA_ROOT)),
        sha256=hashlib.sha256(content).hexdigest(),
        columns=header,
        rows=count,
        mapping=mapping_guess(header),
    )
    audit_record(
        brand=brand,
        actor=actor,
        action="listening.csv_upload",
        target_type="csv_upload",
        target_id=upload.pk,
        data={"file": upload.file_name, "rows": count},
    )
    return upload


def upload_get(*, brand: Brand, upload_id: Any) -> CsvUpload:
    try:
        return CsvUpload.objects.get(brand=brand, pk=upload_id)
    except (CsvUpload.DoesNotExist, ValueError):
        raise NotFound("No such upload", code="upload_not_found") from None


def _posted(value: str, zone: ZoneInfo) -> datetime | None:
    if not value:
        return None
    try:
        found = parse_datetime(value.replace("Z", "+00:00"))
    except ValueError:
        found = None
    if found is None:
        for pattern in DATE_FORMATS:
            try:
                found = datetime.strptime(value, pattern)  # noqa: DTZ007  (the brand's zone is set below)
                break
            except ValueError:
                continue
    if found is None:
        raise ValidationFailed(f"{value!r} is not a date and time", field="posted_at")
    return found if timezone.is_aware(found) else found.replace(tzinfo=zone)


def _row_item(
    cells: dict[str, str], mapping: dict[str, str], source: str, zone: ZoneInfo, now: datetime
) -> MentionIn:
    def cell(field_name: str) -> str:
        column = mapping.get(field_name)
        return cells.get(column, "") if column else ""

    text = cell("text")
    row_source = (cell("source") or source).lower()
    posted = _posted(cell("posted_at"), zone) or now
    external_id = cell("external_id")
    if not external_id:
        key = "\x1f".join([row_source, text, cell("posted_at"), cell("author_handle"), cell("author_name")])
        external_id = "csv:" + hashlib.sha256(key.encode()).hexdigest()[:40]
    return mention_clean(
        MentionIn(
            source=row_source,
            external_id=external_id,
            text=text,
            posted_at=posted,
            url=cell("url"),
            author_handle=cell("author_handle"),
            author_name=cell("author_name"),
            author_followers=cell("author_followers") or None,  # type: ignore[arg-type]
            shares=cell("shares") or 0,  # type: ignore[arg-type]
            engagement=cell("engagement") or 0,  # type: ignore[arg-type]
            language=cell("language"),
            parent_external_id=cell("in_reply_to"),
            author_email=cell("author_email"),
            author_phone=cell("author_phone"),
        )
    )


def csv_connector(*, brand: Brand) -> Connector:
    connector = Connector.objects.filter(brand=brand, kind=ConnectorKind.CSV).order_by("created_at").first()
    if connector is None:
        connector = Connector.objects.create(brand=brand, kind=ConnectorKind.CSV, name="CSV", source="csv")
    return connector


def csv_import(
    *, brand: Brand, upload_id: Any, mapping: dict[str, str], source: str = "csv", actor: Actor
) -> CsvUpload:
    """Take the upload's rows in with this mapping (field → column). Rows that do not make a mention are
    skipped and the first of their reasons kept; the rest come in, a thousand to a transaction."""
    upload = upload_get(brand=brand, upload_id=upload_id)
    mapping = {name: column for name, column in mapping.items() if name in FIELDS and column}
    unknown = [column for column in mapping.values() if column not in upload.columns]
    if unknown:
        raise ValidationFailed(
            f"The file has no column {unknown[0]!r}", field="mapping", code="unknown_column"
        )
    if "text" not in mapping:
        raise ValidationFailed(
            "Choose the column that holds the mention's text", field="text", code="text_unmapped"
        )
    source = (source or "csv").strip().lower()
    mention_clean(
        MentionIn(source=source, external_id="x", text="x", posted_at=timezone.now())
    )  # the source's form
    zone = ZoneInfo(settings.TIME_ZONE)
    now = timezone.now()
    connector = csv_connector(brand=brand)
    rows = _rows(_decoded((Path(settings.MEDIA_ROOT) / upload.path).read_bytes()))
    header = next(rows, [])
    added = skipped = 0
    errors: list[str] = []
    batch: list[MentionIn] = []

    def flush() -> None:
        nonlocal added
        if batch:
            added += mentions_ingest(brand=brand, items=batch, connector=connector).added
            batch.clear()

    for number, row in enumerate(rows, start=2):
        cells = dict(zip(header, row, strict=False))
        try:
            batch.append(_row_item(cells, mapping, source, zone, now))
        except ValidationFailed as exc:
            skipped += 1
            if len(errors) < MAX_ERRORS_KEPT:
                errors.append(f"row {number}: {exc.message}")
        if len(batch) >= MAX_BATCH:
            flush()
    flush()
    with transaction.atomic():
        CsvUpload.objects.filter(pk=upload.pk).update(
            mapping=mapping, added=added, skipped=skipped, errors=errors, imported_at=timezone.now()
        )
        Connector.objects.filter(pk=connector.pk).update(
            last_run_at=timezone.now(),
            last_added=added,
            last_error="",
            cursor={
                "last_upload": str(upload.pk),
                "file": upload.file_name,
                "sha256": upload.sha256,
                "rows": upload.rows,
            },
        )
        audit_record(
            brand=brand,
            actor=actor,
            action="listening.csv_import",
            target_type="csv_upload",
            target_id=upload.pk,
            data={"added": added, "skipped": skipped, "mapping": mapping},
        )
    upload.refresh_from_db()
    return upload
