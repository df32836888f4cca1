"""The campaigns part's pages under /c/: what a message links to, provider callbacks, and staff pages."""

from django.urls import path

from kesher.campaigns import views

app_name = "campaigns"
urlpatterns = [
    path("o/<str:token>.gif", views.open_pixel, name="open"),
    path("l/<str:token>", views.click, name="click"),
    path("u/<str:token>", views.unsubscribe, name="unsubscribe"),
    path("sms/receipt/<str:token>", views.sms_receipt, name="sms_receipt"),
    path("sms/inbound/<str:token>", views.sms_inbound, name="sms_inbound"),
    path("f/<str:token>", views.forward, name="forward"),
    path("bounces/<str:token>", views.bounces, name="bounces"),
    path("notices/", views.portal_notices, name="notices"),
    path("notices/read", views.portal_notices_read, name="notices_read"),
    path("notices/unread", views.portal_notices_unread, name="notices_unread"),
    path("staff/journeys/", views.staff_journeys, name="staff_journeys"),
    path("staff/journeys/install", views.staff_journey_install, name="staff_journey_install"),
    path("staff/journeys/<uuid:journey_id>/", views.staff_journey, name="staff_journey"),
    path("staff/journeys/<uuid:journey_id>/status", views.staff_journey_status, name="staff_journey_status"),
    path("staff/", views.staff_campaigns, name="staff_list"),
    path("staff/<uuid:campaign_id>/", views.staff_campaign, name="staff_detail"),
]
