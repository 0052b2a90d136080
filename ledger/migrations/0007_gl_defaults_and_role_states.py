"""GL account settings: the researched defaults (README, "Default accounts") and per-role states.

Existing rows: a role still on its old default was never chosen by anyone (the old defaults were the
bug: 8160 is Valutatap, 8040 a tax-refund interest account), so it moves to the new default and stays
unconfirmed; the next proposal from the firm's chart (the settings page, or a check against Tripletex)
replaces it with the firm's own account. A role someone changed is marked confirmed. The old and new
numbers are literals here: migrations are history and must not follow later code.
"""

from django.db import migrations, models

OLD_DEFAULTS = {
    "bank": 1920,
    "securities": 1810,
    "profit": 8070,
    "loss": 8160,
    "dividend": 8040,
    "repayment": 1810,
    "interest": 8050,
    "instrument_loan": 2220,
    "withholding_tax": 8300,
    "fund_switch": 1880,
    "fees": 8170,
}
NEW_DEFAULTS = {**OLD_DEFAULTS, "profit": 8077, "loss": 8177, "dividend": 8071}
NEW_DEFAULTS |= {"fund_switch": 1889, "fees": 8179}


def forwards(apps, schema_editor):
    settings_model = apps.get_model("ledger", "GLAccountSettings")
    for row in settings_model.objects.all():
        states = {}
        for role, old in OLD_DEFAULTS.items():
            if getattr(row, role) == old:
                setattr(row, role, NEW_DEFAULTS[role])
            else:
                states[role] = "confirmed"
        row.role_states = states
        row.save(update_fields=[*OLD_DEFAULTS, "role_states"])


class Migration(migrations.Migration):

    dependencies = [
        ("ledger", "0006_reverse_sent_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="glaccountsettings",
            name="role_states",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AlterField(
            model_name="glaccountsettings",
            name="profit",
            field=models.PositiveIntegerField(default=8077, verbose_name="Gain on sale"),
        ),
        migrations.AlterField(
            model_name="glaccountsettings",
            name="loss",
            field=models.PositiveIntegerField(default=8177, verbose_name="Loss on sale"),
        ),
        migrations.AlterField(
            model_name="glaccountsettings",
            name="dividend",
            field=models.PositiveIntegerField(default=8071, verbose_name="Dividend"),
        ),
        migrations.AlterField(
            model_name="glaccountsettings",
            name="fund_switch",
            field=models.PositiveIntegerField(default=1889, verbose_name="Fund switch (clearing)"),
        ),
        migrations.AlterField(
            model_name="glaccountsettings",
            name="fees",
            field=models.PositiveIntegerField(default=8179, verbose_name="Fees"),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
