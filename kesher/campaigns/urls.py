"""The campaigns part's pages under /c/: what a message links to, provider callbacks, and staff pages."""

from django.urls import path

from kesher.campaigns import console, journey_console, views

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
    path("staff/journeys/<uuid:journey_id>/edit", journey_console.journey_edit, name="staff_journey_edit"),
    path("staff/", console.staff_campaigns, name="staff_list"),
    path("staff/new", console.campaign_new, name="staff_new"),
    path("staff/audience", console.campaign_audience, name="staff_audience"),
    path("staff/preview", console.campaign_preview, name="staff_preview"),
    path("staff/<uuid:campaign_id>/", console.staff_campaign, name="staff_detail"),
    path("staff/<uuid:campaign_id>/test", console.campaign_act, {"action": "test"}, name="staff_test_send"),
    path("staff/<uuid:campaign_id>/send", console.campaign_act, {"action": "send"}, name="staff_send"),
    path(
        "staff/<uuid:campaign_id>/schedule",
        console.campaign_act,
        {"action": "schedule"},
        name="staff_schedule",
    ),
    path("staff/<uuid:campaign_id>/pause", console.campaign_act, {"action": "pause"}, name="staff_pause"),
    path("staff/<uuid:campaign_id>/resume", console.campaign_act, {"action": "resume"}, name="staff_resume"),
    path("staff/<uuid:campaign_id>/cancel", console.campaign_act, {"action": "cancel"}, name="staff_cancel"),
]
