from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "kesher.customers"
    label = "customers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kesher.customers.services.dedupe import member_arrived
        from kesher.customers.services.merging import MEMBERS_MERGED  # noqa: F401  (declares members.merged)
        from kesher.members.hooks import on_member_created

        on_member_created(member_arrived)  # new members are compared with the existing ones
