from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    name = "kesher.loyalty"
    label = "loyalty"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kesher.brands.hooks import on_brand_created
        from kesher.loyalty import consumers  # noqa: F401  (registers the points consumer)
        from kesher.loyalty.services.accounts import account_open
        from kesher.loyalty.services.program import program_install_defaults
        from kesher.members.hooks import on_member_created

        on_brand_created(program_install_defaults)  # every new brand starts with the default program
        on_member_created(account_open)  # every new member has a points account before anything else
        from kesher.loyalty import memberdata  # the privacy rights: download and erasure (issue 18)
        from kesher.members.hooks import on_member_erase, on_member_export

        on_member_export("loyalty", memberdata.member_loyalty_export)
        on_member_erase(memberdata.member_loyalty_erase)
        from kesher.loyalty import merging  # noqa: F401  (registers its part of merging duplicates)
