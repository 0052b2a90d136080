"""Keys at rest: MultiFernet round trip, rotation, tampering fails closed, SECRET_KEY independence."""

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command

from companies import crypto
from companies.credentials import (
    ConnectionUnavailable,
    connection_remove,
    connection_set_own_key,
    office_key_set,
    tripletex_client_for,
)
from companies.models import AuditEvent, OfficeKey, TripletexConnection
from tripletex.sandbox import demo

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()
TOKEN = "employee-token-for-storage-tests-9f3a"


@pytest.fixture
def old_keys(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    return settings


def test_round_trip_never_stores_plaintext(acme, staff):
    connection = connection_set_own_key(company=acme, token=TOKEN, by=staff)

    connection.refresh_from_db()
    assert TOKEN not in connection.token_encrypted
    assert crypto.decrypt(connection.token_encrypted) == TOKEN
    assert connection.token_last4 == "9f3a"


def test_secret_key_change_does_not_break_decryption(acme, staff, settings):
    connection_set_own_key(company=acme, token=TOKEN, by=staff)
    settings.SECRET_KEY = "a-completely-different-secret-key-0123456789-abcdefghijklmnop"

    stored = TripletexConnection.objects.get(company=acme).token_encrypted
    assert crypto.decrypt(stored) == TOKEN


def test_rotation_re_encrypts_everything_and_is_safe_to_run_twice(acme, bergen, staff, old_keys):
    connection_set_own_key(company=acme, token=TOKEN, by=staff)
    office_key_set(office_key=None, name="Office", token=demo.OFFICE_TOKEN, by=staff)
    old_keys.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]

    out = io.StringIO()
    call_command("rotate_encryption_keys", stdout=out)

    assert "Re-encrypted 2, already current 0, undecryptable 0" in out.getvalue()
    old_keys.FIELD_ENCRYPTION_KEYS = [NEW_KEY]  # the old key can now be dropped
    assert crypto.decrypt(TripletexConnection.objects.get().token_encrypted) == TOKEN
    assert crypto.decrypt(OfficeKey.objects.get().token_encrypted) == demo.OFFICE_TOKEN

    again = io.StringIO()
    call_command("rotate_encryption_keys", stdout=again)
    assert "Re-encrypted 0, already current 2, undecryptable 0" in again.getvalue()


def test_rotation_resumes_after_a_partial_run(acme, bergen, staff, old_keys):
    connection_set_own_key(company=acme, token=TOKEN, by=staff)
    connection_set_own_key(company=bergen, token=TOKEN + "b", by=staff)
    old_keys.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    # An earlier run that stopped after the first row:
    first = TripletexConnection.objects.get(company=acme)
    first.token_encrypted = crypto.rotate(first.token_encrypted)
    first.save()

    out = io.StringIO()
    call_command("rotate_encryption_keys", stdout=out)

    assert "Re-encrypted 1, already current 1, undecryptable 0" in out.getvalue()


def test_rotation_reports_undecryptable_keys_and_fails(acme, staff, old_keys):
    connection_set_own_key(company=acme, token=TOKEN, by=staff)
    old_keys.FIELD_ENCRYPTION_KEYS = [NEW_KEY]  # the old key was lost

    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError):
        call_command("rotate_encryption_keys", stdout=out, stderr=err)

    assert "undecryptable 1" in out.getvalue()
    assert "enter that key again" in err.getvalue()


def test_tampered_ciphertext_fails_closed_without_calling_tripletex(acme, staff, settings):
    settings.TRIPLETEX_BASE_URL = "http://127.0.0.1:9/v2"
    connection_set_own_key(company=acme, token=TOKEN, by=staff)
    stored = TripletexConnection.objects.get(company=acme).token_encrypted
    tampered = stored[:-6] + ("A" if stored[-6] != "A" else "B") + stored[-5:]
    TripletexConnection.objects.filter(company=acme).update(token_encrypted=tampered)

    with pytest.raises(ConnectionUnavailable):
        tripletex_client_for(acme)

    connection = TripletexConnection.objects.get(company=acme)
    assert connection.status == TripletexConnection.Status.BROKEN
    assert connection.status_reason
    assert tampered not in connection.status_reason


def test_removing_a_connection_deletes_the_key_and_is_audited(
    acme, staff, django_capture_on_commit_callbacks
):
    connection_set_own_key(company=acme, token=TOKEN, by=staff)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        connection_remove(company=acme, by=staff)

    assert not TripletexConnection.objects.filter(company=acme).exists()
    assert len(callbacks) == 1  # the cached sessions of the key are dropped after commit
    assert AuditEvent.objects.filter(company=acme, action="key.removed", actor=staff).exists()
