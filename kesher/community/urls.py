"""The community part's pages, under /community/<brand>/ (Hebrew slugs allowed)."""

from django.urls import URLPattern, path

from kesher.community import views

app_name = "community"
urlpatterns: list[URLPattern] = [
    path("<slug:brand_slug>/", views.space_list, name="spaces"),
    path("<slug:brand_slug>/search/", views.search_page, name="search"),
    path("<slug:brand_slug>/ask/", views.ask, name="ask"),
    path("<slug:brand_slug>/suggest/", views.suggest, name="suggest"),
    path("<slug:brand_slug>/sitemap.xml", views.sitemap, name="sitemap"),
    path("<slug:brand_slug>/s/<str:space_slug>/", views.question_list, name="space"),
    path("<slug:brand_slug>/q/<uuid:question_id>/", views.question_page, name="question_short"),
    path("<slug:brand_slug>/q/<uuid:question_id>/<str:slug>/", views.question_page, name="question"),
    path("<slug:brand_slug>/answer/<uuid:question_id>/", views.answer, name="answer"),
    path("<slug:brand_slug>/p/<uuid:post_id>/vote/", views.vote, name="vote"),
    path("<slug:brand_slug>/p/<uuid:post_id>/flag/", views.flag, name="flag"),
    path("<slug:brand_slug>/a/<uuid:answer_id>/accept/", views.accept, name="accept"),
    path("<slug:brand_slug>/m/<uuid:member_id>/", views.member_page, name="member"),
]
