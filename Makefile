# Lắng Nghe — the commands a newcomer needs. Everything installs into .venv with only Python 3.11+.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000
# Links in printed output and in the emails follow the port the demo serves on.
DEMO_URL ?= http://$(HOST):$(PORT)

.DEFAULT_GOAL := help
.PHONY: lock help install demo demo-reset serve test test-fast lint format worker beat bench messages compile-messages clean

help:
	@echo "make demo    install, migrate, load demo data and serve on http://$(HOST):$(PORT) (make demo PORT=8120)"
	@echo "make demo-reset  remove the demo's data, so that the next make demo starts afresh"
	@echo "make test    install and run the whole test suite"
	@echo "make lint    ruff, djlint, bandit, makemigrations --check, check --deploy (production settings)"
	@echo "make worker  run a Celery worker (needs REDIS_URL)"
	@echo "make beat    run Celery beat (needs REDIS_URL)"
	@echo "make bench   run the benchmarks in bench/ (needs PostgreSQL; see bench/README.md)"
	@echo "make messages  extract strings into locale/vi (needs GNU gettext) and compile them"

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found %s)" % sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# The pinned versions CI and production run (requirements.lock), then the project itself without resolving again.
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP) compile-messages

compile-messages: $(STAMP)
	@$(BIN)/python scripts/compile_messages.py

demo: install
	$(BIN)/python manage.py migrate --no-input
	SITE_URL=$(DEMO_URL) $(BIN)/python manage.py seed_demo
	@echo "Serving on $(DEMO_URL)/ — press Ctrl+C to stop."
	SITE_URL=$(DEMO_URL) $(BIN)/python manage.py runserver $(HOST):$(PORT)

# Start the demo afresh: its database, emails and exports go; the demo logins keep their passwords.
demo-reset:
	rm -rf var/db.sqlite3 var/mail var/exports
	@echo "Demo data removed: run 'make demo' to load it again."

serve: install
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# A throwaway key for `check --deploy` only: production settings refuse to start without a real one.
CHECK_ENV := DJANGO_ENV=production ALLOWED_HOSTS=survey.example.org SITE_URL=https://survey.example.org \
	REDIS_URL=redis://127.0.0.1:6379/15 DATABASE_URL= VAR_DIR=$(CURDIR)/var/check-deploy

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/djlint templates surveys/templates feedback/templates reports/templates audit/templates insight/templates api/templates customers/templates webhooks/templates --lint
	$(BIN)/bandit -q -c pyproject.toml -r accounts audit config customers surveys insight feedback reports api webhooks outbox --severity-level medium
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(CHECK_ENV) SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))') \
		$(BIN)/python manage.py check --deploy --fail-level WARNING

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

worker: install
	PROCESS_ROLE=worker $(BIN)/celery -A config worker --loglevel=INFO --max-tasks-per-child=1000 --max-memory-per-child=400000

beat: install
	PROCESS_ROLE=worker $(BIN)/celery -A config beat --loglevel=INFO --schedule var/celerybeat-schedule

bench: install
	$(BIN)/python bench/run.py
	$(BIN)/python bench/campaign.py
	$(BIN)/python bench/reports.py
	$(BIN)/python bench/insight.py
	$(BIN)/python bench/insight_db.py
	$(BIN)/python bench/api.py
	$(BIN)/python bench/webhooks.py

messages: install
	$(BIN)/python manage.py makemessages --locale vi --ignore ".venv/*" --ignore "var/*" --ignore "tests/*" --ignore "bench/*" --no-obsolete
	$(BIN)/python scripts/compile_messages.py

# Re-pin every dependency after changing pyproject.toml (or to take new releases: make lock UPGRADE=--upgrade).
# One lock for Python 3.11 and newer; uv only resolves here, pip installs.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 --no-header --no-annotate \
		$(UPGRADE) -o requirements.lock

clean:
	rm -rf $(VENV) var/staticfiles .pytest_cache
