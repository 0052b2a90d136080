# The currency Tripletex keeps each account in (Account.currency), stored by the chart sync so that
# booking and the checks at entry know which accounts take postings in a foreign currency only.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0020_month_and_budget_totals"),
    ]

    operations = [
        migrations.AddField(
            model_name="ledgeraccount",
            name="currency",
            field=models.CharField(blank=True, max_length=3, verbose_name="currency"),
        ),
        migrations.AddField(
            model_name="ledgeraccount",
            name="currency_tripletex_id",
            field=models.BigIntegerField(blank=True, null=True),
        ),
    ]
