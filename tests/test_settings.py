"""Production settings refuse to start without their secrets, and pass Django's deploy checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x" * 20 + "production-like-secret-key-with-enough-entropy-7f3a9c",
    "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "TRIPLETEX_CONSUMER_TOKEN": "consumer",
    "ALLOWED_HOSTS": "app.dynamik.no",
    "DATABASE_URL": "sqlite:////tmp/dynamik-settings-test.sqlite3",
}
CONFIG_NAMES = (
    "DEBUG",
    "SECRET_KEY",
    "FIELD_ENCRYPTION_KEYS",
    "TRIPLETEX_",
    "ALLOWED_HOSTS",
    "SECURE_",
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_",
    "DYNAMIK_VAR_DIR",
    "BEHIND_TLS_PROXY",
    "TRUSTED_PROX",
    "SESSION_",
)


def run_django(args: list[str], **overrides: str | None) -> subprocess.CompletedProcess[str]:
    """Run manage.py in a clean environment: PRODUCTION plus overrides (None removes a variable)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(CONFIG_NAMES)}
    env.update(PRODUCTION)
    env["DYNAMIK_VAR_DIR"] = "var/test/settings"
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "TRIPLETEX_CONSUMER_TOKEN"]
)
def test_production_refuses_to_start_without_a_secret(missing):
    result = run_django(["check"], **{missing: None})
    assert result.returncode != 0
    assert f"{missing} must be set" in result.stderr


def test_a_broken_encryption_key_is_refused():
    result = run_django(["check"], FIELD_ENCRYPTION_KEYS="not-a-fernet-key")
    assert result.returncode != 0
    assert "not a Fernet key" in result.stderr


def test_secret_can_come_from_a_file(tmp_path):
    secret_file = tmp_path / "secret_key"
    secret_file.write_text("from-a-file-" + "y" * 50 + "\n")
    result = run_django(["check"], SECRET_KEY=None, SECRET_KEY_FILE=str(secret_file))
    assert result.returncode == 0, result.stderr


def test_check_deploy_is_clean_with_production_variables():
    result = run_django(["check", "--deploy", "--fail-level", "WARNING"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_development_generates_its_own_secrets(tmp_path):
    result = run_django(
        ["check"],
        DEBUG="true",
        SECRET_KEY=None,
        FIELD_ENCRYPTION_KEYS=None,
        TRIPLETEX_CONSUMER_TOKEN=None,
        DYNAMIK_VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "dev-secrets.json").is_file()


def _setting(name: str, **overrides: str | None) -> str:
    script = f"from django.conf import settings; print(settings.{name})"
    result = run_django(["shell", "-c", script], **overrides)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_behind_a_tls_proxy_the_proxy_must_be_named():
    # Django believes X-Forwarded-Proto from anyone; the app believes it only from TRUSTED_PROXIES.
    result = run_django(["check"], BEHIND_TLS_PROXY="true")
    assert result.returncode != 0
    assert "BEHIND_TLS_PROXY=true needs TRUSTED_PROXIES" in result.stderr
    named = run_django(
        ["check", "--deploy", "--fail-level", "WARNING"],
        BEHIND_TLS_PROXY="true",
        TRUSTED_PROXIES="172.30.0.2",
    )
    assert named.returncode == 0, named.stdout + named.stderr


def test_a_session_lasts_a_working_day_unless_configured():
    assert _setting("SESSION_COOKIE_AGE") == str(8 * 3600)
    assert _setting("SESSION_COOKIE_AGE", SESSION_IDLE_SECONDS="3600") == "3600"
    result = run_django(["check"], SESSION_IDLE_SECONDS="10")
    assert result.returncode != 0
    assert "SESSION_IDLE_SECONDS must be at least 60" in result.stderr
