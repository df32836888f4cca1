"""The topics editor's addresses, added to kesher/listening/urls.py's patterns (namespace "listening")."""

from django.urls import path

from kesher.listening.topics import views

_HERE = "console/<slug:slug>/listening/topics/"
urlpatterns = [
    path(_HERE, views.topics, name="topics"),
    path(_HERE + "new/", views.topic_create, name="topic_create"),
    path(_HERE + "<uuid:topic_id>/", views.topic_update, name="topic_update"),
    path(_HERE + "<uuid:topic_id>/delete/", views.topic_delete, name="topic_delete"),
]
