"""Joins the two branches of ledger's migrations that landed at the same time: the budget years
(0010_budget_years) and the holdings' lots (0012_lots). Nothing to do but order them."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0010_budget_years"),
        ("ledger", "0012_lots"),
    ]

    operations: list[migrations.operations.base.Operation] = []
