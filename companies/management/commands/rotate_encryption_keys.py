"""Re-encrypt every stored Tripletex key and authenticator key with the first of FIELD_ENCRYPTION_KEYS.

Resumable and safe to run twice: each key is re-encrypted and saved in its own transaction, and
keys already encrypted with the first key are skipped. Put the new key first, keep the old ones
after it, run this, then drop the old keys.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from companies import crypto
from companies.models import OfficeKey, TripletexConnection
from companies.twofactor.models import Authenticator

Encrypted = type[OfficeKey] | type[TripletexConnection] | type[Authenticator]
# Each model with an encrypted column, and that column.
ENCRYPTED: list[tuple[Encrypted, str]] = [
    (TripletexConnection, "token_encrypted"),
    (OfficeKey, "token_encrypted"),
    (Authenticator, "key_encrypted"),
]


def _rotate_one(model: Encrypted, field: str, pk: int) -> str:
    """'rotated', 'current' or 'failed' for one row, locked while it is rewritten."""
    with transaction.atomic():
        row = model.objects.select_for_update().filter(pk=pk).first()
        value = getattr(row, field, "") if row is not None else ""
        if row is None or not value or crypto.is_current(value):
            return "current"
        try:
            setattr(row, field, crypto.rotate(value))
        except crypto.KeyDecryptError:
            return "failed"
        row.save(update_fields=[field])
        return "rotated"


class Command(BaseCommand):
    help = "Re-encrypt every stored Tripletex and authenticator key with the first FIELD_ENCRYPTION_KEYS key."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = {"rotated": 0, "current": 0, "failed": 0}
        for model, field in ENCRYPTED:
            ids = model.objects.exclude(**{field: ""}).order_by("pk").values_list("pk", flat=True)
            for pk in ids:
                outcome = _rotate_one(model, field, pk)
                counts[outcome] += 1
                if outcome == "failed":
                    remedy = (
                        "reset that user's two-step login in the admin"
                        if model is Authenticator
                        else "enter that key again in the admin"
                    )
                    self.stderr.write(
                        f"{model._meta.verbose_name} {pk}: no configured key decrypts it "
                        f"(left unchanged; {remedy})."
                    )
        self.stdout.write(
            f"Re-encrypted {counts['rotated']}, already current {counts['current']}, "
            f"undecryptable {counts['failed']}."
        )
        if counts["failed"]:
            raise CommandError(f"{counts['failed']} stored key(s) could not be decrypted.")
