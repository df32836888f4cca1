"""The webhooks part's pages, included at the root by config/urls.py: each path names its prefix."""

from django.urls import path

from kesher.webhooks import views

app_name = "webhooks"
_ONE = "console/<slug:slug>/webhooks/<uuid:webhook_id>/"
urlpatterns = [
    path("console/<slug:slug>/webhooks/", views.console, name="console"),
    path("console/<slug:slug>/webhooks/new/", views.create, name="create"),
    path(_ONE, views.endpoint, name="endpoint"),
    path(_ONE + "events/", views.events, name="events"),
    path(_ONE + "status/", views.status, name="status"),
    path(_ONE + "rotate/", views.rotate, name="rotate"),
    path(_ONE + "delete/", views.delete, name="delete"),
    path(_ONE + "deliveries/<uuid:delivery_id>/replay/", views.replay, name="replay"),
]
