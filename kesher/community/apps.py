from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "kesher.community"
    label = "community"
    default_auto_field = "django.db.models.BigAutoField"
