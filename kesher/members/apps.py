from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "kesher.members"
    label = "members"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kesher.members import merging  # noqa: F401  (registers its part of merging duplicates)
