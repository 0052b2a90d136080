"""manage.py import_transactions ORGNR FILE — the import of the transactions page, for any format
the page recognises (Nordnet, DNB, our own CSV): prints what it found, then imports the rows as
ready (or, with --dry-run, nothing)."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_scopes import scope

from companies.models import Company
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
        for type_name, n in sorted(result.unknown_types.items()):
            self.stdout.write(f"Unknown type, not imported: {type_name} ({n})")
        for type_name, n in sorted(result.manual_types.items()):
            self.stdout.write(f"Enter by hand, not imported: {type_name} ({n})")
        for line, message in result.warnings:
            self.stdout.write(f"{name}:{line}: warning: {message}")
