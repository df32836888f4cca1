"""Balances, lifetime sums, ledger lines and rule budgets become 64-bit: a balance of 2**31 points no
longer fails inside the database. On PostgreSQL each table is rewritten once (WidenToBigInteger), under an
exclusive lock for as long as the rewrite takes; on SQLite the columns were 64-bit in storage already."""

from django.db import migrations, models

from kesher.core.migration_ops import WidenToBigInteger


class Migration(migrations.Migration):
    dependencies = [
        ("loyalty", "0004_drop_covered_indexes"),
    ]

    operations = [
        WidenToBigInteger(
            model_name="pointsaccount",
            fields=[
                ("balance", models.BigIntegerField(default=0)),
                ("pending", models.BigIntegerField(default=0)),
                ("lifetime_earned", models.BigIntegerField(default=0)),
                ("lifetime_redeemed", models.BigIntegerField(default=0)),
            ],
        ),
        WidenToBigInteger(
            model_name="ledgerentry",
            fields=[
                (
                    "points",
                    models.BigIntegerField(
                        help_text="Signed: positive adds, negative takes (pending included)"
                    ),
                ),
                ("balance_after", models.BigIntegerField()),
            ],
        ),
        WidenToBigInteger(
            model_name="earningrule",
            fields=[
                (
                    "budget_points",
                    models.PositiveBigIntegerField(blank=True, help_text="Total the rule may give", null=True),
                ),
                ("spent_points", models.PositiveBigIntegerField(default=0)),
            ],
        ),
    ]
