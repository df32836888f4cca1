"""The reviews part's pages: public and members' under /reviews/<brand>/, staff under
/console/<brand>/reviews/."""

from django.urls import URLPattern, path

from kesher.reviews import views

app_name = "reviews"
urlpatterns: list[URLPattern] = [
    path("reviews/<slug:brand_slug>/p/<str:sku>/", views.product, name="product"),
    path("reviews/<slug:brand_slug>/p/<str:sku>/write/", views.write, name="write"),
    path("reviews/<slug:brand_slug>/p/<str:sku>/widget/", views.widget, name="widget"),
    path("reviews/<slug:brand_slug>/r/<uuid:review_id>/helpful/", views.helpful, name="helpful"),
    path("reviews/<slug:brand_slug>/gallery/", views.gallery, name="gallery"),
    path("reviews/<slug:brand_slug>/gallery/post/", views.gallery_post, name="gallery_post"),
    path("reviews/<slug:brand_slug>/gallery/<uuid:item_id>/like/", views.gallery_like, name="gallery_like"),
    path(
        "reviews/<slug:brand_slug>/gallery/<uuid:item_id>/rights/",
        views.gallery_rights,
        name="gallery_rights",
    ),
    path("console/<slug:brand_slug>/reviews/", views.console, name="console"),
    path(
        "console/<slug:brand_slug>/reviews/<uuid:review_id>/moderate/",
        views.console_moderate,
        name="console_moderate",
    ),
    path(
        "console/<slug:brand_slug>/reviews/<uuid:review_id>/reply/", views.console_reply, name="console_reply"
    ),
    path("console/<slug:brand_slug>/reviews/gallery/", views.console_gallery, name="console_gallery"),
    path(
        "console/<slug:brand_slug>/reviews/gallery/<uuid:item_id>/moderate/",
        views.console_gallery_moderate,
        name="console_gallery_moderate",
    ),
    path(
        "console/<slug:brand_slug>/reviews/gallery/<uuid:item_id>/feature/",
        views.console_feature,
        name="console_feature",
    ),
]
