"""A coupon per message for journey send steps (MessageCoupon once per step and run), and signed bounce
notices (X-Kesher-Signature), required for brands from now on and left off for the brands that exist."""

import django.db.models.deletion
from django.db import migrations, models

BATCH = 1000


def existing_brands_keep_the_url_alone(apps, schema_editor):
    """A brand whose mail provider already posts to its bounce URL must not start getting 401s: every
    brand that exists now gets signatures off (new settings rows default to on). Re-runnable."""
    Brand = apps.get_model("brands", "Brand")
    MessagingSettings = apps.get_model("campaigns", "MessagingSettings")
    MessagingSettings.objects.update(bounce_signature_required=False)
    last = None
    while True:
        brands = Brand.objects.order_by("pk")
        if last is not None:
            brands = brands.filter(pk__gt=last)
        batch = list(brands.values_list("pk", flat=True)[:BATCH])
        if not batch:
            break
        last = batch[-1]
        MessagingSettings.objects.bulk_create(
            [MessagingSettings(brand_id=pk, bounce_signature_required=False) for pk in batch],
            ignore_conflicts=True,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("brands", "0001_initial"),
        ("campaigns", "0003_ab_forward_coupons_bounces_portal"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="messagecoupon", name="message_coupon_once"),
        migrations.AddField(
            model_name="messagecoupon",
            name="journey_run",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="campaigns.journeyrun",
            ),
        ),
        migrations.AddConstraint(
            model_name="messagecoupon",
            constraint=models.UniqueConstraint(
                condition=models.Q(("journey_run__isnull", True)),
                fields=("campaign", "member"),
                name="message_coupon_once",
            ),
        ),
        migrations.AddConstraint(
            model_name="messagecoupon",
            constraint=models.UniqueConstraint(
                condition=models.Q(("journey_run__isnull", False)),
                fields=("campaign", "journey_run"),
                name="message_coupon_once_per_run",
            ),
        ),
        migrations.AddField(
            model_name="messagingsettings",
            name="bounce_signature_required",
            field=models.BooleanField(
                default=True, help_text="Bounce notices must carry a valid X-Kesher-Signature header"
            ),
        ),
        migrations.RunPython(existing_brands_keep_the_url_alone, migrations.RunPython.noop),
    ]
