"""Move the devices of django-otp's otp_totp and otp_static plugins here, then drop their tables.

Those plugins stored each authenticator key as hex and each recovery code as typed. A database
that ran them (every one before this migration) has their tables: each authenticator is copied
with its key encrypted, each set of recovery codes with every code as its keyed hash, and the
plugins' tables and migration records are dropped, so no plaintext secret is left behind. A new
database never had them and nothing happens. The plugins are no longer installed, so their tables
are read with plain SQL.

Verified sessions name the old devices (django-otp stores a device id in the session), so their
holders are asked for a code once more. Going back leaves the devices here.

The hash and the encryption are written out as the models do them (not imported), so this
migration keeps doing what it did when those change.
"""

from django.conf import settings
from django.db import migrations
from django.utils.crypto import salted_hmac

TOTP_TABLE = "otp_totp_totpdevice"
STATIC_DEVICE_TABLE = "otp_static_staticdevice"
STATIC_TOKEN_TABLE = "otp_static_statictoken"
RECOVERY_CODE_SALT = "dynamik.twofactor.recovery-code"
TOTP_COLUMNS = ("user_id", "name", "confirmed", "key", "step", "t0", "digits", "tolerance")
TOTP_COLUMNS_MORE = ("drift", "last_t")


def _encrypt(plaintext: str) -> str:
    from cryptography.fernet import Fernet, MultiFernet

    fernet = MultiFernet([Fernet(key) for key in settings.FIELD_ENCRYPTION_KEYS])
    return fernet.encrypt(plaintext.encode()).decode()


def _code_hash(code: str) -> str:
    return salted_hmac(
        RECOVERY_CODE_SALT, code, secret=settings.SECRET_KEY, algorithm="sha256"
    ).hexdigest()


def _rows(cursor, table: str, columns: tuple[str, ...]) -> list[dict]:
    quote = cursor.db.ops.quote_name
    cursor.execute(f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(table)}")
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _move_authenticators(apps, cursor) -> None:
    authenticator = apps.get_model("twofactor", "Authenticator")
    for row in _rows(cursor, TOTP_TABLE, (*TOTP_COLUMNS, *TOTP_COLUMNS_MORE)):
        hex_key = row.pop("key")
        authenticator.objects.create(key_encrypted=_encrypt(hex_key), **row)


def _move_recovery_codes(apps, cursor) -> None:
    devices = apps.get_model("twofactor", "RecoveryCodes")
    codes = apps.get_model("twofactor", "RecoveryCode")
    tokens: dict[int, list[str]] = {}
    for row in _rows(cursor, STATIC_TOKEN_TABLE, ("device_id", "token")):
        tokens.setdefault(row["device_id"], []).append(row["token"])
    for row in _rows(cursor, STATIC_DEVICE_TABLE, ("id", "user_id", "name", "confirmed")):
        device = devices.objects.create(
            user_id=row["user_id"], name=row["name"], confirmed=row["confirmed"]
        )
        codes.objects.bulk_create(
            codes(device=device, code_hash=_code_hash(token)) for token in tokens.get(row["id"], [])
        )


def move_devices(apps, schema_editor) -> None:
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
        if TOTP_TABLE in tables:
            _move_authenticators(apps, cursor)
        if {STATIC_DEVICE_TABLE, STATIC_TOKEN_TABLE} <= tables:
            _move_recovery_codes(apps, cursor)
        for table in (STATIC_TOKEN_TABLE, STATIC_DEVICE_TABLE, TOTP_TABLE):
            if table in tables:
                cursor.execute(f"DROP TABLE {quote(table)}")
        # Were the plugins installed again, their migrations would create the tables anew.
        cursor.execute(
            f"DELETE FROM {quote('django_migrations')} WHERE {quote('app')} IN (%s, %s)",
            ["otp_totp", "otp_static"],
        )


class Migration(migrations.Migration):
    dependencies = [
        ("twofactor", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(move_devices, migrations.RunPython.noop, elidable=False),
    ]
