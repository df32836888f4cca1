"""Importing members, purchases and opening balances: checked, idempotent, resumable, batched."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook

from kesher.core.audit import SYSTEM
from kesher.core.tests.fingerprint import changed_models, rows_fingerprint
from kesher.customers.cleansing import email_suggestion, name_clean, name_key, phone_clean
from kesher.customers.models import ImportJob
from kesher.customers.reports import report_csv
from kesher.customers.services import import_run, import_start
from kesher.customers.services import importing as importing_module
from kesher.loyalty.models import PointsAccount, PointsLot, Store
from kesher.loyalty.services import ledger_verify
from kesher.members.models import ConsentEvent, Member

pytestmark = pytest.mark.django_db

HEADER = ["Customer ID", "First name", "Last name", "E-mail", "Mobile", "Birthday", "Store", "SMS consent"]
ROWS = [
    ["c1", "  noa   ", "LEVI", "Noa@Example.org", "050-123 4567", "1990-04-01", "tlv", "yes"],
    ["c2", "שלוםם", "כהנ", "dan@gmial.com", "+972 52 765 4321", "02/03/1985", "", "no"],
    ["c3", "Bad", "Phone", "bad@example.org", "12", "1980-01-01", "", ""],
    ["c4", "Bad", "Email", "not-an-email", "", "", "", ""],
    ["c5", "Future", "Born", "", "", "2190-01-01", "", ""],
    ["c6", "Unknown", "Store", "", "", "", "nowhere", ""],
]


def _csv(
    tmp_path: Path, rows: list[list[str]], name: str = "members.csv", header: list[str] = HEADER
) -> Path:
    path = tmp_path / name
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_names_phones_and_emails_are_cleaned_and_typos_only_suggested():
    assert name_clean("  noa   bat  ") == "Noa Bat"
    assert name_clean("COHEN") == "Cohen"
    assert name_clean("McDonald") == "McDonald"
    assert name_clean("שלוםם") == "שלומם"  # a final mem inside the word is a typo
    assert name_clean("כהנ") == "כהן"  # and a word ends with the final form
    assert phone_clean("050-123 4567") == phone_clean("+972 50 123 4567") == phone_clean("972501234567")
    assert phone_clean("050-123 4567") == "+972501234567"
    assert email_suggestion("dan@gmial.com") == "dan@gmail.com"
    assert email_suggestion("dan@gmail.com") is None
    assert name_key("כהן") == name_key("Cohen") == name_key("Kohen")
    assert name_key("יוסי") == name_key("Yossi")


def test_the_validation_report_says_per_row_what_is_wrong_and_a_dry_run_writes_nothing(brand, tmp_path):
    Store.objects.create(brand=brand, name="Tel Aviv", code="tlv")
    job = import_start(brand=brand, kind="members", path=_csv(tmp_path, ROWS))
    assert job.mapping == {
        "external_id": "Customer ID", "first_name": "First name", "last_name": "Last name", "email": "E-mail",
        "phone": "Mobile", "birthday": "Birthday", "store": "Store", "consent_sms": "SMS consent",
    }  # fmt: skip
    before = rows_fingerprint()
    summary = import_run(job=job, actor=SYSTEM, dry_run=True)
    assert changed_models(before, rows_fingerprint()) == []
    assert (summary.total, summary.created, summary.failed) == (6, 2, 4)
    problems = {c.values["external_id"]: [(p.field, p.code) for p in c.problems] for c in summary.problems}
    assert problems == {
        "c2": [("email", "email_typo")],
        "c3": [("phone", "bad_phone")],
        "c4": [("email", "bad_email")],
        "c5": [("birthday", "impossible_birthday")],
        "c6": [("store", "unknown_store")],
    }
    report = list(csv.reader(report_csv(summary.problems).splitlines()))
    assert report[0] == ["line", "row", "external_id", "field", "problem", "message", "suggestion"]
    assert report[1][:5] == ["3", "2", "c2", "email", "email_typo"] and report[1][6] == "dan@gmail.com"
    assert report[2][:5] == ["4", "3", "c3", "phone", "bad_phone"] and "'12'" in report[2][5]


def test_the_good_rows_are_imported_normalised_and_a_second_run_changes_nothing(brand, tmp_path):
    Store.objects.create(brand=brand, name="Tel Aviv", code="tlv")
    path = _csv(tmp_path, ROWS)
    summary = import_run(job=import_start(brand=brand, kind="members", path=path), actor=SYSTEM)
    assert (summary.created, summary.failed) == (2, 4)
    noa = Member.objects.get(brand=brand, external_id="c1")
    assert (noa.first_name, noa.last_name, noa.email, noa.phone) == (
        "Noa",
        "Levi",
        "noa@example.org",
        "+972501234567",
    )
    assert (str(noa.birthday), noa.source, noa.consent_sms) == ("1990-04-01", "import:tlv", True)
    dan = Member.objects.get(brand=brand, external_id="c2")
    assert (dan.first_name, dan.last_name, dan.email) == ("שלומם", "כהן", "dan@gmial.com")  # suggested only
    assert str(dan.birthday) == "1985-03-02"
    assert PointsAccount.objects.filter(member__in=[noa, dan]).count() == 2
    assert ConsentEvent.objects.filter(member=noa, channel="sms", granted=True, source="import").count() == 1

    before = rows_fingerprint()
    again = import_run(job=import_start(brand=brand, kind="members", path=path), actor=SYSTEM)
    assert (again.created, again.updated, again.unchanged, again.failed) == (0, 0, 2, 4)
    assert set(changed_models(before, rows_fingerprint())) <= {"customers.importjob", "core.auditentry"}

    fixed = _csv(tmp_path, [["c1", "Noa", "Levi", "", "052-000 0000", "", "", ""]], name="fix.csv")
    third = import_run(job=import_start(brand=brand, kind="members", path=fixed), actor=SYSTEM)
    assert (third.updated, third.unchanged) == (1, 0)
    noa.refresh_from_db()
    assert (noa.phone, noa.email) == ("+972520000000", "noa@example.org")  # an empty cell blanks nothing


def test_xlsx_is_read_like_csv(brand, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["external_id", "first_name", "phone", "birthday"])
    sheet.append(["x1", "Tamar", "0541234567", "1991-05-06"])
    path = tmp_path / "members.xlsx"
    book.save(path)
    summary = import_run(job=import_start(brand=brand, kind="members", path=path), actor=SYSTEM)
    assert summary.created == 1
    assert Member.objects.get(brand=brand, external_id="x1").phone == "+972541234567"


def test_a_killed_import_continues_after_its_last_committed_chunk(brand, tmp_path, monkeypatch):
    rows = [[f"k{n}", f"Name{n}", "Kesher", "", "", "", "", ""] for n in range(1, 26)]
    path = _csv(tmp_path, rows)
    monkeypatch.setattr(importing_module, "CHUNK", 10)
    real = importing_module._members
    calls = {"n": 0}

    def dies_on_the_third_chunk(*args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # the process is killed half-way
        real(*args, **kwargs)

    monkeypatch.setattr(importing_module, "_members", dies_on_the_third_chunk)
    job = import_start(brand=brand, kind="members", path=path)
    with pytest.raises(KeyboardInterrupt):
        import_run(job=job, actor=SYSTEM)
    job.refresh_from_db()
    assert (job.last_row, job.status, Member.objects.filter(brand=brand).count()) == (20, "running", 20)
    monkeypatch.setattr(importing_module, "_members", real)
    resumed = import_start(brand=brand, kind="members", path=path)
    assert resumed.pk == job.pk
    summary = import_run(job=resumed, actor=SYSTEM)
    assert (summary.total, summary.created) == (5, 5)
    resumed.refresh_from_db()
    assert (resumed.status, resumed.created, resumed.last_row) == ("done", 25, 25)
    assert Member.objects.filter(brand=brand).count() == 25


def test_rows_are_written_in_chunks_not_one_round_trip_each(brand, tmp_path, monkeypatch):
    monkeypatch.setattr(importing_module, "CHUNK", 100)

    def queries(count: int, name: str) -> int:
        path = _csv(
            tmp_path,
            [[f"{name}{n}", "A", "B", f"{name}{n}@example.org", "", "", "", "yes"] for n in range(count)],
            name=f"{name}.csv",
        )
        job = import_start(brand=brand, kind="members", path=path)
        with CaptureQueriesContext(connection) as captured:
            import_run(job=job, actor=SYSTEM)
        return len(captured)

    small, large = queries(100, "s"), queries(400, "l")
    assert large <= 4 * small  # a fixed number per chunk of 100 rows
    assert large < 100


def test_opening_balances_become_lots_with_their_expiry_and_are_applied_once(brand, other_brand, tmp_path):
    members = _csv(tmp_path, [["m1", "A", "", "", "", "", "", ""], ["m2", "B", "", "", "", "", "", ""]])
    import_run(job=import_start(brand=brand, kind="members", path=members), actor=SYSTEM)
    balances = _csv(
        tmp_path,
        [["m1", "120", "2099-12-31"], ["m2", "80", ""], ["m3", "5", ""], ["m1", "-3", ""]],
        name="balances.csv",
        header=["customer id", "points", "expiry date"],
    )
    job = import_start(brand=brand, kind="balances", path=balances)
    assert job.mapping == {
        "member_external_id": "customer id",
        "points": "points",
        "expires_at": "expiry date",
    }
    summary = import_run(job=job, actor=SYSTEM)
    assert (summary.created, summary.failed) == (2, 2)
    assert sorted(p.code for c in summary.problems for p in c.problems) == ["bad_points", "unknown_member"]
    m1 = Member.objects.get(brand=brand, external_id="m1")
    lot = PointsLot.objects.get(account_id=m1.pk)
    assert (lot.points, lot.remaining, str(lot.expires_at)[:10]) == (120, 120, "2099-12-31")
    assert PointsAccount.objects.get(member=m1).balance == 120
    assert ledger_verify(brand=brand) == []
    before = rows_fingerprint()
    again = import_run(job=import_start(brand=brand, kind="balances", path=balances), actor=SYSTEM)
    assert (again.created, again.unchanged) == (0, 2)
    assert set(changed_models(before, rows_fingerprint())) <= {"customers.importjob", "core.auditentry"}
    # Another brand's members are not found by their external ids.
    other = import_run(job=import_start(brand=other_brand, kind="balances", path=balances), actor=SYSTEM)
    assert (other.created, other.failed) == (0, 4)


def test_purchases_are_activities_idempotent_by_external_id(brand, tmp_path):
    Store.objects.create(brand=brand, name="Tel Aviv", code="tlv")
    import_run(
        job=import_start(
            brand=brand, kind="members", path=_csv(tmp_path, [["m1", "A", "", "", "", "", "", ""]])
        ),
        actor=SYSTEM,
    )
    path = _csv(
        tmp_path,
        [
            ["r1", "m1", "2025-01-02", "99.90", "tlv"],
            ["r2", "m1", "2025-01-03", "abc", ""],
            ["r3", "m1", "2025-01-04", "10", "mars"],
        ],
        name="purchases.csv",
        header=["receipt", "customer id", "date", "total", "store"],
    )
    summary = import_run(job=import_start(brand=brand, kind="purchases", path=path), actor=SYSTEM)
    assert (summary.created, summary.failed) == (1, 2)
    from kesher.activity.models import Activity

    purchase = Activity.objects.get(brand=brand, type="purchase", external_id="r1")
    assert (purchase.attributes["amount"], purchase.attributes["store"], purchase.source) == (
        "99.90",
        "tlv",
        "import",
    )
    again = import_run(job=import_start(brand=brand, kind="purchases", path=path), actor=SYSTEM)
    assert (again.created, again.unchanged) == (0, 1)


def test_the_command_imports_with_a_progress_bar_and_a_dry_run(brand, tmp_path, capsys):
    from kesher.cli import build_parser
    from kesher.customers.commands import cmd_import

    path = _csv(tmp_path, ROWS[:2])
    args = build_parser().parse_args(
        ["import", "members", str(path), "--brand", "cafe", "--dry-run", "--report", str(tmp_path / "r.xlsx")]
    )
    assert cmd_import(args) == 0
    out = capsys.readouterr()
    assert "2 rows: 1 would be created" in out.out and "nothing written" in out.out
    assert "rows" in out.err  # tqdm's bar
    assert (tmp_path / "r.xlsx").stat().st_size > 0
    assert Member.objects.filter(brand=brand).count() == 0
    args = build_parser().parse_args(["import", "members", str(path), "--brand", "cafe"])
    assert cmd_import(args) == 0
    assert Member.objects.filter(brand=brand).count() == 1  # c2's unknown store "": fine; c1's store unknown
    assert ImportJob.objects.filter(brand=brand, status="done").count() == 1
