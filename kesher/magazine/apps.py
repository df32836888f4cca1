from django.apps import AppConfig


class MagazineConfig(AppConfig):
    name = "kesher.magazine"
    label = "magazine"
    default_auto_field = "django.db.models.BigAutoField"
