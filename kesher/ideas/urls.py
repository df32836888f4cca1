"""The ideas part's pages, under /ideas/<brand>/ (the portal) and /ideas/<brand>/console/ (staff)."""

from django.urls import URLPattern, path

from kesher.ideas import views

app_name = "ideas"
_B = "ideas/<slug:brand_slug>/"
urlpatterns: list[URLPattern] = [
    path(_B, views.board, name="board"),
    path(_B + "submit/", views.submit, name="submit"),
    path(_B + "roadmap/", views.roadmap, name="roadmap"),
    path(_B + "notices/", views.notices, name="notices"),
    path(_B + "i/<uuid:idea_id>/", views.idea_page, name="idea"),
    path(_B + "i/<uuid:idea_id>/support/", views.support, name="support"),
    path(_B + "i/<uuid:idea_id>/comment/", views.comment, name="comment"),
    path(_B + "challenges/", views.challenges, name="challenges"),
    path(_B + "c/<uuid:challenge_id>/", views.challenge, name="challenge"),
    path(_B + "b/<uuid:program_id>/", views.beta, name="beta"),
    path(_B + "b/<uuid:program_id>/apply/", views.beta_apply, name="beta_apply"),
    path(_B + "b/<uuid:program_id>/space/", views.beta_space, name="beta_space"),
    path(_B + "b/<uuid:program_id>/t/<uuid:task_id>/feedback/", views.beta_feedback, name="beta_feedback"),
    path(_B + "console/", views.console, name="console"),
    path(_B + "console/i/<uuid:idea_id>/status/", views.console_status, name="console_status"),
    path(_B + "console/i/<uuid:idea_id>/moderate/", views.console_moderate, name="console_moderate"),
    path(_B + "console/settings/", views.console_settings, name="console_settings"),
    path(_B + "console/challenges/", views.console_challenges, name="console_challenges"),
    path(_B + "console/c/<uuid:challenge_id>/", views.console_challenge, name="console_challenge"),
    path(_B + "console/betas/", views.console_betas, name="console_betas"),
    path(_B + "console/b/<uuid:program_id>/", views.console_beta, name="console_beta"),
]
