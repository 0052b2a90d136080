"""manage.py import_transactions ORGNR FILE.csv — the CSV import of the transactions page."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_scopes import scope

from companies.models import Company
from ledger.transactions.csv_import import transactions_import


class Command(BaseCommand):
    help = "Import transactions for a company from a CSV file (all rows, or none if any is bad)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("org_number", help="The company's organisation number (9 digits).")
        parser.add_argument("file", help="The CSV file (see README: Importing transactions).")

    def handle(self, *args: Any, org_number: str, file: str, **options: Any) -> None:
        org_number = org_number.replace(" ", "")
        company = Company.objects.filter(org_number=org_number).first()
        if company is None:
            raise CommandError(f"No company with organisation number {org_number}.")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        with scope(company=company):
            result = transactions_import(company=company, content=path.read_bytes(), by=None)
        if not result.ok:
            for line, message in result.errors:
                self.stderr.write(f"{path.name}:{line}: {message}")
            raise CommandError(f"Nothing imported: {len(result.errors)} problem(s) in {path.name}.")
        self.stdout.write(f"Imported {len(result.created)} transaction(s) for {company.name}.")
