"""The staff console's customer-data pages: importing a file (upload, mapping, preview, report, import) and
the duplicates review queue (merge, not a duplicate, undo). Owners and marketers (and support) only.

Thin: find the brand and check the role, call one selector or service, render. A refusal of a service
(a stale pair, a merge already undone) becomes a message on the page it came from and changes nothing."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kesher.brands.access import MANAGE_CUSTOMER_DATA, may, staff_membership
from kesher.brands.models import StaffMembership
from kesher.core.audit import Actor
from kesher.core.errors import KesherError, ValidationFailed
from kesher.customers import reports, selectors, services
from kesher.customers.models import DuplicatePair, ImportJob, ImportKind
from kesher.customers.readers import file_digest, rows_read
from kesher.customers.services.checking import FIELDS, REQUIRED, mapping_check, mapping_guess

EXTENSIONS = {".csv", ".xlsx", ".xls", ".ods"}
MAX_UPLOAD = 50 * 1024 * 1024
PREVIEW_ROWS = 20
FIELD_LABELS = {
    "external_id": gettext_lazy("External id"),
    "first_name": gettext_lazy("First name"),
    "last_name": gettext_lazy("Last name"),
    "email": gettext_lazy("Email"),
    "phone": gettext_lazy("Phone"),
    "birthday": gettext_lazy("Birthday"),
    "locale": gettext_lazy("Language"),
    "store": gettext_lazy("Store"),
    "consent_email": gettext_lazy("Email consent"),
    "consent_sms": gettext_lazy("SMS consent"),
    "member_external_id": gettext_lazy("Member's external id"),
    "occurred_at": gettext_lazy("Date"),
    "amount": gettext_lazy("Amount"),
    "currency": gettext_lazy("Currency"),
    "points": gettext_lazy("Points"),
    "expires_at": gettext_lazy("Expiry date"),
}
REASON_LABELS = {
    "same name": gettext_lazy("same name"),
    "same name, first and last swapped": gettext_lazy("same name, first and last swapped"),
    "similar name": gettext_lazy("similar name"),
    "same phone": gettext_lazy("same phone"),
    "same email": gettext_lazy("same email"),
    "similar email": gettext_lazy("similar email"),
    "same birthday": gettext_lazy("same birthday"),
    "close birthday": gettext_lazy("close birthday"),
}
MEMBER_FIELDS = [
    ("first_name", gettext_lazy("First name")),
    ("last_name", gettext_lazy("Last name")),
    ("email", gettext_lazy("Email")),
    ("phone", gettext_lazy("Phone")),
    ("birthday", gettext_lazy("Birthday")),
    ("external_id", gettext_lazy("External id")),
    ("status", gettext_lazy("Status")),
    ("joined_at", gettext_lazy("Joined")),
]


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("What the file holds"), choices=ImportKind.choices)
    file = forms.FileField(
        label=gettext_lazy("CSV or Excel file"),
        help_text=gettext_lazy("The first row names the columns."),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in EXTENSIONS:
            raise forms.ValidationError(_("Upload a CSV, XLSX, XLS or ODS file."))
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError(_("The file is larger than 50 MB."))
        return upload


def _manager(request: HttpRequest, brand_slug: str) -> StaffMembership:
    """The staff membership of an owner or marketer of the brand (or support); 404 for anyone else."""
    membership = staff_membership(user=request.user, slug=brand_slug)
    if not may(membership, MANAGE_CUSTOMER_DATA):
        raise Http404("No such page")
    return membership


def _refused(request: HttpRequest, exc: KesherError) -> None:
    messages.error(request, _("That did not work: %(reason)s") % {"reason": exc.message})


def _stored(brand_id: Any, upload: Any) -> Path:
    folder = Path(settings.MEDIA_ROOT) / "customer-imports" / str(brand_id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}{Path(upload.name).suffix.lower()}"
    with path.open("wb") as out:
        for piece in upload.chunks():
            out.write(piece)
    return path


def _job_open(membership: StaffMembership, kind: str, path: Path, file_name: str) -> ImportJob:
    """The job of an uploaded file. When the guessed mapping misses a required field, the job is kept with
    the guess anyway, so the mapping page can complete it (the import refuses an incomplete mapping)."""
    try:
        return services.import_start(brand=membership.brand, kind=kind, path=path, file_name=file_name)
    except ValidationFailed as exc:
        if exc.field != "mapping":
            raise
    header, _rows = rows_read(path)
    return ImportJob.objects.create(
        brand=membership.brand,
        kind=kind,
        file_name=file_name,
        path=str(path),
        digest=file_digest(path),
        mapping=mapping_guess(header, kind),
    )


@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest, brand_slug: str) -> HttpResponse:
    membership = _manager(request, brand_slug)
    brand = membership.brand
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        path = _stored(brand.pk, upload)
        try:
            job = _job_open(membership, form.cleaned_data["kind"], path, Path(upload.name).name)
        except (KesherError, ValueError, UnicodeDecodeError) as exc:
            path.unlink(missing_ok=True)
            reason = exc.message if isinstance(exc, KesherError) else str(exc)
            messages.error(request, _("The file could not be read: %(reason)s") % {"reason": reason})
        else:
            return redirect("customers:import_job", brand.slug, job.pk)
    jobs = selectors.import_jobs(brand=brand)
    return render(
        request,
        "customers/import.html",
        {"brand": brand, "form": form, "jobs": jobs, "noindex": True},
    )


def _job(membership: StaffMembership, job_id: Any) -> ImportJob:
    job = selectors.import_job_get(brand=membership.brand, job_id=job_id)
    if job is None:
        raise Http404("No such import")
    return job


def _mapping_problem(job: ImportJob, header: list[str]) -> str:
    try:
        mapping_check(job.mapping, header, job.kind)
    except ValidationFailed as exc:
        return exc.message
    return ""


@login_required
@require_http_methods(["GET", "POST"])
def import_job(request: HttpRequest, brand_slug: str, job_id: uuid.UUID) -> HttpResponse:
    membership = _manager(request, brand_slug)
    job = _job(membership, job_id)
    try:
        header, _rows = rows_read(job.path)
    except (OSError, ValueError):
        header = []
    fields = list(FIELDS[job.kind])
    if request.method == "POST":
        mapping: dict[str, str] = {}
        for index, column in enumerate(header):
            chosen = request.POST.get(f"column-{index}", "")
            if chosen in fields and chosen not in mapping:
                mapping[chosen] = column
        try:
            services.import_mapping_set(job=job, mapping=mapping)
        except KesherError as exc:
            _refused(request, exc)
        else:
            messages.success(request, _("The mapping is saved."))
        return redirect("customers:import_job", membership.brand.slug, job.pk)
    by_column = {column: name for name, column in job.mapping.items()}
    columns = [
        {"index": index, "name": column, "field": by_column.get(column, "")}
        for index, column in enumerate(header)
    ]
    preview = []
    if header and job.status != ImportJob.Status.DONE:
        for checked in services.import_preview(job=job, rows=PREVIEW_ROWS):
            preview.append(
                {
                    "number": checked.number,
                    "values": [checked.values.get(name, "") for name in job.mapping],
                    "problems": checked.problems,
                }
            )
    return render(
        request,
        "customers/import_job.html",
        {
            "brand": membership.brand,
            "job": job,
            "columns": columns,
            "fields": [(name, FIELD_LABELS.get(name, name), name in REQUIRED[job.kind]) for name in fields],
            "mapped": [FIELD_LABELS.get(name, name) for name in job.mapping],
            "preview": preview,
            "mapping_problem": _mapping_problem(job, header) if header else _("The file is gone."),
            "running": job.status == ImportJob.Status.RUNNING,
            "done": job.status == ImportJob.Status.DONE,
            "noindex": True,
        },
    )


@login_required
@require_GET
def import_report(request: HttpRequest, brand_slug: str, job_id: uuid.UUID) -> HttpResponse:
    """The validation report of the whole file, as CSV: a dry run, which writes nothing."""
    membership = _manager(request, brand_slug)
    job = _job(membership, job_id)
    summary = services.import_run(job=job, actor=Actor(user=request.user), dry_run=True)  # type: ignore[arg-type]
    response = HttpResponse(reports.report_csv(summary.problems), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-problems.csv"'
    return response


@login_required
@require_POST
def import_run(request: HttpRequest, brand_slug: str, job_id: uuid.UUID) -> HttpResponse:
    """Import the good rows now, in this request (the bad ones are skipped and counted)."""
    membership = _manager(request, brand_slug)
    job = _job(membership, job_id)
    if job.status == ImportJob.Status.DONE:
        messages.error(request, _("This file is imported already."))
        return redirect("customers:import_job", membership.brand.slug, job.pk)
    try:
        header, _rows = rows_read(job.path)
        mapping_check(job.mapping, header, job.kind)
        summary = services.import_run(job=job, actor=Actor(user=request.user))  # type: ignore[arg-type]
    except KesherError as exc:
        _refused(request, exc)
    else:
        messages.success(
            request,
            _("Imported: %(created)s new, %(updated)s updated, %(unchanged)s unchanged, %(failed)s skipped.")
            % {
                "created": summary.created,
                "updated": summary.updated,
                "unchanged": summary.unchanged,
                "failed": summary.failed,
            },
        )
    return redirect("customers:import_job", membership.brand.slug, job.pk)


def _side_by_side(pair: DuplicatePair) -> list[tuple[Any, Any, Any, bool]]:
    rows = []
    for name, label in MEMBER_FIELDS:
        a, b = getattr(pair.member_a, name), getattr(pair.member_b, name)
        rows.append((label, a, b, a == b and a not in (None, "")))
    return rows


@login_required
@require_GET
def duplicates(request: HttpRequest, brand_slug: str) -> HttpResponse:
    membership = _manager(request, brand_slug)
    brand = membership.brand
    pairs = [
        {
            "pair": pair,
            "percent": round(pair.probability * 100, 1),
            "reasons": [REASON_LABELS.get(reason, reason) for reason in pair.reasons],
            "rows": _side_by_side(pair),
        }
        for pair in selectors.duplicate_pairs(brand=brand, limit=50)
    ]
    return render(
        request,
        "customers/duplicates.html",
        {"brand": brand, "pairs": pairs, "merges": selectors.merges_recent(brand=brand), "noindex": True},
    )


def _open_pair(request: HttpRequest, membership: StaffMembership) -> DuplicatePair | None:
    try:
        pair_id = uuid.UUID(request.POST.get("pair", ""))
    except ValueError:
        pair_id = None
    pair = selectors.duplicate_pair_get(brand=membership.brand, pair_id=pair_id) if pair_id else None
    if pair is None or pair.status != DuplicatePair.Status.OPEN:
        messages.error(request, _("This pair was already decided, or is not there any more."))
        return None
    return pair


@login_required
@require_POST
def duplicates_merge(request: HttpRequest, brand_slug: str) -> HttpResponse:
    """Keep the member picked as the target; the other one of the pair is merged into it."""
    membership = _manager(request, brand_slug)
    pair = _open_pair(request, membership)
    if pair is not None:
        target = request.POST.get("target", "")
        ids = {str(pair.member_a_id): pair.member_b_id, str(pair.member_b_id): pair.member_a_id}
        if target not in ids:
            messages.error(request, _("Pick the member to keep."))
        else:
            try:
                services.members_merge(
                    brand=membership.brand,
                    source_id=ids[target],
                    target_id=target,
                    actor=Actor(user=request.user),  # type: ignore[arg-type]
                )
            except KesherError as exc:
                _refused(request, exc)
            else:
                messages.success(request, _("The members are merged. You can undo it below."))
    return redirect("customers:duplicates", membership.brand.slug)


@login_required
@require_POST
def duplicates_dismiss(request: HttpRequest, brand_slug: str) -> HttpResponse:
    membership = _manager(request, brand_slug)
    pair = _open_pair(request, membership)
    if pair is not None:
        try:
            services.pair_dismiss(brand=membership.brand, pair_id=pair.pk, actor=Actor(user=request.user))  # type: ignore[arg-type]
        except KesherError as exc:
            _refused(request, exc)
        else:
            messages.success(request, _("Marked as not a duplicate: the pair will not be proposed again."))
    return redirect("customers:duplicates", membership.brand.slug)


@login_required
@require_POST
def merge_undo(request: HttpRequest, brand_slug: str) -> HttpResponse:
    membership = _manager(request, brand_slug)
    try:
        merge_id = uuid.UUID(request.POST.get("merge", ""))
    except ValueError:
        messages.error(request, _("No such merge."))
        return redirect("customers:duplicates", membership.brand.slug)
    try:
        services.merge_undo(brand=membership.brand, merge_id=merge_id, actor=Actor(user=request.user))  # type: ignore[arg-type]
    except KesherError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("The merge is undone."))
    return redirect("customers:duplicates", membership.brand.slug)
