"""Reading import files: CSV with the csv module, XLSX (XLS, ODS) with python-calamine, as rows of text."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from kesher.core.errors import ValidationFailed

SHEETS = (".xlsx", ".xlsm", ".xls", ".ods")


def file_digest(path: str | Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def _cell(value: Any) -> str:
    """A sheet's cell as the text a CSV would hold: dates ISO, whole numbers without ".0"."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _csv_rows(path: Path) -> Iterator[list[str]]:
    raw = path.open("rb").read(4096)
    encoding = "utf-8-sig"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        encoding = "cp1255"  # Hebrew Windows, what older Israeli tills and Excel export
    with path.open(encoding=encoding, newline="") as handle:
        sample = handle.read(4096)
        handle.seek(0)
        try:
            dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        for row in csv.reader(handle, dialect):
            yield [cell.strip() for cell in row]


def _sheet_rows(path: Path) -> Iterator[list[str]]:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    sheet = book.get_sheet_by_index(0)
    for row in sheet.iter_rows():
        yield [_cell(value) for value in row]


def rows_read(path: str | Path) -> tuple[list[str], Iterator[list[str]]]:
    """The header and an iterator over the data rows of the file's first sheet; blank rows skipped."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in SHEETS:
        rows = _sheet_rows(path)
    elif suffix in (".csv", ".txt", ".tsv"):
        rows = _csv_rows(path)
    else:
        raise ValidationFailed("the file must be CSV or Excel (XLSX)", field="file")
    try:
        header = next(rows)
    except StopIteration:
        raise ValidationFailed("the file is empty", field="file") from None
    except Exception as error:  # calamine's own errors for a file that is not a sheet
        raise ValidationFailed(f"the file cannot be read: {error}", field="file") from None
    return [h.strip() for h in header], (row for row in rows if any(row))


def rows_count(path: str | Path) -> int:
    _, rows = rows_read(path)
    return sum(1 for _ in rows)


def _as_text(value: object) -> str:
    return "" if value is None else str(value)


def csv_text(header: list[str], rows: list[list[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([[_as_text(v) for v in row] for row in rows])
    return out.getvalue()
