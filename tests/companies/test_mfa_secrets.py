"""Second-factor secrets at rest (issue 15): an authenticator's key is stored only encrypted with
FIELD_ENCRYPTION_KEYS and a recovery code only as a keyed hash, so no database column holds either
in plaintext; devices of django-otp's own plugins are moved over by a migration."""

import base64
import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection, models
from django.test.utils import isolate_apps
from django.utils import timezone
from django_otp.oath import TOTP

from companies import crypto
from companies.mfa import (
    mfa_enrolment_confirm,
    mfa_enrolment_device,
    mfa_recovery_codes_left,
    mfa_verify,
    totp_manual_key,
)
from companies.models import User
from companies.twofactor.models import Authenticator, RecoveryCode, RecoveryCodes
from tests.mfa import totp_code
from tests.test_key_canary import all_table_text


def _enrolled(user) -> tuple[Authenticator, list[str]]:
    device = mfa_enrolment_device(user=user)
    codes = mfa_enrolment_confirm(user=user, device=device, code=totp_code(device))
    assert codes
    return device, codes


def _code_now(hex_key: str) -> str:
    totp = TOTP(bytes.fromhex(hex_key), 30, 0, 6, 0)
    return str(totp.token()).zfill(6)


def test_no_column_holds_an_authenticator_key_or_a_recovery_code(db, fiona):
    device, codes = _enrolled(fiona)
    hex_key = device.key
    typed_key = totp_manual_key(device).replace(" ", "")
    dump = all_table_text()
    for secret in (hex_key, hex_key.upper(), typed_key, typed_key.lower(), *codes):
        assert secret not in dump
    with connection.cursor() as cursor:
        cursor.execute("SELECT key_encrypted FROM twofactor_authenticator")
        (stored,) = cursor.fetchone()
        cursor.execute("SELECT code_hash FROM twofactor_recoverycode")
        hashes = {row[0] for row in cursor.fetchall()}
    assert crypto.decrypt(stored) == hex_key  # Fernet under FIELD_ENCRYPTION_KEYS
    assert len(hashes) == len(codes) == 10
    assert all(len(h) == 64 for h in hashes)


def _unthrottled(user) -> None:
    """Forget django-otp's growing delay after a wrong code, so the next check is a real one."""
    Authenticator.objects.filter(user=user).update(throttling_failure_count=0)
    RecoveryCodes.objects.filter(user=user).update(throttling_failure_count=0)


def test_the_encrypted_key_still_verifies_and_each_code_once(db, fiona):
    device, codes = _enrolled(fiona)
    code = totp_code(device)
    assert isinstance(mfa_verify(user=fiona, code=code), Authenticator)
    assert mfa_verify(user=fiona, code=code) is None  # a code works once
    _unthrottled(fiona)
    assert isinstance(mfa_verify(user=fiona, code=codes[0].upper()), RecoveryCodes)
    assert mfa_verify(user=fiona, code=codes[0]) is None  # used up
    assert mfa_recovery_codes_left(user=fiona) == 9


def test_a_recovery_code_works_after_secret_key_rotation_while_the_old_key_is_a_fallback(
    db, fiona, settings
):
    _device, codes = _enrolled(fiona)
    old = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-secret-key-" + "z" * 40
    assert mfa_verify(user=fiona, code=codes[0]) is None
    settings.SECRET_KEY_FALLBACKS = [old]
    _unthrottled(fiona)
    assert isinstance(mfa_verify(user=fiona, code=codes[0]), RecoveryCodes)


def test_a_stolen_hash_is_not_a_recovery_code(db, fiona):
    _enrolled(fiona)
    stolen = RecoveryCode.objects.filter(device__user=fiona).first().code_hash
    assert mfa_verify(user=fiona, code=stolen) is None
    _unthrottled(fiona)
    assert mfa_verify(user=fiona, code=stolen[:16]) is None


def test_rotating_the_encryption_keys_rotates_authenticator_keys(db, fiona, settings):
    device, _codes = _enrolled(fiona)
    hex_key = device.key
    settings.FIELD_ENCRYPTION_KEYS = [
        Fernet.generate_key().decode(),
        *settings.FIELD_ENCRYPTION_KEYS,
    ]
    out = io.StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    assert "Re-encrypted 1," in out.getvalue()
    device.refresh_from_db()
    assert crypto.is_current(device.key_encrypted)
    settings.FIELD_ENCRYPTION_KEYS = settings.FIELD_ENCRYPTION_KEYS[:1]  # the old key dropped
    assert device.key == hex_key
    assert mfa_verify(user=fiona, code=totp_code(device)) is not None


def test_the_qr_code_url_names_the_issuer_and_the_key(db, fiona):
    device = mfa_enrolment_device(user=fiona)
    secret = base64.b32encode(device.bin_key).decode()
    assert device.config_url == (
        f"otpauth://totp/Dynamik%3Afiona%40acme.no?secret={secret}"
        "&algorithm=SHA1&digits=6&period=30&issuer=Dynamik"
    )


# ---- the migration from django-otp's plugins ---------------------------------------------------


OLD_KEY = "3132333435363738393031323334353637383930"  # RFC 6238's test key, as hex
OLD_CODES = ["abcd2345", "efgh6789"]


def _old_tables():
    """django-otp 1.7's otp_totp and otp_static tables (the plugins are no longer installed)."""

    class TOTPDevice(models.Model):  # noqa: DJ008 - a table to migrate from, never shown
        user = models.ForeignKey(User, on_delete=models.CASCADE)
        name = models.CharField(max_length=64)
        confirmed = models.BooleanField(default=True)
        throttling_failure_timestamp = models.DateTimeField(null=True)
        throttling_failure_count = models.PositiveIntegerField(default=0)
        created_at = models.DateTimeField(null=True)
        last_used_at = models.DateTimeField(null=True)
        key = models.CharField(max_length=80)
        step = models.PositiveSmallIntegerField(default=30)
        t0 = models.BigIntegerField(default=0)
        digits = models.PositiveSmallIntegerField(default=6)
        tolerance = models.PositiveSmallIntegerField(default=1)
        drift = models.SmallIntegerField(default=0)
        last_t = models.BigIntegerField(default=-1)

        class Meta:
            app_label = "otp_totp"
            db_table = "otp_totp_totpdevice"

    class StaticDevice(models.Model):  # noqa: DJ008 - a table to migrate from, never shown
        user = models.ForeignKey(User, on_delete=models.CASCADE)
        name = models.CharField(max_length=64)
        confirmed = models.BooleanField(default=True)
        throttling_failure_timestamp = models.DateTimeField(null=True)
        throttling_failure_count = models.PositiveIntegerField(default=0)
        created_at = models.DateTimeField(null=True)
        last_used_at = models.DateTimeField(null=True)

        class Meta:
            app_label = "otp_static"
            db_table = "otp_static_staticdevice"

    class StaticToken(models.Model):  # noqa: DJ008 - a table to migrate from, never shown
        device = models.ForeignKey(StaticDevice, on_delete=models.CASCADE)
        token = models.CharField(max_length=16)

        class Meta:
            app_label = "otp_static"
            db_table = "otp_static_statictoken"

    return TOTPDevice, StaticDevice, StaticToken


@pytest.mark.django_db(transaction=True)
@isolate_apps("django_otp")  # a registry of its own for the old plugins' models
def test_the_migration_moves_old_devices_and_leaves_no_plaintext(fiona):
    from django.apps import apps
    from django.db.migrations.recorder import MigrationRecorder

    move = __import__(
        "companies.twofactor.migrations.0002_move_otp_devices", fromlist=["move_devices"]
    ).move_devices
    tables = _old_tables()
    with connection.schema_editor() as editor:
        for model in tables:
            editor.create_model(model)
    totp, static, token = tables
    totp.objects.create(user=fiona, name="authenticator", key=OLD_KEY, last_t=5)
    device = static.objects.create(user=fiona, name="recovery codes", created_at=timezone.now())
    token.objects.bulk_create(token(device=device, token=code) for code in OLD_CODES)
    recorder = MigrationRecorder(connection)
    recorder.record_applied("otp_totp", "0001_initial")
    recorder.record_applied("otp_static", "0001_initial")
    assert OLD_KEY in all_table_text()

    with connection.schema_editor() as editor:
        move(apps, editor)

    dump = all_table_text()
    assert OLD_KEY not in dump
    assert not [code for code in OLD_CODES if code in dump]
    names = set(connection.introspection.table_names())
    assert not {"otp_totp_totpdevice", "otp_static_staticdevice", "otp_static_statictoken"} & names
    applied = {app for app, _name in recorder.applied_migrations()}
    assert not {"otp_totp", "otp_static"} & applied
    moved = Authenticator.objects.get(user=fiona)
    assert (moved.key, moved.last_t, moved.name) == (OLD_KEY, 5, "authenticator")
    assert mfa_verify(user=fiona, code=_code_now(OLD_KEY)) == moved
    assert isinstance(mfa_verify(user=fiona, code=OLD_CODES[1]), RecoveryCodes)
    assert mfa_recovery_codes_left(user=fiona) == 1


@pytest.mark.django_db(transaction=True)
def test_the_migration_does_nothing_on_a_database_that_never_had_the_plugins(fiona):
    from django.apps import apps

    move = __import__(
        "companies.twofactor.migrations.0002_move_otp_devices", fromlist=["move_devices"]
    ).move_devices
    with connection.schema_editor() as editor:
        move(apps, editor)
    assert not Authenticator.objects.exists()
    assert not RecoveryCodes.objects.exists()
