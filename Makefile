# The two commands: `make demo` runs the portal and the MDES sandbox; `make test` runs the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo demo-totp serve test lint api-schema ci-checks clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] < (3, 13) else 1)' || \
		{ echo "Python 3.11 or 3.12 is required (Mastercard's signer does not support 3.13); set PYTHON=..."; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-base: requirements/base.txt | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements/base.txt
	touch $@

$(VENV)/.installed-dev: requirements/dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements/dev.txt
	touch $@ $(VENV)/.installed-base

demo: $(VENV)/.installed-base
	$(BIN)/python scripts/run_demo.py

demo-totp:
	@$(PYTHON) scripts/demo_totp.py

# The production processes (Procfile: gunicorn, Celery worker, Celery beat) on PostgreSQL and Redis, configured
# from the environment (or .env with DJANGO_READ_DOT_ENV_FILE=1). Migrations run first, as their own step.
serve: $(VENV)/.installed-base
	@test -n "$$DATABASE_URL" -a -n "$$REDIS_URL" || { echo "make serve needs DATABASE_URL and REDIS_URL (PostgreSQL, Redis)"; exit 1; }
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	PATH="$(CURDIR)/$(BIN):$$PATH" PROMETHEUS_MULTIPROC_DIR="$${PROMETHEUS_MULTIPROC_DIR:-/tmp/portal-metrics}" \
		$(BIN)/honcho start -f Procfile

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest

# Rewrite api/openapi.yaml from the code (tests/api/test_schema.py fails while the two differ).
api-schema: $(VENV)/.installed-dev
	$(BIN)/python scripts/api_schema.py

# Static checks CI runs besides the tests (see .ci/run).
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports --no-cache
	$(BIN)/bandit -q -r config core users audit issuer_portal issuer_services cardholders provisioning landing api webhooks demo sandbox -ll -ii
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python scripts/check_secrets.py
	$(BIN)/hadolint Dockerfile
	@if git ls-files | grep -E '\.(p12|pfx|pem|key|cer|crt)$$'; then echo "key or certificate files are tracked"; exit 1; fi

clean:
	rm -rf $(VENV) .demo
