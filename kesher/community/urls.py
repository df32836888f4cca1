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
    path("<slug:brand_slug>/merge/<uuid:question_id>/", views.merge, name="merge"),
    path("<slug:brand_slug>/answer/<uuid:question_id>/", views.answer, name="answer"),
    path("<slug:brand_slug>/p/<uuid:post_id>/vote/", views.vote, name="vote"),
    path("<slug:brand_slug>/p/<uuid:post_id>/comment/", views.comment, name="comment"),
    path("<slug:brand_slug>/p/<uuid:post_id>/flag/", views.flag, name="flag"),
    path("<slug:brand_slug>/a/<uuid:answer_id>/accept/", views.accept, name="accept"),
    path("<slug:brand_slug>/m/<uuid:member_id>/", views.member_page, name="member"),
    path("<slug:brand_slug>/follow/", views.follow, name="follow"),
    path("<slug:brand_slug>/notifications/", views.notifications, name="notifications"),
    path("<slug:brand_slug>/notifications/read/", views.notifications_read, name="notifications_read"),
    path("<slug:brand_slug>/notifications/digest/", views.digest_settings, name="digest_settings"),
    path("<slug:brand_slug>/digest/stop/<str:token>/", views.digest_unsubscribe, name="digest_unsubscribe"),
    path("<slug:brand_slug>/moderation/", views.moderation_queue, name="moderation"),
    path("<slug:brand_slug>/moderation/<uuid:post_id>/", views.moderation_act, name="moderation_act"),
]
