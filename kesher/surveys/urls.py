"""The surveys part's pages, included at the root by config/urls.py: the member's link under /s/<token>/,
the staff console under /console/<brand>/surveys/."""

from django.urls import URLPattern, path

from kesher.surveys import views

app_name = "surveys"
urlpatterns: list[URLPattern] = [
    path("s/<str:token>/", views.respond, name="respond"),
    path("console/<slug:brand_slug>/surveys/", views.console, name="console"),
    path("console/<slug:brand_slug>/surveys/new/", views.console_new, name="console_new"),
    path("console/<slug:brand_slug>/surveys/settings/", views.console_settings, name="console_settings"),
    path("console/<slug:brand_slug>/surveys/alerts/", views.console_alerts, name="console_alerts"),
    path(
        "console/<slug:brand_slug>/surveys/alerts/<uuid:alert_id>/resolve/",
        views.console_alert_resolve,
        name="console_alert_resolve",
    ),
    path("console/<slug:brand_slug>/surveys/<uuid:survey_id>/", views.console_survey, name="console_survey"),
    path(
        "console/<slug:brand_slug>/surveys/<uuid:survey_id>/questions/",
        views.console_question_add,
        name="console_question_add",
    ),
    path(
        "console/<slug:brand_slug>/surveys/<uuid:survey_id>/move/",
        views.console_question_move,
        name="console_question_move",
    ),
    path(
        "console/<slug:brand_slug>/surveys/<uuid:survey_id>/status/",
        views.console_status,
        name="console_status",
    ),
    path(
        "console/<slug:brand_slug>/surveys/<uuid:survey_id>/results/",
        views.console_results,
        name="console_results",
    ),
    path(
        "console/<slug:brand_slug>/surveys/<uuid:survey_id>/export.csv",
        views.console_export,
        name="console_export",
    ),
]
