from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "kesher.campaigns"
    label = "campaigns"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kesher.campaigns import activity_types  # noqa: F401  (registers message_* types, conversions)
