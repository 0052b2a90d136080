"""manage.py import_transactions ORGNR FILE — the import of the transactions page, for any format
the page recognises (Nordnet, DNB, our own CSV): prints what it found, then imports the rows as
ready (or, with --dry-run, nothing; with --inbox, leaves them in the inbox to check)."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django_scopes import scope

from companies.models import Company
from ledger.imports.inbox import inbox_upload
from ledger.imports.service import FileImport, file_import
from ledger.models import BrokerAccount


class Command(BaseCommand):
    help = (
        "Import transactions for a company from a Nordnet or DNB export or our own CSV layout "
        "(the format is detected from the content; all new rows, or none if any is bad)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("org_number", help="The company's organisation number (9 digits).")
        parser.add_argument("file", help="The file (see README: Importing transactions).")
        parser.add_argument(
            "--account",
            default="",
            help="The broker account number, for a file that does not name its account.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Only print what would be imported."
        )
        parser.add_argument(
            "--inbox",
            action="store_true",
            help="Put the new rows in the inbox to check (Transactions → Inbox) instead of "
            "importing them as ready.",
        )

    def handle(self, *args: Any, org_number: str, file: str, **options: Any) -> None:
        org_number = org_number.replace(" ", "")
        company = Company.objects.filter(org_number=org_number).first()
        if company is None:
            raise CommandError(f"No company with organisation number {org_number}.")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        with scope(company=company):
            account = None
            if options["account"]:
                account = BrokerAccount.objects.filter(
                    company=company, number=options["account"]
                ).first()
                if account is None:
                    raise CommandError(f"No broker account {options['account']} for {company}.")
            if options["inbox"]:
                self._inbox(company, path, account)
                return
            result = file_import(
                company=company,
                content=path.read_bytes(),
                by=None,
                account=account,
                save=not options["dry_run"],
            )
        self._summary(result, path.name)
        if not result.ok:
            for line, message in result.errors:
                self.stderr.write(f"{path.name}:{line}: {message}")
            raise CommandError(f"Nothing imported: {len(result.errors)} problem(s) in {path.name}.")
        if result.saved:
            self.stdout.write(f"Imported {len(result.created)} transaction(s) for {company.name}.")
        else:
            self.stdout.write("Dry run: nothing imported.")

    def _summary(self, result: FileImport, name: str) -> None:
        self.stdout.write(f"Format: {result.format_label or 'not recognised'}")
        for count in result.types:
            self.stdout.write(
                f"  {count.source_type:<24} → {count.kind_label:<32} "
                f"{count.rows:>6} row(s), {count.new:>6} new"
            )
        self.stdout.write(f"New: {result.new}, already imported: {result.already}")
        if result.cancelled:
            self.stdout.write(f"Cancelled (left out): {result.cancelled}")
        if result.nothing_to_book:
            self.stdout.write(
                f"Currency exchange within the account, nothing to book: {result.nothing_to_book}"
            )
        for type_name, n in sorted(result.unknown_types.items()):
            self.stdout.write(f"Unknown type, not imported: {type_name} ({n})")
        for type_name, n in sorted(result.manual_types.items()):
            self.stdout.write(f"Enter by hand, not imported: {type_name} ({n})")
        for line, message in result.warnings:
            self.stdout.write(f"{name}:{line}: warning: {message}")

    def _inbox(self, company: Company, path: Path, account: BrokerAccount | None) -> None:
        """The file's new rows into the inbox (ledger/imports/inbox.py), nothing saved as ready."""
        # The rows' problems and the file's warnings are stored as text and shown on the inbox
        # pages: in the site's language (bokmål), not the command's untranslated English.
        with translation.override(settings.LANGUAGE_CODE):
            upload = inbox_upload(
                company=company,
                content=path.read_bytes(),
                file_name=path.name,
                by=None,
                account=account,
            )
        self.stdout.write(f"Format: {upload.format_label or 'not recognised'}")
        if not upload.ok or upload.batch is None:
            for line, message in upload.errors:
                self.stderr.write(f"{path.name}:{line}: {message}")
            raise CommandError(f"Nothing put in the inbox: {len(upload.errors)} problem(s).")
        batch = upload.batch
        for source_type, kind_label, rows, new in batch.types:
            self.stdout.write(
                f"  {source_type:<24} → {kind_label:<32} {rows:>6} row(s), {new:>6} new"
            )
        self.stdout.write(f"New: {upload.new}, already imported: {upload.already}")
        for gap in batch.saldo_gaps:
            self.stdout.write(f"Warning, line {gap['line']}: {gap['warning']}")
        for name, n in sorted(batch.unknown_types.items()):
            self.stdout.write(f"Unknown type, not imported: {name} ({n})")
        problems = batch.rows.exclude(problems=[]).count()
        self.stdout.write(
            f"In the inbox as file {batch.pk} for {company.name}: {upload.new} row(s) to check, "
            f"{problems} with problems. Nothing was saved as ready."
        )
