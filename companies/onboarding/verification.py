"""Onboarding's reads: organisation number checks, verifying a Tripletex key, an office's clients.

Nothing here writes to the database. A key is verified before anything is saved as connected: a
session is created, `>whoAmI` must name the firm's organisation number (own key), or
`>withLoginAccess` must list it (office key), and a coverage probe checks what the key can see.
Every failure becomes an OnboardingError with a plain-language message for staff; a key never
appears in one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength
from stdnum.no import orgnr

from companies import crypto
from companies.models import Company, OfficeKey, TripletexConnection
from tripletex.client import TripletexClient
from tripletex.errors import (
    TripletexAuthError,
    TripletexError,
    TripletexForbidden,
    TripletexUnavailable,
    TripletexValidationError,
)
from tripletex.factory import drop_sessions, make_client
from tripletex.schemas import ClientCompany

logger = logging.getLogger(__name__)

APPLICATION_NAME = "DynamikManagement_Internal"
KEY_NAME = "ApiKeyDynamik"


class OnboardingError(Exception):
    """Verification or onboarding failed; `message` is for staff and never contains a key."""

    def __init__(self, message: str, *, code: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.problems = tuple(problems)


class ClientChoiceNeeded(OnboardingError):
    """Several clients of an office key have the organisation number: staff must pick one."""

    def __init__(self, candidates: Sequence[ClientCompany]) -> None:
        super().__init__(
            _(
                "Several Tripletex clients of this office key have this organisation number. "
                "Choose the right one and save again."
            ),
            code="choose_client",
        )
        self.candidates = tuple(candidates)


@dataclass(frozen=True)
class Coverage:
    """What the probe found: problems that block connecting, and warnings to act on later."""

    blocking: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verified:
    """A verified key: the firm as Tripletex knows it, and for office keys the office too."""

    company_name: str
    org_number: str
    client_company_id: int | None = None
    office_name: str = ""
    office_org_number: str = ""
    office_company_id: int | None = None
    warnings: tuple[str, ...] = ()


# ---- organisation numbers -----------------------------------------------------------------------


def org_number_clean(value: str) -> str:
    """The 9 digits of a Norwegian organisation number. Raises ValidationError with a clear reason."""
    raw = (value or "").strip()
    try:
        return str(orgnr.validate(raw))
    # InvalidLength is a subclass of InvalidFormat: the specific errors come first.
    except InvalidLength:
        message, code = _("An organisation number has 9 digits."), "org_length"
    except InvalidChecksum:
        message = _("This is not a valid organisation number: the check digit is wrong.")
        code = "org_checksum"
    except InvalidFormat:
        message = _("An organisation number has digits only (found %(value)s).") % {"value": raw}
        code = "org_letters"
    raise ValidationError(message, code=code)


def org_number_taken(*, org_number: str) -> Company | None:
    """The company that already has this organisation number, if any."""
    return Company.objects.filter(org_number=org_number).first()


# ---- verification -------------------------------------------------------------------------------


def _key_rejected_message() -> str:
    return _(
        "Tripletex did not accept the key. Check that the whole client key (“Klientnøkkel”) "
        "was copied, that it has not been deleted in Tripletex (“Selskap” → "
        "“Ansatte” → the employee → “API-tilgang”), and that it is a "
        "production key, not one for Tripletex's test environment."
    )


def _no_access_message() -> str:
    return _(
        "Tripletex accepted the key but refuses access. The firm must have the "
        "“Integrasjoner” module (“Selskap” → “Mitt abonnement”), "
        "and the key must be a custom key (“Tilpasset nøkkel”) with "
        "“Alle tilganger” for the application %(app)s."
    ) % {"app": APPLICATION_NAME}


@contextmanager
def _tripletex_errors() -> Iterator[None]:
    """Turn Tripletex errors into OnboardingErrors with plain-language messages."""
    try:
        yield
    except TripletexAuthError as exc:
        logger.info("Onboarding: key rejected by Tripletex (request id %s)", exc.request_id)
        raise OnboardingError(_key_rejected_message(), code="key_rejected") from None
    except TripletexForbidden as exc:
        logger.info("Onboarding: access refused by Tripletex (request id %s)", exc.request_id)
        raise OnboardingError(_no_access_message(), code="no_access") from None
    except TripletexUnavailable as exc:
        logger.info("Onboarding: Tripletex unreachable (%s)", type(exc).__name__)
        raise OnboardingError(
            _(
                "Tripletex cannot be reached right now. Nothing was saved as connected; "
                "try again in a few minutes."
            ),
            code="unavailable",
        ) from None
    except TripletexValidationError as exc:
        logger.info("Onboarding: Tripletex refused the session (request id %s)", exc.request_id)
        raise OnboardingError(_key_rejected_message(), code="key_rejected") from None
    except TripletexError as exc:
        logger.warning("Onboarding: unexpected Tripletex answer %s", exc.status)
        raise OnboardingError(
            _("Tripletex gave an unexpected answer (request id %(id)s). Try again later.")
            % {"id": exc.request_id or "?"},
            code="tripletex_error",
        ) from None


def _voucher_posting_allowed(client: TripletexClient) -> bool:
    """True when the key may post vouchers to the ledger; sends an empty voucher Tripletex refuses."""
    # Reference: POST /ledger/voucher?sendToLedger=true
    # An empty voucher is always invalid (422), so nothing is created; a key without the voucher
    # permission is refused (403) before the body is looked at. No read endpoint tells us this.
    try:
        client._call("POST", "/ledger/voucher", params={"sendToLedger": "true"}, body=b"{}")
    except TripletexForbidden:
        return False
    except TripletexValidationError:
        return True
    return True


def coverage_probe(*, client: TripletexClient, today: date | None = None) -> Coverage:
    """What the key can see and do in its company. Raises OnboardingError if Tripletex is down."""
    today = today or timezone.localdate()
    blocking: list[str] = []
    warnings: list[str] = []
    with _tripletex_errors():
        try:
            accounts = client.accounts()
        except TripletexForbidden:
            accounts = []
        if not accounts:
            # Missing permissions answer 200 with empty lists rather than 403.
            blocking.append(
                _(
                    "The key cannot see the chart of accounts (kontoplan). Give the key "
                    "“Alle tilganger”, or for an office key grant the client the "
                    "accounting access in “Klient” → “Tilganger”."
                )
            )
        try:
            rows = client.balance_sheet(
                date_from=date(today.year, 1, 1), date_to=today + timedelta(days=1)
            )
        except TripletexForbidden:
            blocking.append(
                _(
                    "The key cannot read the balance sheet (saldobalanse). The employee behind "
                    "the key needs access to accounting reports."
                )
            )
        else:
            if not rows:
                warnings.append(
                    _(
                        "Tripletex shows no balances this year. If the firm has bookings this "
                        "year, the key lacks access to the accounting figures."
                    )
                )
        if not _voucher_posting_allowed(client):
            warnings.append(
                _(
                    "The key may not post vouchers to the ledger (the “Avansert bilag” / "
                    "voucher permission is missing). Figures can be read, but transactions cannot "
                    "be booked straight to the ledger until the employee behind the key gets this "
                    "permission. Until then, choose “Send vouchers for approval in Tripletex” in "
                    "the firm's GL account settings: someone at the firm then approves each "
                    "voucher in Tripletex."
                )
            )
    return Coverage(blocking=tuple(blocking), warnings=tuple(warnings))


def _require_coverage(coverage: Coverage) -> None:
    if coverage.blocking:
        raise OnboardingError(
            _("The key works, but it cannot see what Dynamik needs:"),
            code="coverage",
            problems=coverage.blocking + coverage.warnings,
        )


def _forget_session(token: str) -> None:
    """Drop the session a failed verification may have cached (best effort, never raises)."""
    try:
        drop_sessions(token)
    except Exception:  # noqa: BLE001 - cleanup must not hide the verification error
        logger.info("Onboarding: could not drop a verification session")


@sensitive_variables("token")
def own_key_verify(*, org_number: str, token: str) -> Verified:
    """Verify the firm's own key against the organisation number. Raises OnboardingError."""
    client = make_client(employee_token=token, company_id=0)
    with _tripletex_errors():
        me = client.who_am_i()
    if me.organization_number != org_number:
        raise OnboardingError(
            _(
                "This key belongs to %(name)s (organisation number %(org)s), not to "
                "organisation number %(expected)s. Check the key or the organisation number."
            )
            % {"name": me.company_name, "org": me.organization_number, "expected": org_number},
            code="other_company",
        )
    coverage = coverage_probe(client=client)
    _require_coverage(coverage)
    return Verified(company_name=me.company_name, org_number=org_number, warnings=coverage.warnings)


def office_key_token(office_key: OfficeKey) -> str:
    """The decrypted token of a stored office key. Raises OnboardingError if it cannot be decrypted."""
    try:
        return crypto.decrypt(office_key.token_encrypted)
    except crypto.KeyDecryptError:
        raise OnboardingError(
            _(
                "The stored key of %(office)s cannot be decrypted. Replace the office key "
                "(Accounting office keys) and try again."
            )
            % {"office": office_key.name},
            code="undecryptable",
        ) from None


def _pick_client(
    clients: Sequence[ClientCompany], org_number: str, client_company_id: int | None
) -> ClientCompany:
    matches = [c for c in clients if c.organization_number == org_number]
    if client_company_id is not None:
        matches = [c for c in matches if c.id == client_company_id]
    if not matches:
        raise OnboardingError(
            _(
                "The office key does not reach a client with organisation number %(org)s. "
                "The accounting office must give this client access to the key in Tripletex: "
                "“Klient” → “Tilganger” → “Legg til "
                "API-nøkkel”, choose the key %(key)s and the client, then “Lagre "
                "endringer”."
            )
            % {"org": org_number, "key": KEY_NAME},
            code="no_client",
        )
    if len(matches) > 1:
        raise ClientChoiceNeeded(matches)
    return matches[0]


@sensitive_variables("token")
def office_clients_list(*, token: str) -> tuple[Verified, list[ClientCompany]]:
    """The office behind an office key and the clients it reaches. Raises OnboardingError."""
    root = make_client(employee_token=token, company_id=0)
    with _tripletex_errors():
        office = root.who_am_i()
        clients = root.clients_with_login_access()
    verified = Verified(
        company_name=office.company_name,
        org_number=office.organization_number,
        office_name=office.company_name,
        office_org_number=office.organization_number,
        office_company_id=office.company_id,
    )
    return verified, sorted(clients, key=lambda c: (c.name.lower(), c.id))


def office_clients_for(*, office_key: OfficeKey) -> tuple[Verified, list[ClientCompany]]:
    """The clients a stored office key reaches. Raises OnboardingError."""
    return office_clients_list(token=office_key_token(office_key))


@sensitive_variables("token")
def office_client_verify(
    *, org_number: str, token: str, client_company_id: int | None = None
) -> Verified:
    """Verify an office key reaches the firm (auto-matched by org number). Raises OnboardingError."""
    office, clients = office_clients_list(token=token)
    chosen = _pick_client(clients, org_number, client_company_id)
    client = make_client(employee_token=token, company_id=chosen.id)
    with _tripletex_errors():
        me = client.who_am_i()
    coverage = coverage_probe(client=client)
    _require_coverage(coverage)
    return Verified(
        company_name=chosen.name or me.company_name,
        org_number=org_number,
        client_company_id=chosen.id,
        office_name=office.office_name,
        office_org_number=office.office_org_number,
        office_company_id=office.office_company_id,
        warnings=coverage.warnings,
    )


def _key_verify(
    *,
    org_number: str,
    key_type: str,
    token: str,
    client_company_id: int | None,
) -> Verified:
    if key_type == TripletexConnection.KeyType.OWN:
        return own_key_verify(org_number=org_number, token=token)
    return office_client_verify(
        org_number=org_number, token=token, client_company_id=client_company_id
    )


@sensitive_variables("token")
def key_verify(
    *,
    org_number: str,
    key_type: str,
    token: str = "",
    office_key: OfficeKey | None = None,
    client_company_id: int | None = None,
) -> Verified:
    """Verify an own key, a new office key, or a stored office key for the firm."""
    if key_type == TripletexConnection.KeyType.OFFICE and office_key is not None and not token:
        token = office_key_token(office_key)
    if not token:
        raise OnboardingError(_("Enter the Tripletex key."), code="no_key")
    try:
        return _key_verify(
            org_number=org_number,
            key_type=key_type,
            token=token,
            client_company_id=client_company_id,
        )
    except OnboardingError:
        if office_key is None:  # a stored office key's session serves its other clients
            _forget_session(token)
        raise
