from typing import Any

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "kesher.api"
    label = "api"

    def ready(self) -> None:
        from django.db.models import QuerySet
        from django.db.models.signals import post_delete, post_save

        from kesher.api.auth import keys_changed
        from kesher.brands.models import ApiKey, Brand
        from kesher.campaigns.selectors import rules_members, segment_get
        from kesher.loyalty.services import segment_audience_install
        from kesher.members.models import Member

        def segment_audience(brand: Brand, segment_id: Any) -> QuerySet[Member]:
            return rules_members(brand=brand, rules=segment_get(brand=brand, segment_id=segment_id).rules)

        # Surprises to a segment (the loyalty API) read the campaigns part's segments: the floor above
        # both wires one to the other, so loyalty never imports campaigns.
        segment_audience_install(segment_audience)

        def changed(sender: Any, **kwargs: Any) -> None:
            keys_changed()

        for model in (Brand, ApiKey):
            post_save.connect(
                changed, sender=model, weak=False, dispatch_uid=f"api-keys-saved-{model.__name__}"
            )
            post_delete.connect(
                changed, sender=model, weak=False, dispatch_uid=f"api-keys-gone-{model.__name__}"
            )
