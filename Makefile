# The two commands a newcomer needs: `make run` and `make test`. Everything installs into .venv.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# Development defaults for `make run`: embedded SQLite, filesystem broker, the local Tripletex sandbox.
# The sync dispatcher ticks every 30 s here, so the demo firms' first sync starts within a minute.
RUN_ENV := DEBUG=true TRIPLETEX_BASE_URL=http://127.0.0.1:8765/v2 TRIPLETEX_WEB_URL=http://127.0.0.1:8765 \
	TRIPLETEX_CONSUMER_TOKEN=sandbox-consumer-token SYNC_DISPATCH_SECONDS=30
# Production-like variables for `check --deploy` (values are throwaway, never used to serve).
DEPLOY_ENV := DEBUG=false SECRET_KEY=check-deploy-$$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') \
	FIELD_ENCRYPTION_KEYS=Y2hlY2stZGVwbG95LWtleS0wMDAwMDAwMDAwMDAwMDA= ALLOWED_HOSTS=app.dynamik.no \
	TRIPLETEX_CONSUMER_TOKEN=check-deploy DATABASE_URL=sqlite:////tmp/dynamik-check-deploy.sqlite3

.PHONY: install run test check bench lint format messages clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(RUN_ENV) $(PY) manage.py migrate --noinput
	$(RUN_ENV) $(PY) manage.py seed_demo
	@echo "Starting web (http://127.0.0.1:8000), Celery worker + beat and the Tripletex sandbox (http://127.0.0.1:8765/v2). Ctrl-C stops all."
	$(RUN_ENV) $(VENV)/bin/honcho -f Procfile.dev start

test: install
	@PY=$(PY) scripts/run-tests $(ARGS)

check: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
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
