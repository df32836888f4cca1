from django.apps import AppConfig


class ActivityConfig(AppConfig):
    name = "kesher.activity"
    label = "activity"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kesher.activity import types  # noqa: F401  (registers the built-in activity types)
