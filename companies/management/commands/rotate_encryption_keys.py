"""Re-encrypt every stored Tripletex key with the first of FIELD_ENCRYPTION_KEYS.

Resumable and safe to run twice: each key is re-encrypted and saved in its own transaction, and
keys already encrypted with the first key are skipped. Put the new key first, keep the old ones
after it, run this, then drop the old keys.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from companies import crypto
from companies.models import OfficeKey, TripletexConnection


def _rotate_one(model: type[OfficeKey] | type[TripletexConnection], pk: int) -> str:
    """'rotated', 'current' or 'failed' for one row, locked while it is rewritten."""
    with transaction.atomic():
        row = model.objects.select_for_update().filter(pk=pk).first()
        if row is None or not row.token_encrypted:
            return "current"
        if crypto.is_current(row.token_encrypted):
            return "current"
        try:
            row.token_encrypted = crypto.rotate(row.token_encrypted)
        except crypto.KeyDecryptError:
            return "failed"
        row.save(update_fields=["token_encrypted"])
        return "rotated"


class Command(BaseCommand):
    help = "Re-encrypt every stored Tripletex key with the first FIELD_ENCRYPTION_KEYS key."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = {"rotated": 0, "current": 0, "failed": 0}
        for model in (TripletexConnection, OfficeKey):
            ids = (
                model.objects.exclude(token_encrypted="")
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            for pk in ids:
                outcome = _rotate_one(model, pk)
                counts[outcome] += 1
                if outcome == "failed":
                    self.stderr.write(
                        f"{model._meta.verbose_name} {pk}: no configured key decrypts it "
                        "(left unchanged; enter that key again in the admin)."
                    )
        self.stdout.write(
            f"Re-encrypted {counts['rotated']}, already current {counts['current']}, "
            f"undecryptable {counts['failed']}."
        )
        if counts["failed"]:
            raise CommandError(f"{counts['failed']} stored key(s) could not be decrypted.")
