"""The holdings ledger (ledger/models/lots.py), and its lots for the rows booked or queued before it.

The data step replays, once, every row that holds lots under the new rule (queued, being booked,
booked, needing attention), per firm in date order (then the order they were queued), with the
in-memory FIFO of ledger/holdings/engine.py: a purchase opens a lot, a sale or switch takes the
oldest units, a repayment lowers the cost pro rata. A booked sale's voucher already credited the
securities account with its frozen cost_basis; where the replay finds another cost (the old replay
counted rejected rows too), the last lot it took from carries the difference, so the ledger stays
what the vouchers posted. A row the replay cannot cover gets no uses (the holdings page's tie-out
then shows the difference).
"""

import django.db.models.deletion
from django.db import migrations, models

RESERVED = ("queued", "booking", "booked", "failed")
MOVING = ("purchase", "sale", "repayment", "fund_switch")


def _key(isin, name):
    return (isin or name).strip().upper()


def _replay_company(Lot, LotUse, company_id, rows):
    from ledger.holdings.engine import FifoError, Holdings

    holdings = Holdings()
    lots = {}  # opening transaction pk -> Lot
    for txn in rows:
        key, label = _key(txn.isin, txn.instrument_name), txn.instrument_name or txn.isin
        quantity, amount = txn.quantity or 0, txn.amount or 0
        try:
            if txn.kind == "purchase":
                holdings.buy(key, quantity, amount + txn.fees, ref=txn.pk)
                takes = []
            elif txn.kind == "repayment":
                takes = holdings.repay(key, amount, label=label)
            else:
                takes = holdings.take(key, quantity, label=label)
                if txn.kind == "fund_switch":
                    to_key = _key(txn.to_isin, txn.to_instrument_name)
                    holdings.buy(to_key, txn.to_quantity or 0, amount + txn.fees, ref=txn.pk)
        except FifoError:
            continue
        if txn.kind in ("sale", "fund_switch") and takes and txn.cost_basis is not None:
            difference = txn.cost_basis - sum(t.cost for t in takes)
            if difference:
                last = takes[-1]
                takes[-1] = type(last)(last.ref, last.quantity, last.cost + difference)
        if txn.kind in ("purchase", "fund_switch"):
            switch = txn.kind == "fund_switch"
            lots[txn.pk] = Lot.objects.create(
                company_id=company_id,
                opened_by_id=txn.pk,
                instrument_key=_key(txn.to_isin, txn.to_instrument_name) if switch else key,
                instrument_name=txn.to_instrument_name if switch else txn.instrument_name,
                isin=txn.to_isin if switch else txn.isin,
                acquired=txn.trade_date,
                quantity=(txn.to_quantity or 0) if switch else quantity,
                cost=amount + txn.fees,
            )
        LotUse.objects.bulk_create(
            LotUse(
                company_id=company_id,
                lot=lots[take.ref],
                transaction_id=txn.pk,
                quantity=take.quantity,
                cost=take.cost,
            )
            for take in takes
        )


def lots_from_history(apps, schema_editor):
    Transaction = apps.get_model("ledger", "Transaction")
    Lot = apps.get_model("ledger", "Lot")
    LotUse = apps.get_model("ledger", "LotUse")
    rows = Transaction._base_manager.filter(status__in=RESERVED, kind__in=MOVING)
    by_company = {}
    for txn in rows:
        by_company.setdefault(txn.company_id, []).append(txn)
    for company_id, txns in by_company.items():
        txns.sort(key=lambda t: (t.trade_date, t.queued_at or t.booked_at or t.created_at, t.pk))
        _replay_company(Lot, LotUse, company_id, txns)


class Migration(migrations.Migration):
    dependencies = [
        ("companies", "0006_key_request"),
        ("ledger", "0010_instruments_and_outside_roles"),
    ]

    operations = [
        migrations.CreateModel(
            name="Lot",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("instrument_key", models.CharField(max_length=200)),
                ("instrument_name", models.CharField(blank=True, max_length=200)),
                ("isin", models.CharField(blank=True, max_length=12)),
                ("acquired", models.DateField()),
                ("quantity", models.DecimalField(decimal_places=8, max_digits=24)),
                ("cost", models.DecimalField(decimal_places=2, max_digits=18)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "company",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="companies.company",
                    ),
                ),
                (
                    "opened_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="lots",
                        to="ledger.transaction",
                    ),
                ),
            ],
            options={
                "ordering": ["acquired", "pk"],
                "indexes": [
                    models.Index(fields=["company", "instrument_key"], name="ledger_lot_instrument")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("opened_by",), name="ledger_lot_one_per_transaction"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="LotUse",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("quantity", models.DecimalField(decimal_places=8, max_digits=24)),
                ("cost", models.DecimalField(decimal_places=2, max_digits=18)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "company",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="companies.company",
                    ),
                ),
                (
                    "lot",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.RESTRICT,
                        related_name="uses",
                        to="ledger.lot",
                    ),
                ),
                (
                    "transaction",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="lot_uses",
                        to="ledger.transaction",
                    ),
                ),
            ],
            options={
                "ordering": ["lot__acquired", "lot_id"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("lot", "transaction"), name="ledger_lotuse_once"
                    )
                ],
            },
        ),
        migrations.RunPython(lots_from_history, migrations.RunPython.noop),
    ]
