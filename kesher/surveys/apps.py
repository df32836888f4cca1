from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "kesher.surveys"
    label = "surveys"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kesher.members.hooks import on_member_erase, on_member_export, on_members_merge
        from kesher.surveys import invitations, types  # noqa: F401  (activity types, the activity consumer)
        from kesher.surveys.services import member_data

        on_member_export("surveys", member_data.surveys_member_export)
        on_member_erase(member_data.surveys_member_erase)
        on_members_merge(member_data.surveys_members_merge)
