"""The staff console's customer-data pages: upload → mapping → preview → report → import, and the
duplicates queue (merge, undo, not a duplicate), for the roles that may and those that may not."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kesher.brands.models import Brand
from kesher.brands.services import staff_grant
from kesher.core.models import AuditEntry
from kesher.core.tests.fingerprint import changed_models, rows_fingerprint
from kesher.customers.models import DuplicatePair, ImportJob, MemberMerge
from kesher.members.models import Member, MemberStatus
from kesher.members.tests.factories import MemberFactory
from kesher.web.tests.conftest import make_user

pytestmark = pytest.mark.django_db

CSV = (
    "Customer ID,First name,Last name,Email,Phone\n"
    "c-1,Dana,Cohen,dana@example.org,050-123-4567\n"
    "c-2,Yossi,Levi,not-an-email,052-765-4321\n"
    "c-3,Rina,Mor,rina@example.org,\n"
)


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def _staff(brand: Brand, role: str) -> Client:
    user = make_user(f"{role}-{brand.slug}@staff.example.org")
    staff_grant(brand=brand, user=user, role=role)
    client = Client()
    client.force_login(user)
    return client


def _upload(client: Client, brand: Brand, text: str = CSV, name: str = "members.csv") -> Any:
    upload = io.BytesIO(text.encode())
    upload.name = name
    return client.post(reverse("customers:import", args=[brand.slug]), {"kind": "members", "file": upload})


def test_a_marketer_uploads_maps_previews_downloads_the_report_and_imports_the_good_rows(brand):
    client = _staff(brand, "marketer")
    response = _upload(client, brand)
    job = ImportJob.objects.get(brand=brand)
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:import_job", args=[brand.slug, job.pk])

    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    # The guessed mapping, a select per column: "Customer ID" → external_id, "Email" → email.
    assert '<option value="external_id" selected>' in html
    assert '<option value="email" selected>' in html
    rows = page.context["preview"]
    assert [r["number"] for r in rows] == [1, 2, 3]
    assert rows[0]["problems"] == []  # a phone typed with dashes is fine
    assert [p.code for p in rows[1]["problems"]] == ["bad_email"]
    assert 'data-code="bad_email"' in html

    # The mapping page saves the mapping chosen per column (the phone left out this time).
    # The columns in the file's order: Customer ID, First name, Last name, Email, Phone.
    choice = {f"column-{i}": f for i, f in enumerate(["external_id", "first_name", "last_name", "email", ""])}
    client.post(reverse("customers:import_job", args=[brand.slug, job.pk]), choice)
    job.refresh_from_db()
    assert job.mapping == {
        "external_id": "Customer ID",
        "first_name": "First name",
        "last_name": "Last name",
        "email": "Email",
    }
    choice["column-4"] = "phone"
    client.post(reverse("customers:import_job", args=[brand.slug, job.pk]), choice)

    before = rows_fingerprint()
    report = client.get(reverse("customers:import_report", args=[brand.slug, job.pk]))
    assert changed_models(before, rows_fingerprint()) == []  # the report is a dry run
    assert report["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(report.content.decode())))
    assert lines[0][:5] == ["line", "row", "external_id", "field", "problem"]
    assert lines[1][:5] == ["3", "2", "c-2", "email", "bad_email"]
    assert len(lines) == 2

    done = client.post(reverse("customers:import_run", args=[brand.slug, job.pk]))
    assert done.status_code == 302
    job.refresh_from_db()
    assert (job.status, job.created, job.failed) == ("done", 2, 1)
    members = {m.external_id: m for m in Member.objects.filter(brand=brand)}
    assert set(members) == {"c-1", "c-3"}
    assert members["c-1"].phone == "+972501234567"
    result = client.get(done["Location"]).content.decode()
    assert 'data-test="count-created">2<' in result and 'data-test="count-failed">1<' in result
    listing = client.get(reverse("customers:import", args=[brand.slug])).content.decode()
    assert listing.count('data-test="job-row"') == 1 and "members.csv" in listing


def test_a_file_that_is_not_a_table_is_refused_with_a_message(brand):
    client = _staff(brand, "owner")
    response = _upload(client, brand, "hello", name="notes.txt")
    assert response.status_code == 200
    assert ImportJob.objects.count() == 0
    assert response.context["form"].errors["file"]


@pytest.mark.parametrize("role", ["analyst", "moderator", "service_agent"])
def test_other_roles_cannot_import_nor_decide_duplicates_and_nothing_changes(brand, role):
    owner = _staff(brand, "owner")
    _upload(owner, brand)
    job = ImportJob.objects.get()
    pair = _pair(brand)
    client = _staff(brand, role)
    before = rows_fingerprint()
    upload = io.BytesIO(CSV.encode())
    upload.name = "m.csv"
    answers = [
        client.get(reverse("customers:import", args=[brand.slug])).status_code,
        client.post(
            reverse("customers:import", args=[brand.slug]), {"kind": "members", "file": upload}
        ).status_code,
        client.get(reverse("customers:import_job", args=[brand.slug, job.pk])).status_code,
        client.get(reverse("customers:import_report", args=[brand.slug, job.pk])).status_code,
        client.post(reverse("customers:import_run", args=[brand.slug, job.pk])).status_code,
        client.get(reverse("customers:duplicates", args=[brand.slug])).status_code,
        client.post(
            reverse("customers:duplicates_merge", args=[brand.slug]),
            {"pair": pair.pk, "target": pair.member_a_id},
        ).status_code,
        client.post(
            reverse("customers:duplicates_dismiss", args=[brand.slug]), {"pair": pair.pk}
        ).status_code,
    ]
    assert set(answers) <= {403, 404}, answers
    assert changed_models(before, rows_fingerprint()) == []


def _pair(brand: Brand) -> DuplicatePair:
    a = MemberFactory(brand=brand, first_name="Dana", last_name="Cohen", email="dana@example.org")
    b = MemberFactory(brand=brand, first_name="Dana", last_name="Kohen", email="dana.cohen@example.org")
    first, second = sorted([a, b], key=lambda m: str(m.pk))
    return DuplicatePair.objects.create(
        brand=brand, member_a=first, member_b=second, probability=0.97, reasons=["similar name"]
    )


def test_the_queue_lists_a_pair_merge_and_undo_work(brand):
    pair = _pair(brand)
    client = _staff(brand, "marketer")
    page = client.get(reverse("customers:duplicates", args=[brand.slug]))
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count('data-test="pair"') == 1
    assert "97.0%" in html and "Kohen" in html and "dana.cohen@example.org" in html

    keep, other = pair.member_b, pair.member_a
    merged = client.post(
        reverse("customers:duplicates_merge", args=[brand.slug]), {"pair": pair.pk, "target": keep.pk}
    )
    assert merged.status_code == 302
    merge = MemberMerge.objects.get()
    assert (merge.source_id, merge.target_id) == (other.pk, keep.pk)
    assert Member.objects.get(pk=other.pk).status == MemberStatus.BLOCKED
    assert AuditEntry.objects.filter(action="members.merge").count() == 1
    after = client.get(reverse("customers:duplicates", args=[brand.slug])).content.decode()
    assert 'data-test="pair"' not in after and 'data-test="undo"' in after

    # A stale pair (merged already) changes nothing when posted again.
    before = rows_fingerprint()
    again = client.post(
        reverse("customers:duplicates_merge", args=[brand.slug]), {"pair": pair.pk, "target": other.pk}
    )
    assert again.status_code == 302
    assert changed_models(before, rows_fingerprint()) == []

    undone = client.post(reverse("customers:merge_undo", args=[brand.slug]), {"merge": merge.pk})
    assert undone.status_code == 302
    merge.refresh_from_db()
    assert merge.undone_at is not None
    assert Member.objects.get(pk=other.pk).status == MemberStatus.ACTIVE
    pair.refresh_from_db()
    assert pair.status == "open"


def test_not_a_duplicate_dismisses_the_pair(brand):
    pair = _pair(brand)
    client = _staff(brand, "owner")
    client.post(reverse("customers:duplicates_dismiss", args=[brand.slug]), {"pair": pair.pk})
    pair.refresh_from_db()
    assert pair.status == "dismissed"
    assert AuditEntry.objects.filter(action="members.duplicate_dismiss").count() == 1
    page = client.get(reverse("customers:duplicates", args=[brand.slug])).content.decode()
    assert 'data-test="queue-empty"' in page


def test_another_brands_staff_gets_404_and_changes_nothing(brand, other_brand):
    owner = _staff(brand, "owner")
    _upload(owner, brand)
    job = ImportJob.objects.get()
    pair = _pair(brand)
    stranger = _staff(other_brand, "owner")
    before = rows_fingerprint()
    assert stranger.get(reverse("customers:import", args=[brand.slug])).status_code == 404
    assert stranger.get(reverse("customers:import_job", args=[other_brand.slug, job.pk])).status_code == 404
    assert (
        stranger.get(reverse("customers:import_report", args=[other_brand.slug, job.pk])).status_code == 404
    )
    assert stranger.post(reverse("customers:import_run", args=[other_brand.slug, job.pk])).status_code == 404
    stranger.post(
        reverse("customers:duplicates_merge", args=[other_brand.slug]),
        {"pair": pair.pk, "target": pair.member_a_id},
    )
    stranger.post(reverse("customers:duplicates_dismiss", args=[other_brand.slug]), {"pair": pair.pk})
    assert changed_models(before, rows_fingerprint()) == []
    page = stranger.get(reverse("customers:duplicates", args=[other_brand.slug])).content.decode()
    assert 'data-test="pair"' not in page
