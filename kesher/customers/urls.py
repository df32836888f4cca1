"""The customers part's pages, included at the root by config/urls.py: each path names its prefix.

The staff console's customer data: /console/<brand>/import/ and /console/<brand>/duplicates/."""

from django.urls import path

from kesher.customers import views

app_name = "customers"
urlpatterns = [
    path("console/<slug:brand_slug>/import/", views.import_upload, name="import"),
    path("console/<slug:brand_slug>/import/<uuid:job_id>/", views.import_job, name="import_job"),
    path(
        "console/<slug:brand_slug>/import/<uuid:job_id>/report.csv", views.import_report, name="import_report"
    ),
    path("console/<slug:brand_slug>/import/<uuid:job_id>/run/", views.import_run, name="import_run"),
    path("console/<slug:brand_slug>/duplicates/", views.duplicates, name="duplicates"),
    path("console/<slug:brand_slug>/duplicates/merge/", views.duplicates_merge, name="duplicates_merge"),
    path(
        "console/<slug:brand_slug>/duplicates/dismiss/", views.duplicates_dismiss, name="duplicates_dismiss"
    ),
    path("console/<slug:brand_slug>/duplicates/undo/", views.merge_undo, name="merge_undo"),
]
