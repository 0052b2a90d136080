"""Stored Tripletex keys: set, replace, remove, and hand out a ready client for a company.

Keys are decrypted only in `tripletex_client_for()` (and when rotating encryption keys). A key that
cannot be decrypted fails closed: no Tripletex call is made, the connection is marked broken with a
clear reason, and ConnectionUnavailable is raised.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from companies import crypto
from companies.audit import audit_record
from companies.models import Company, OfficeKey, TripletexConnection, User
from tripletex.client import TripletexClient
from tripletex.factory import drop_sessions, make_client


class ConnectionUnavailable(Exception):
    """The company has no usable Tripletex connection (none, removed, broken or undecryptable key)."""


@sensitive_variables("token")
def _store_token(holder: OfficeKey | TripletexConnection, token: str, by: User | None) -> None:
    holder.token_encrypted = crypto.encrypt(token)
    holder.token_last4 = token[-4:] if len(token) >= 8 else ""
    holder.token_set_at = timezone.now()
    holder.token_set_by = by if by and by.pk else None


@sensitive_variables("token")
def _drop_sessions_quietly(encrypted: str) -> None:
    """Forget (and revoke) cached sessions of a key that is being replaced or removed."""
    if not encrypted:
        return
    try:
        token = crypto.decrypt(encrypted)
    except crypto.KeyDecryptError:
        return
    transaction.on_commit(lambda: drop_sessions(token))


@sensitive_variables("token")
@transaction.atomic
def connection_set_own_key(*, company: Company, token: str, by: User | None) -> TripletexConnection:
    """Store (or replace) the company's own key; the connection is 'not verified' until verified."""
    connection, created = TripletexConnection.objects.select_for_update().get_or_create(
        company=company, defaults={"key_type": TripletexConnection.KeyType.OWN}
    )
    _drop_sessions_quietly(connection.token_encrypted)
    connection.key_type = TripletexConnection.KeyType.OWN
    connection.office_key = None
    connection.tripletex_company_id = None
    _store_token(connection, token, by)
    _set_status(connection, TripletexConnection.Status.NOT_VERIFIED, "")
    connection.save()
    audit_record(
        company=company,
        actor=by,
        action="key.set" if created else "key.replaced",
        detail=_("Own Tripletex key ending in %(last4)s") % {"last4": connection.token_last4},
    )
    return connection


@transaction.atomic
def connection_set_office_key(
    *, company: Company, office_key: OfficeKey, client_company_id: int | None, by: User | None
) -> TripletexConnection:
    """Connect the company through an accounting office's key and the client's Tripletex company id."""
    connection, _created = TripletexConnection.objects.select_for_update().get_or_create(
        company=company,
        defaults={"key_type": TripletexConnection.KeyType.OFFICE, "office_key": office_key},
    )
    _drop_sessions_quietly(connection.token_encrypted)
    connection.key_type = TripletexConnection.KeyType.OFFICE
    connection.office_key = office_key
    connection.tripletex_company_id = client_company_id
    connection.token_encrypted, connection.token_last4 = "", ""
    connection.token_set_at, connection.token_set_by = None, None
    _set_status(connection, TripletexConnection.Status.NOT_VERIFIED, "")
    connection.save()
    audit_record(
        company=company,
        actor=by,
        action="key.office",
        detail=_("Through the office key of %(office)s") % {"office": office_key.name},
    )
    return connection


@sensitive_variables("token")
@transaction.atomic
def office_key_set(
    *, office_key: OfficeKey | None, name: str, token: str, by: User | None
) -> OfficeKey:
    """Create an office key, or replace the token of an existing one."""
    if office_key is None:
        office_key = OfficeKey(name=name)
    else:
        _drop_sessions_quietly(office_key.token_encrypted)
        office_key.name = name
    _store_token(office_key, token, by)
    office_key.verified_at = None
    office_key.save()
    audit_record(
        company=None,
        actor=by,
        action="office_key.set",
        detail=f"{office_key.name} (…{office_key.token_last4})",
    )
    return office_key


@transaction.atomic
def connection_remove(*, company: Company, by: User | None) -> None:
    """Remove the company's connection: its key (if its own) and its cached sessions are deleted."""
    connection = TripletexConnection.objects.filter(company=company).first()
    if connection is None:
        return
    _drop_sessions_quietly(connection.token_encrypted)
    connection.delete()
    audit_record(company=company, actor=by, action="key.removed")


def _set_status(connection: TripletexConnection, status: str, reason: str) -> None:
    if connection.status != status or connection.status_reason != reason:
        connection.status_changed_at = timezone.now()
    connection.status, connection.status_reason = status, reason
    if status == TripletexConnection.Status.CONNECTED:
        connection.verified_at = timezone.now()


def connection_mark(*, company: Company, status: str, reason: str = "") -> None:
    """Set the connection's status (connected / not verified / broken) with a plain-language reason."""
    with transaction.atomic():
        connection = TripletexConnection.objects.select_for_update().filter(company=company).first()
        if connection is None:
            return
        _set_status(connection, status, reason)
        connection.save(
            update_fields=["status", "status_reason", "status_changed_at", "verified_at"]
        )


def connection_mark_broken(*, company: Company, reason: str) -> None:
    """Mark the company's connection broken; the firm page and staff see the reason."""
    connection_mark(company=company, status=TripletexConnection.Status.BROKEN, reason=reason)


@sensitive_variables("token")
def _employee_token(connection: TripletexConnection) -> str:
    encrypted = (
        connection.office_key.token_encrypted
        if connection.key_type == TripletexConnection.KeyType.OFFICE and connection.office_key
        else connection.token_encrypted
    )
    if not encrypted:
        raise ConnectionUnavailable(_("No Tripletex key is stored for this company."))
    return crypto.decrypt(encrypted)


@sensitive_variables("token")
def tripletex_client_for(company: Company) -> TripletexClient:
    """A Tripletex client acting as this company. Raises ConnectionUnavailable (fails closed)."""
    connection = (
        TripletexConnection.objects.select_related("office_key").filter(company=company).first()
    )
    if connection is None:
        raise ConnectionUnavailable(_("The company is not connected to Tripletex."))
    try:
        token = _employee_token(connection)
    except crypto.KeyDecryptError as exc:
        reason = _(
            "The stored Tripletex key cannot be decrypted (the encryption keys have changed). "
            "Ask staff to enter the key again."
        )
        connection_mark_broken(company=company, reason=reason)
        raise ConnectionUnavailable(reason) from exc
    return make_client(employee_token=token, company_id=connection.basic_auth_company_id)


@sensitive_variables("token")
def office_client(office_key: OfficeKey) -> TripletexClient:
    """A client for the office's own company (user name 0), e.g. to list its clients."""
    try:
        return make_client(employee_token=crypto.decrypt(office_key.token_encrypted), company_id=0)
    except crypto.KeyDecryptError as exc:
        raise ConnectionUnavailable(
            _("The stored office key cannot be decrypted. Enter the key again.")
        ) from exc
