# The one list of verbs. `make run` and `make test` set everything up on a fresh machine with python3.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
STAMP := $(VENV)/.installed

.PHONY: run install test test-unit test-pg e2e lint format bench bench-plan check clean demo

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/openiop migrate --no-input -v0
	$(BIN)/openiop pagecache_triggers -v0
	$(BIN)/openiop demo --keep-existing
	$(BIN)/openiop demo_logins --url http://127.0.0.1:$(PORT)
	@echo "Background jobs (safety-alert escalation, scheduled checks) run in a worker beside the server; its log is var/worker.log"
	$(BIN)/openiop worker >var/worker.log 2>&1 & trap 'kill $$!' EXIT; \
		$(BIN)/openiop runserver 127.0.0.1:$(PORT)

demo: $(STAMP)
	$(BIN)/openiop migrate --no-input -v0
	$(BIN)/openiop pagecache_triggers -v0
	$(BIN)/openiop demo --keep-existing

# The whole suite: domain + Django tests on SQLite, the same on PostgreSQL (when DATABASE_URL is set
# or a server answers on 127.0.0.1:5432; required when OPENIOP_REQUIRE_PG=1), then the browser journeys.
REPORTS := var/test-reports

test: $(STAMP)
	tools/system-packages
	rm -rf $(REPORTS) && mkdir -p $(REPORTS)
	$(MAKE) --no-print-directory test-unit
	@if [ -n "$$DATABASE_URL" ] || $(BIN)/python -c "import socket,sys; s=socket.socket(); s.settimeout(1); sys.exit(s.connect_ex(('127.0.0.1',5432)))"; then \
		$(MAKE) --no-print-directory test-pg; \
	elif [ "$$OPENIOP_REQUIRE_PG" = "1" ]; then \
		echo "PostgreSQL is required (OPENIOP_REQUIRE_PG=1) but nothing answers on 127.0.0.1:5432" >&2; exit 1; \
	else \
		echo "== PostgreSQL suite SKIPPED: no DATABASE_URL and no server on 127.0.0.1:5432 =="; \
	fi
	$(MAKE) --no-print-directory e2e
	$(BIN)/python tools/test_summary.py $(REPORTS)/*.xml

test-unit: $(STAMP)
	@echo "== Domain and Django tests on SQLite =="
	mkdir -p $(REPORTS)
	env -u DATABASE_URL $(BIN)/pytest openiop --junitxml=$(REPORTS)/sqlite.xml

test-pg: $(STAMP)
	@echo "== Django tests on PostgreSQL =="
	mkdir -p $(REPORTS)
	DATABASE_URL=$${DATABASE_URL:-$(PG_URL)} $(BIN)/pytest openiop -m "not e2e and not demo_subprocess" --junitxml=$(REPORTS)/postgresql.xml

e2e: $(STAMP)
	@echo "== Browser journeys (Playwright, Debian Chromium) =="
	tools/system-packages
	mkdir -p $(REPORTS)
	env -u DATABASE_URL DJANGO_ALLOW_ASYNC_UNSAFE=true $(BIN)/pytest e2e --junitxml=$(REPORTS)/e2e.xml

# The benchmark: PostgreSQL databases of 20,000 and 1,000 synthetic patients (built once, reused),
# gunicorn, and wrk on 127.0.0.1. Results in bench/results/ and the README table.
bench: $(STAMP)
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null; } || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
	$(BIN)/python bench/run.py $(BENCH_ARGS)
	$(BIN)/python bench/plan.py

# The week planner alone (issue 19): 40, 150, 400 and 1,000 patients at 30 s on 2 workers.
bench-plan: $(STAMP)
	$(BIN)/python bench/plan.py $(PLAN_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy openiop
	$(BIN)/lint-imports --no-cache
	env -u DATABASE_URL $(BIN)/openiop makemigrations --check --dry-run

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check: lint test

clean:
	rm -rf $(VENV) var
