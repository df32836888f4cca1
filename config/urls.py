"""Top-level URLs: the web pages, accounts, the admin, the API and the health check."""

from django.contrib import admin
from django.urls import include, path, re_path

from kesher.api.api import api, api_not_found
from kesher.brands import views as brand_views
from kesher.web import views

urlpatterns = [
    path("api/v1/", api.urls),  # first: the busiest paths are matched before the pages' patterns
    # any other path under /api/ (an id that is not one): the JSON 404
    re_path(r"^api/", api_not_found, name="api_not_found"),
    path("", views.home, name="home"),
    path("portal/", views.portal, name="portal"),
    path("portal/redeem/", views.portal_redeem, name="portal_redeem"),
    path("portal/profile/", views.portal_profile, name="portal_profile"),
    path("portal/settings/", views.portal_settings, name="portal_settings"),
    path("portal/preferences/", views.portal_preferences, name="portal_preferences"),
    path("portal/settings/consent/", views.portal_settings_consent, name="portal_settings_consent"),
    path("portal/settings/digest/", views.portal_settings_digest, name="portal_settings_digest"),
    path("portal/check-in/<slug:brand_slug>/<slug:store_code>/", views.check_in, name="check_in"),
    path("join/<slug:brand_slug>/", views.join, name="join"),
    path("join/<slug:brand_slug>/card/", views.join_card, name="join_card"),
    path("brand/<slug:brand_slug>/<str:kind>/<str:name>", views.brand_image, name="brand_image"),
    path("cashier/", views.cashier, name="cashier"),
    path("cashier/stores/", views.cashier_stores, name="cashier_stores"),
    path("healthz", views.healthz, name="healthz"),
    path("community/", include("kesher.community.urls")),
    path("c/", include("kesher.campaigns.urls")),
    path("console/<slug:slug>/brand/", brand_views.brand_look, name="brand_look"),
    path("console/", include("kesher.loyalty.urls")),
    path("", include("kesher.magazine.urls")),
    path("", include("kesher.reviews.urls")),
    path("", include("kesher.ideas.urls")),
    path("", include("kesher.surveys.urls")),
    path("", include("kesher.insights.urls")),
    path("", include("kesher.customers.urls")),
    path("", include("kesher.privacy.urls")),
    path("", include("kesher.webhooks.urls")),
    path("", include("kesher.service.urls")),
    path("", include("kesher.listening.urls")),
    path("", include("kesher.recs.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]
