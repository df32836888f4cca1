from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "kesher.members"
    label = "members"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kesher.members import memberdata
        from kesher.members.hooks import on_member_erase, on_member_export

        on_member_export("profile", memberdata.member_profile_export)  # the privacy rights (issue 18)
        on_member_export("consents", memberdata.member_consents_export)
        on_member_erase(memberdata.member_row_erase)
        from kesher.members import merging  # noqa: F401  (registers its part of merging duplicates)
