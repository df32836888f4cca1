from django.apps import AppConfig


class IdeasConfig(AppConfig):
    name = "kesher.ideas"
    label = "ideas"
    default_auto_field = "django.db.models.BigAutoField"
