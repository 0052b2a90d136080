"""No Docker engine runs here, so the compose file's structure is checked instead."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def documented_variables() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^([A-Z][A-Z0-9_]+)=", text, re.M))


def test_compose_has_the_production_services():
    services = compose()["services"]
    assert {"postgres", "redis", "web", "worker", "beat", "sandbox", "migrate"} <= set(services)
    assert services["sandbox"]["profiles"] == ["sandbox"]


def test_services_run_the_right_commands():
    services = compose()["services"]
    assert services["web"]["command"][:2] == ["gunicorn", "dynamik.wsgi:application"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "dynamik", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "dynamik", "beat"]
    assert services["sandbox"]["command"][:3] == ["python", "manage.py", "tripletex_sandbox"]
    assert services["migrate"]["command"][-2:] == ["migrate", "--noinput"]


def test_databases_have_health_checks_and_the_app_waits_for_them():
    services = compose()["services"]
    for name in ("postgres", "redis"):
        assert "healthcheck" in services[name]
    for name in ("web", "worker", "beat"):
        assert (
            services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        )
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_secrets_come_from_the_environment_and_are_documented():
    env = compose()["services"]["web"]["environment"]
    for name in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "TRIPLETEX_CONSUMER_TOKEN"):
        assert env[name].startswith("${" + name + ":?"), name  # required, never a literal
    assert env["DEBUG"] == "false"
    assert set(env) - {"DATABASE_URL"} <= documented_variables() | {"DATABASE_URL"}


def test_every_setting_read_from_the_environment_is_documented():
    settings_py = (ROOT / "dynamik" / "settings.py").read_text()
    read = set(re.findall(r'env\.\w+\(\s*"([A-Z][A-Z0-9_]+)"', settings_py))
    read |= set(re.findall(r'secret\(\s*"([A-Z][A-Z0-9_]+)"', settings_py))
    assert read, "no variables found: the pattern is stale"
    assert read <= documented_variables(), read - documented_variables()


def test_dockerfile_builds_static_files_and_runs_gunicorn_as_a_user():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "collectstatic --noinput" in dockerfile
    assert "USER dynamik" in dockerfile
    assert '"gunicorn", "dynamik.wsgi:application"' in dockerfile
