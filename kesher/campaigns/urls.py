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
    path("staff/", views.staff_campaigns, name="staff_list"),
    path("staff/<uuid:campaign_id>/", views.staff_campaign, name="staff_detail"),
]
