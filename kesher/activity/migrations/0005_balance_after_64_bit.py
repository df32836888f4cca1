"""An activity's balance_after is a balance, and balances are 64-bit now (loyalty 0005)."""

from django.db import migrations, models

from kesher.core.migration_ops import WidenToBigInteger


class Migration(migrations.Migration):
    dependencies = [
        ("activity", "0004_drop_covered_indexes"),
    ]

    operations = [
        WidenToBigInteger(
            model_name="activity",
            fields=[("balance_after", models.BigIntegerField(blank=True, null=True))],
        ),
    ]
