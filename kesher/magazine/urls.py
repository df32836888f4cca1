"""The magazine's pages: public under /magazine/<brand>/ (Hebrew article addresses allowed), staff under
/console/<brand>/magazine/."""

from django.urls import path

from kesher.magazine import views

app_name = "magazine"
urlpatterns = [
    path("magazine/<slug:brand_slug>/", views.index, name="index"),
    # Outside /magazine/<brand>/ so that no article address can ever be taken by it.
    path("magazine-reading/<slug:brand_slug>/", views.reading, name="reading"),
    path("magazine/<slug:brand_slug>/<str:slug>/", views.article, name="article"),
    path("console/<slug:brand_slug>/magazine/", views.console, name="console"),
    path("console/<slug:brand_slug>/magazine/new/", views.console_new, name="console_new"),
    path("console/<slug:brand_slug>/magazine/issue/", views.console_issue, name="console_issue"),
    path("console/<slug:brand_slug>/magazine/<uuid:article_id>/", views.console_edit, name="console_edit"),
    path(
        "console/<slug:brand_slug>/magazine/<uuid:article_id>/preview/",
        views.console_preview,
        name="console_preview",
    ),
]
