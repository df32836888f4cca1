"""The loyalty console's pages, under /console/<brand slug>/."""

from django.urls import path

from kesher.loyalty import views

app_name = "loyalty"
urlpatterns = [
    path("<slug:slug>/", views.overview, name="overview"),
    path("<slug:slug>/rules/", views.rules, name="rules"),
    path("<slug:slug>/rules/preview/", views.rule_preview, name="rule_preview"),
    path("<slug:slug>/rules/<uuid:rule_id>/", views.rule_edit, name="rule_edit"),
    path("<slug:slug>/rewards/", views.rewards, name="rewards"),
    path("<slug:slug>/rewards/preview/", views.reward_preview, name="reward_preview"),
    path("<slug:slug>/rewards/<uuid:reward_id>/", views.reward_edit, name="reward_edit"),
    path("<slug:slug>/tiers/", views.tiers, name="tiers"),
    path("<slug:slug>/tiers/preview/", views.tier_preview, name="tier_preview"),
    path("<slug:slug>/tiers/<uuid:tier_id>/", views.tier_edit, name="tier_edit"),
    path("<slug:slug>/members/", views.members, name="members"),
    path("<slug:slug>/members/export.csv", views.members_export, name="members_export"),
    path("<slug:slug>/members/<uuid:member_id>/", views.member_ledger, name="member"),
    path("<slug:slug>/referrals/", views.referrals, name="referrals"),
]
