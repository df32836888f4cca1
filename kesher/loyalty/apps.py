from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    name = "kesher.loyalty"
    label = "loyalty"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kesher.loyalty import consumers  # noqa: F401  (registers the points consumer)
