"""The privacy part's pages, included at the root by config/urls.py: each path names its prefix."""

app_name = "privacy"
urlpatterns: list = []
