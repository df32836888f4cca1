from django.apps import AppConfig


class ActivityConfig(AppConfig):
    name = "kesher.activity"
    label = "activity"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kesher.activity import types  # noqa: F401  (registers the built-in activity types)
        from kesher.activity.services import signup_record
        from kesher.members.hooks import on_member_joined

        on_member_joined(signup_record)  # a new member's `signup`, once their consents are recorded
        from kesher.activity import memberdata  # the privacy rights: download and erasure (issue 18)
        from kesher.members.hooks import on_member_erase, on_member_export

        on_member_export("activities", memberdata.member_activities_export)
        on_member_erase(memberdata.member_activities_erase)
        from kesher.activity import merging  # noqa: F401  (registers its part of merging duplicates)
