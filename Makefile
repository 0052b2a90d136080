# The two commands a newcomer needs: `make run` and `make test`. Everything installs into .venv.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# The lock (pip-tools, hashes): requirements.txt = production, requirements-dev.txt = production + dev.
LOCK := requirements.txt requirements-dev.txt
# Compiled for the interpreter running pip-compile (Python 3.11, as in the Dockerfile). Index and
# find-links options stay out of the files: they belong to a machine's pip config, not to the lock.
PIP_COMPILE := CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile --quiet --generate-hashes \
	--allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links
# Development defaults for `make run`: embedded SQLite, filesystem broker, the local Tripletex sandbox.
# The sync dispatcher ticks every 30 s here, so the demo firms' first sync starts within a minute.
RUN_ENV := DEBUG=true TRIPLETEX_BASE_URL=http://127.0.0.1:8765/v2 TRIPLETEX_WEB_URL=http://127.0.0.1:8765 \
	TRIPLETEX_CONSUMER_TOKEN=sandbox-consumer-token SYNC_DISPATCH_SECONDS=30
# Production-like variables for `check --deploy` (values are throwaway, never used to serve).
DEPLOY_ENV := DEBUG=false SECRET_KEY=check-deploy-$$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') \
	FIELD_ENCRYPTION_KEYS=Y2hlY2stZGVwbG95LWtleS0wMDAwMDAwMDAwMDAwMDA= ALLOWED_HOSTS=app.dynamik.no \
	TRIPLETEX_CONSUMER_TOKEN=check-deploy DATABASE_URL=sqlite:////tmp/dynamik-check-deploy.sqlite3

.PHONY: install lock run test test-sqlite check bench lint format messages clean

# Installs exactly the lock: pip checks every hash, then pip-sync removes what the lock no longer lists.
$(STAMP): $(LOCK)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.txt
	$(VENV)/bin/pip-sync --quiet requirements-dev.txt
	@touch $(STAMP)

# axe-core for the accessibility browser tests: a pinned npm tarball, checked against its sha512
# integrity, into var/axe/ (tests/axe.py; silent when already there).
install: $(STAMP)
	@$(PY) -m tests.axe

# Re-resolves the lock from pyproject.toml, keeping every pin that still fits; LOCK_ARGS=--upgrade
# takes the newest allowed releases, LOCK_ARGS="--upgrade-package celery" one package.
lock: install
	$(PIP_COMPILE) $(LOCK_ARGS) -o requirements.txt pyproject.toml
	$(PIP_COMPILE) $(LOCK_ARGS) --extra dev -c requirements.txt -o requirements-dev.txt pyproject.toml
	@$(MAKE) --no-print-directory install

run: install
	$(RUN_ENV) $(PY) manage.py migrate --noinput
	$(RUN_ENV) $(PY) manage.py seed_demo
	$(RUN_ENV) $(PY) manage.py seed_demo_ledger
	@echo "Starting web (http://127.0.0.1:8000), Celery worker + beat and the Tripletex sandbox (http://127.0.0.1:8765/v2). Ctrl-C stops all."
	$(RUN_ENV) $(VENV)/bin/honcho -f Procfile.dev start

test: install
	@PY=$(PY) scripts/run-tests $(ARGS)

# The database-sensitive tests (sync and its month-replace SQL, figures, tie-out, migrations, booking,
# CSV import, tenant isolation) once more on the embedded backends `make run` uses: SQLite, kombu's
# filesystem broker and the file cache, whatever servers answer. Tests that need Redis are deselected
# by marker (they run under `make test`), browser tests too (the same pages, tested on PostgreSQL).
SQLITE_TESTS := tests/ledger tests/test_tenant_isolation.py
SQLITE_MARKERS := not browser and not needs_redis and not needs_postgres
test-sqlite: install
	@TEST_DATABASE=sqlite TEST_REDIS=none PY=$(PY) scripts/run-tests -m "$(SQLITE_MARKERS)" \
		$(SQLITE_TESTS) $(ARGS)

check: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DEBUG=true $(VENV)/bin/mypy
	DEBUG=true $(PY) manage.py makemigrations --check --dry-run
	$(DEPLOY_ENV) $(PY) manage.py check --deploy --fail-level WARNING

bench: install
	@PY=$(PY) scripts/run-bench

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

messages: install
	DEBUG=true $(PY) manage.py makemessages -l nb --ignore=.venv --ignore=var --no-obsolete
	DEBUG=true $(PY) manage.py compilemessages -l nb --ignore=.venv

clean:
	rm -rf var/db.sqlite3 var/broker var/cache var/celerybeat-schedule* var/sandbox.sqlite3 var/test
