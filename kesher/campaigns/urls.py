"""The campaigns part's pages."""

from django.urls import URLPattern

app_name = "campaigns"
urlpatterns: list[URLPattern] = []
