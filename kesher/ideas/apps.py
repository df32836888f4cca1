from django.apps import AppConfig


class IdeasConfig(AppConfig):
    name = "kesher.ideas"
    label = "ideas"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kesher.brands.hooks import on_brand_created
        from kesher.ideas import types  # noqa: F401  (registers the activity types and the event)
        from kesher.ideas.services import (
            ideas_install_defaults,
            ideas_member_erase,
            ideas_member_export,
            ideas_members_merge,
        )
        from kesher.members.hooks import on_member_erase, on_member_export, on_members_merge

        on_brand_created(ideas_install_defaults)
        on_member_export("ideas", ideas_member_export)
        on_member_erase(ideas_member_erase)
        on_members_merge(ideas_members_merge)
