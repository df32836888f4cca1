from django.apps import AppConfig


class RecsConfig(AppConfig):
    name = "kesher.recs"
    label = "recs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kesher.members.hooks import on_member_erase, on_member_export, on_members_merge
        from kesher.recs import types  # noqa: F401  (the activity types product_viewed, thread_viewed)
        from kesher.recs.services import folding, member_data  # noqa: F401  (folding: the activity consumer)

        on_member_export("recs", member_data.recs_member_export)
        on_member_erase(member_data.recs_member_erase)
        on_members_merge(member_data.recs_members_merge)
