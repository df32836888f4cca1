"""The listening part's pages, included at the root by config/urls.py: each path names its prefix."""

from django.urls import URLPattern

app_name = "listening"
urlpatterns: list[URLPattern] = []
