"""Onboard a firm from the command line, with the same validation and verification as the admin form.

The key is read from standard input (one line), never from the command line, so it stays out of
shell history and process lists. With --office-key-id the stored office key is used and standard
input may be empty.

    echo "$KEY" | manage.py onboard_firm "923 609 016" --users a@x.no:finance,b@x.no:admin
    manage.py onboard_firm 923609016 --office-key-id 3 < /dev/null
"""

import getpass
import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email

from companies.models import OfficeKey, Role, TripletexConnection
from companies.onboarding.saving import firm_onboard
from companies.onboarding.verification import (
    ClientChoiceNeeded,
    OnboardingError,
    org_number_clean,
)
from companies.services import NewMember


def parse_members(value: str) -> list[NewMember]:
    """'a@x.no:finance,b@x.no' → members (role defaults to finance). Raises CommandError."""
    members = []
    for item in filter(None, (part.strip() for part in value.split(","))):
        email, _sep, role = item.partition(":")
        role = role.strip().lower() or Role.FINANCE
        try:
            validate_email(email.strip())
        except ValidationError:
            raise CommandError(f"Not an e-mail address: {email!r}") from None
        if role not in Role.values:
            raise CommandError(f"Unknown role {role!r} for {email}: use {', '.join(Role.values)}.")
        members.append(NewMember(email=email.strip().lower(), role=role))
    return members


class Command(BaseCommand):
    help = "Onboard a firm: verify its Tripletex key (read from standard input) and create it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("org_number", help="Organisation number, e.g. '923 609 016'.")
        parser.add_argument("--name", default="", help="Firm name (default: Tripletex's name).")
        parser.add_argument("--users", default="", help="a@x.no:finance,b@x.no:admin,...")
        parser.add_argument(
            "--office-key-id", type=int, help="Use this stored accounting office key."
        )
        parser.add_argument(
            "--office-key",
            action="store_true",
            help="The key on standard input is an accounting office's key (stored as a new one).",
        )
        parser.add_argument(
            "--client-id", type=int, help="Tripletex client id, when several clients match."
        )

    def _read_key(self) -> str:
        if sys.stdin.isatty():
            return getpass.getpass("Tripletex key: ").strip()
        return sys.stdin.readline().strip()

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            org_number = org_number_clean(options["org_number"])
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        members = parse_members(options["users"])
        office_key = None
        if options["office_key_id"] is not None:
            office_key = OfficeKey.objects.filter(pk=options["office_key_id"]).first()
            if office_key is None:
                raise CommandError(f"No accounting office key with id {options['office_key_id']}.")
        is_office = office_key is not None or options["office_key"]
        token = "" if office_key is not None else self._read_key()
        if not token and office_key is None:
            raise CommandError("No key on standard input.")
        try:
            result = firm_onboard(
                org_number=org_number,
                name=options["name"],
                members=members,
                key_type=TripletexConnection.KeyType.OFFICE
                if is_office
                else TripletexConnection.KeyType.OWN,
                token=token,
                office_key=office_key,
                client_company_id=options["client_id"],
                by=None,
            )
        except ClientChoiceNeeded as exc:
            choices = "; ".join(f"--client-id {c.id} for {c.name}" for c in exc.candidates)
            raise CommandError(f"{exc.message} {choices}") from None
        except OnboardingError as exc:
            raise CommandError(" ".join([exc.message, *exc.problems])) from None
        company, connection = result.company, result.connection
        self.stdout.write(
            self.style.SUCCESS(f"Onboarded {company.name} ({company.org_number}), id {company.pk}.")
        )
        self.stdout.write(f"Tripletex: {connection.get_status_display()} ({connection.key_type}).")
        for problem in connection.coverage_problems:
            self.stdout.write(self.style.WARNING(f"Warning: {problem}"))
        for invitation in result.invitations:
            self.stdout.write(f"Invited {invitation.email}.")
