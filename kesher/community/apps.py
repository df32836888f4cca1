from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "kesher.community"
    label = "community"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kesher.community import types  # noqa: F401  (registers the community's activity types)
