"""The validation report of an import, one line per problem: CSV to download, or XLSX (openpyxl)."""

from __future__ import annotations

import io

from kesher.customers.services.checking import Checked

HEADER = ["line", "row", "external_id", "field", "problem", "message", "suggestion"]


def report_rows(problems: list[Checked]) -> list[list[object]]:
    """Each problem of each row: its line in the file (the header is line 1), what is wrong and why."""
    rows: list[list[object]] = []
    for checked in sorted(problems, key=lambda c: c.number):
        for problem in checked.problems:
            rows.append(
                [
                    checked.number + 1,
                    checked.number,
                    checked.values.get("external_id") or "",
                    problem.field,
                    problem.code,
                    problem.message,
                    problem.suggestion,
                ]
            )
    return rows


def report_csv(problems: list[Checked]) -> str:
    from kesher.customers.readers import csv_text

    return csv_text(HEADER, report_rows(problems))


def report_xlsx(problems: list[Checked]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("problems")
    sheet.append(HEADER)
    for row in report_rows(problems):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
