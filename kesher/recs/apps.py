from django.apps import AppConfig


class RecsConfig(AppConfig):
    name = "kesher.recs"
    label = "recs"
    default_auto_field = "django.db.models.BigAutoField"
