from django.apps import AppConfig


class ServiceConfig(AppConfig):
    name = "kesher.service"
    label = "service"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kesher.service import types  # noqa: F401  (registers case.opened and case.solved)
