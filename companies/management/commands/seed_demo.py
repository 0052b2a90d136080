"""Create demo users (one per role, plus staff) and demo companies bound to the Tripletex sandbox's keys.

Idempotent: running it again changes nothing that exists (passwords are set only for new users).
The users whose role requires two-step login (staff, admin, finance) get an authenticator with a
known secret, printed at the end, so a developer can log in with any authenticator app (or
`oathtool --totp -b SECRET`). Demo data only: never run this against a production database.
"""

import base64

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from companies.audit import audit_record
from companies.credentials import (
    connection_mark,
    connection_set_office_key,
    connection_set_own_key,
    office_key_set,
)
from companies.mfa import mfa_enrolled
from companies.models import Company, OfficeKey, Role, TripletexConnection, User
from companies.services import company_create, membership_set
from companies.twofactor.models import Authenticator
from tripletex.sandbox import demo

DEMO_PASSWORD = "dynamik-demo"
# Base32, as authenticator apps take it typed in (20 bytes, RFC 4226's recommended length).
DEMO_TOTP_SECRET = "DYNAMIKDEMOTOTPSECRETFORLOCALRUN"
DEMO_USERS = [
    ("staff@dynamik.no", None, "Sigrid", "Staff"),
    ("admin@demo.no", Role.ADMIN, "Ada", "Admin"),
    ("finans@demo.no", Role.FINANCE, "Frida", "Finans"),
    ("regnskap@demo.no", Role.ACCOUNTANT, "Rolf", "Regnskap"),
]


class Command(BaseCommand):
    help = "Create demo users and companies connected to the Tripletex sandbox (idempotent)."

    def handle(self, *args: object, **options: object) -> None:
        with transaction.atomic():
            users = self._users()
            staff = users["staff@dynamik.no"]
            companies = self._companies(staff)
            for company in companies:
                for email, role, *_ in DEMO_USERS:
                    if role is not None:
                        membership_set(company=company, user=users[email], role=role)
        self._print_logins(companies)

    def _users(self) -> dict[str, User]:
        users = {}
        for email, role, first, last in DEMO_USERS:
            user = User.objects.filter(email=email).first()
            if user is None:
                user = User.objects.create_user(
                    email=email,
                    password=DEMO_PASSWORD,
                    first_name=first,
                    last_name=last,
                    is_staff=role is None,
                    is_superuser=role is None,
                )
            if role in (None, Role.ADMIN, Role.FINANCE) and not mfa_enrolled(user=user):
                key = base64.b32decode(DEMO_TOTP_SECRET).hex()
                device = Authenticator(user=user, name="demo", confirmed=True)
                device.key = key  # stored encrypted
                device.save()
            users[email] = user
        return users

    def _companies(self, staff: User) -> list[Company]:
        office_key = OfficeKey.objects.filter(name=demo.OFFICE.name).first()
        if office_key is None:
            office_key = office_key_set(
                office_key=None, name=demo.OFFICE.name, token=demo.OFFICE_TOKEN, by=staff
            )
            office_key.org_number = demo.OFFICE.org_number
            office_key.tripletex_company_id = demo.OFFICE.company_id
            office_key.save(update_fields=["org_number", "tripletex_company_id"])
        companies = []
        for entry in (demo.HOLDING, demo.OPERATING, demo.CLIENT_A, demo.CLIENT_B):
            company = Company.objects.filter(org_number=entry.org_number).first()
            if company is None:
                company = company_create(org_number=entry.org_number, name=entry.name)
                if entry.employee_token:
                    connection_set_own_key(company=company, token=entry.employee_token, by=staff)
                else:
                    connection_set_office_key(
                        company=company,
                        office_key=office_key,
                        client_company_id=entry.company_id,
                        by=staff,
                    )
                # The sandbox's demo keys are known to work; real keys are verified at onboarding.
                connection_mark(company=company, status=TripletexConnection.Status.CONNECTED)
                audit_record(company=company, actor=staff, action="company.seeded")
            companies.append(company)
        return companies

    def _print_logins(self, companies: list[Company]) -> None:
        out = self.stdout.write
        out("")
        out(self.style.SUCCESS("Demo data ready."))
        out(f"  App:      {settings.SITE_URL}/")
        out(f"  Tripletex sandbox: {settings.TRIPLETEX_BASE_URL}")
        out(f"  Password for every demo user: {DEMO_PASSWORD}")
        out(f"  Two-step login (staff, admin, finance): authenticator key {DEMO_TOTP_SECRET}")
        out(f"    code now: oathtool --totp -b {DEMO_TOTP_SECRET}")
        for email, role, *_ in DEMO_USERS:
            out(f"  {role.label if role else 'Staff (admin)':<14} {email}")
        out("  Companies: " + ", ".join(c.name for c in companies))
        out("")
