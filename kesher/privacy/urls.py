"""The privacy part's pages, included at the root by config/urls.py: each path names its prefix."""

from django.urls import path

from kesher.privacy import views

app_name = "privacy"
urlpatterns = [
    path("portal/privacy/", views.portal_privacy, name="portal"),
    path("portal/privacy/my-data/", views.portal_download, name="portal_download"),
    path("portal/privacy/erase/", views.portal_erase, name="portal_erase"),
    path("console/<slug:slug>/privacy/", views.access_log, name="access_log"),
    path("console/<slug:slug>/privacy/settings/", views.privacy_settings, name="settings"),
    path("console/<slug:slug>/members/<uuid:member_id>/privacy/", views.member_privacy, name="member"),
    path(
        "console/<slug:slug>/members/<uuid:member_id>/privacy/export/",
        views.member_export,
        name="member_export",
    ),
    path(
        "console/<slug:slug>/members/<uuid:member_id>/privacy/erase/", views.member_erase, name="member_erase"
    ),
]
