"""No Docker engine runs here, so the compose file's structure is checked instead; and the lock
(requirements*.txt) is checked against pyproject.toml and the Dockerfile."""

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

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
    for name in ("web", "worker", "worker-batch", "beat"):
        assert (
            services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        )
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_long_running_services_are_restarted_when_they_die():
    # A dead worker books nothing (rows stay queued): Docker starts web, worker and beat again,
    # and the databases they need; the one-off migrate must not loop.
    services = compose()["services"]
    for name in ("web", "worker", "worker-batch", "beat", "postgres", "redis"):
        assert services[name].get("restart") in {"unless-stopped", "always"}, name
    assert services["migrate"]["restart"] == "no"


def test_make_run_restarts_the_worker_and_beat():
    procfile = dict(
        line.split(":", 1) for line in (ROOT / "Procfile.dev").read_text().splitlines() if line
    )
    for name in ("worker", "beat"):
        command = procfile[name].split()
        assert command[:2] == ["scripts/keep-running", ".venv/bin/celery"], name
        assert name in command, name
    assert (ROOT / "scripts" / "keep-running").stat().st_mode & 0o111


def production_queues() -> dict:
    """The queue settings a production process gets (no CELERY_QUEUE in its environment)."""
    script = (
        "import json, django; django.setup()\n"
        "from django.conf import settings as s\n"
        "routes = {name: route['queue'] for name, route in s.CELERY_TASK_ROUTES.items()}\n"
        "beat = {e['task']: e.get('options', {}).get('queue') for e in"
        " s.CELERY_BEAT_SCHEDULE.values()}\n"
        "print(json.dumps({'interactive': s.CELERY_QUEUE, 'batch': s.CELERY_BATCH_QUEUE,"
        " 'default': s.CELERY_TASK_DEFAULT_QUEUE, 'routes': routes, 'beat': beat,"
        " 'declared': [q.name for q in s.CELERY_TASK_QUEUES]}))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"CELERY_QUEUE", "CELERY_BATCH_QUEUE"}}
    env.update(DJANGO_SETTINGS_MODULE="dynamik.settings", DEBUG="true")
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def consumed_queues(command: list[str]) -> set[str]:
    return set(command[command.index("-Q") + 1].split(","))


def test_compose_runs_a_worker_per_queue_and_every_routed_task_has_one():
    queues = production_queues()
    assert (queues["interactive"], queues["batch"]) == ("interactive", "batch")
    assert queues["default"] == "interactive"
    services = compose()["services"]
    assert consumed_queues(services["worker"]["command"]) == {"interactive"}
    assert consumed_queues(services["worker-batch"]["command"]) == {"batch"}
    assert services["worker-batch"]["command"][:4] == ["celery", "-A", "dynamik", "worker"]
    consumed = set().union(
        *(consumed_queues(s["command"]) for s in services.values() if "-Q" in s.get("command", []))
    )
    routed = set(queues["routes"].values()) | {q for q in queues["beat"].values() if q}
    assert routed <= consumed
    # Bookings and the dispatcher on the interactive queue, the syncs' default on the batch one.
    routes = queues["routes"]
    assert routes["ledger.booking_tasks.transaction_book_task"] == "interactive"
    assert routes["ledger.booking_tasks.transactions_book_batch_task"] == "interactive"
    assert routes["ledger.sync_tasks.sync_due_dispatch_task"] == "interactive"
    assert routes["ledger.sync_tasks.balances_sync_task"] == "batch"
    # Every task the beat schedule sends is routed (or sent to a named queue).
    assert all(task in routes or queue for task, queue in queues["beat"].items())


def test_make_run_has_one_worker_consuming_every_queue():
    procfile = dict(
        line.split(":", 1) for line in (ROOT / "Procfile.dev").read_text().splitlines() if line
    )
    # No -Q: a worker consumes every queue in CELERY_TASK_QUEUES, both of them.
    assert "-Q" not in procfile["worker"].split()
    assert set(production_queues()["declared"]) == {"interactive", "batch"}


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


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def locked(name: str) -> dict[str, tuple[str, list[str]]]:
    """{canonical name: (pinned version, hashes)} of a pip-compile'd requirements file."""
    text = (ROOT / name).read_text().replace("\\\n", " ")
    pins = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement, *options = line.split()
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==([^\s;]+)", requirement)
        assert match, f"{name}: {line!r} is not an exact pin"
        hashes = [o.removeprefix("--hash=") for o in options if o.startswith("--hash=sha256:")]
        pins[canonicalize_name(match[1])] = (match[2], hashes)
    return pins


def test_the_lock_pins_every_package_with_hashes():
    for name in ("requirements.txt", "requirements-dev.txt"):
        pins = locked(name)
        assert pins, name
        unhashed = [package for package, (_, hashes) in pins.items() if not hashes]
        assert not unhashed, (name, unhashed)


def test_the_lock_satisfies_pyproject():
    """`make lock` was run after the last change to pyproject.toml's dependencies."""
    project = pyproject()["project"]
    production, development = locked("requirements.txt"), locked("requirements-dev.txt")
    for lock, requirements in (
        (production, project["dependencies"]),
        (development, project["dependencies"] + project["optional-dependencies"]["dev"]),
    ):
        for line in requirements:
            requirement = Requirement(line)
            name = canonicalize_name(requirement.name)
            assert name in lock, f"{name} is not locked: run `make lock`"
            assert requirement.specifier.contains(lock[name][0], prereleases=True), (
                f"{name}=={lock[name][0]} is outside {requirement.specifier}: run `make lock`"
            )
    # Development installs the very versions production runs.
    for name, (version, _) in production.items():
        assert development[name][0] == version, name


def test_production_dependencies_leave_out_development_tools():
    production_names = {
        canonicalize_name(Requirement(line).name) for line in pyproject()["project"]["dependencies"]
    }
    production = locked("requirements.txt")
    for tool in ("honcho", "pytest", "ruff", "pip-tools", "pre-commit", "playwright", "mypy"):
        assert tool not in production_names, tool
        assert tool not in production, tool
    assert "honcho" in locked("requirements-dev.txt")


def test_dockerfile_installs_production_dependencies_from_the_lock():
    dockerfile = (ROOT / "Dockerfile").read_text()
    installs = re.findall(r"pip install[^\n&]*", dockerfile)
    assert installs == ["pip install --require-hashes -r requirements.txt"], installs
    assert "COPY requirements.txt ./" in dockerfile
    assert "requirements-dev.txt" not in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".env", ".git"} <= set(ignored)


def test_the_lock_is_compiled_for_the_images_python():
    image_python = re.search(r"^FROM python:(3\.\d+)", (ROOT / "Dockerfile").read_text(), re.M)[1]
    for name in ("requirements.txt", "requirements-dev.txt"):
        header = (ROOT / name).read_text()[:300]
        assert f"autogenerated by pip-compile with Python {image_python}\n" in header, name
        assert "make lock" in header, name


def test_make_install_reinstalls_when_the_lock_changes():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^LOCK := requirements\.txt requirements-dev\.txt$", makefile, re.M)
    assert re.search(r"^\$\(STAMP\): \$\(LOCK\)$", makefile, re.M)
    assert "--require-hashes -r requirements-dev.txt" in makefile
    assert re.search(r"^lock:", makefile, re.M)


def test_only_the_tls_proxy_is_published():
    # The app's port is reachable on the compose networks only: a client that could reach
    # gunicorn directly could send its own X-Forwarded-* headers.
    services = compose()["services"]
    published = {
        name: service["ports"]
        for name, service in services.items()
        if service.get("ports") and "profiles" not in service
    }
    assert set(published) == {"proxy"}, published
    assert {"80:80", "443:443"} <= set(services["proxy"]["ports"])
    assert services["web"].get("expose") == ["8000"]


def test_the_app_trusts_exactly_the_proxys_address_on_its_own_network():
    import ipaddress

    config = compose()
    services = config["services"]
    env = services["web"]["environment"]
    proxy_address = services["proxy"]["networks"]["edge"]["ipv4_address"]
    subnet = config["networks"]["edge"]["ipam"]["config"][0]["subnet"]
    assert env["BEHIND_TLS_PROXY"] == "true"
    assert env["TRUSTED_PROXIES"] == proxy_address
    assert ipaddress.ip_address(proxy_address) in ipaddress.ip_network(subnet)
    assert "edge" in services["web"]["networks"]
    # Nothing else on the proxy's network could send as a trusted proxy.
    on_edge = {name for name, s in services.items() if "edge" in (s.get("networks") or [])}
    assert on_edge == {"web", "proxy"}


def test_the_proxy_terminates_tls_and_forwards_to_the_app():
    services = compose()["services"]
    proxy = services["proxy"]
    assert proxy["image"].startswith("caddy:")
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    assert "reverse_proxy web:8000" in caddyfile
    assert "{$SITE_ADDRESS" in caddyfile
    assert services["web"]["environment"]["SITE_URL"].startswith("${SITE_URL:-https://")
