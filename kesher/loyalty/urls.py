"""The loyalty console's pages, under /console/<brand slug>/."""

from django.urls import path

from kesher.loyalty import views

app_name = "loyalty"
urlpatterns = [
    path("<slug:slug>/", views.overview, name="overview"),
    path("<slug:slug>/rules/", views.rules, name="rules"),
    path("<slug:slug>/rewards/", views.rewards, name="rewards"),
    path("<slug:slug>/tiers/", views.tiers, name="tiers"),
    path("<slug:slug>/members/", views.members, name="members"),
    path("<slug:slug>/members/export.csv", views.members_export, name="members_export"),
    path("<slug:slug>/members/<uuid:member_id>/", views.member_ledger, name="member"),
    path("<slug:slug>/referrals/", views.referrals, name="referrals"),
]
