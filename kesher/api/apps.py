from typing import Any

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "kesher.api"
    label = "api"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from kesher.api.auth import keys_changed
        from kesher.brands.models import ApiKey, Brand

        def changed(sender: Any, **kwargs: Any) -> None:
            keys_changed()

        for model in (Brand, ApiKey):
            post_save.connect(
                changed, sender=model, weak=False, dispatch_uid=f"api-keys-saved-{model.__name__}"
            )
            post_delete.connect(
                changed, sender=model, weak=False, dispatch_uid=f"api-keys-gone-{model.__name__}"
            )
