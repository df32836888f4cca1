"""The listening part's pages, included at the root by config/urls.py: each path names its prefix."""

from django.urls import path

from kesher.listening import views
from kesher.listening.topics.urls import urlpatterns as topic_patterns

app_name = "listening"
_HERE = "console/<slug:slug>/listening/"
_ONE = _HERE + "connectors/<uuid:connector_id>/"
urlpatterns = [
    path(_HERE, views.stream, name="stream"),
    path(_HERE + "voices/", views.voices, name="voices"),
    path(_HERE + "connectors/", views.connectors, name="connectors"),
    path(_HERE + "connectors/feed/", views.connector_feed, name="connector_feed"),
    path(_HERE + "connectors/webhook/", views.connector_webhook, name="connector_webhook"),
    path(_HERE + "connectors/own/", views.connector_own, name="connector_own"),
    path(_ONE + "run/", views.connector_run, name="connector_run"),
    path(_ONE + "switch/", views.connector_switch, name="connector_switch"),
    path(_ONE + "rotate/", views.connector_rotate, name="connector_rotate"),
    path(_ONE + "delete/", views.connector_delete, name="connector_delete"),
    path(_HERE + "upload/", views.upload, name="upload"),
    path(_HERE + "upload/<uuid:upload_id>/", views.upload_map, name="upload_map"),
    path("listening/hooks/<uuid:connector_id>", views.hook, name="hook"),
    *topic_patterns,  # the topics editor (kesher/listening/topics)
]
