"""The insights part's pages, included at the root by config/urls.py: each path names its prefix."""

from django.urls import URLPattern, path

from kesher.insights import views

app_name = "insights"
urlpatterns: list[URLPattern] = [
    path("insights/<slug:slug>/", views.dashboard_page, name="dashboard"),
    path("insights/<slug:slug>/figures/<slug:figure>.csv", views.figure_csv, name="figure_csv"),
    path("insights/<slug:slug>/advocates/", views.advocates_page, name="advocates"),
    path("insights/<slug:slug>/advocates.csv", views.advocates_csv, name="advocates_csv"),
    path("insights/<slug:slug>/churn/", views.churn_page, name="churn"),
    path("insights/<slug:slug>/churn.csv", views.churn_csv, name="churn_csv"),
    path("insights/<slug:slug>/personas/", views.personas_page, name="personas"),
]
