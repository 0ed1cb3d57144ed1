# LendCore: `make run` serves the app with demo data; `make test` runs the whole suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
N ?= 100000
# `make test` spreads the suite over this many pytest-xdist processes (0: one process).
TEST_WORKERS ?= 2

export DJANGO_SETTINGS_MODULE ?= lendcore.settings.local

.PHONY: install os-deps os-deps-test run test test-load test-faults lint fuzz bench bench-finance bench-origination bench-servicing bench-cob bench-cob-levers bench-collections bench-loan-tape bench-webhooks bench-import bench-reports help

help:
	@echo "make run      install, migrate, load demo data, serve on http://$(HOST):$(PORT)"
	@echo "make test     the whole test suite (SQLite unless DATABASE_URL says otherwise)"
	@echo "make fuzz     schemathesis over the whole API, once per role (CI runs it)"
	@echo "make test-faults   the fault-injection tests (tests/faults: database killed, Redis down, load)"
	@echo "make test-load     the load test alone (64 clients, timeouts and retries; prints its counts)"
	@echo "              both need PostgreSQL: DATABASE_URL=postgres://... (make test runs them too)"
	@echo "make install  the virtualenv only"
	@echo "make bench    every benchmark (prints BENCH lines); the PostgreSQL ones use BENCH_PG"
	@echo "make bench-finance | bench-origination | bench-servicing   one group"
	@echo "make bench-cob N=100000,1000000   close of business over N seeded loans (ratio= to the raw-SQL floor;"
	@echo "              COB_BENCH_TEMPLATE=1 keeps the seeded database as a template for A/B runs;"
	@echo "              COB_BENCH_PROCESSES=1,2 times one then two worker processes on the same data"
	@echo "              and prints BENCH cob_scaling ... speedup=)"
	@echo "make bench-cob-levers N=100000   what a per-product accrual line and a narrow loan-state table"
	@echo "              would save a night (docs/cob_night_shape.md; ratio_points= against the floor)"
	@echo "make bench-import N=100000   portfolio import of N loans (ratio= to a COPY of the same file)"
	@echo "make bench-collections CASES=100000   the collections queue (API and page) over CASES open cases"
	@echo "make bench-loan-tape N=100000   the loan tape (CSV and Parquet) over N seeded loans (ratio= to a COPY of the loans)"
	@echo "make bench-reports N=1000000   the dashboard and every report over N seeded loans and two years"
	@echo "              of snapshots (goals 1 s and 2 s, fixed query counts), and a loan's as-of view after"
	@echo "              five years (goal 100 ms); REPORTS_BENCH_TEMPLATE=1 keeps the seeded database; RUNS=10"
	@echo "make bench-webhooks   webhook delivery to a loopback receiver (SQLite, then PostgreSQL;"
	@echo "              ratio= to plain kept-alive POSTs of the same bodies; goal 300 events/s)"
	@echo "make lint     ruff, import-linter (layers), mypy and the migrations check"

install: $(STAMP)

# Reinstall only when the lock changes: a second `make run` reuses the venv.
$(STAMP): requirements.lock
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	touch $(STAMP)

# OS libraries: WeasyPrint's (run), plus Chromium for the browser tests (test).
os-deps:
	@bash scripts/os-deps.sh runtime

os-deps-test:
	@bash scripts/os-deps.sh test

run: install os-deps
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo ""
	@echo "Portal http://$(HOST):$(PORT)/   staff /staff/   admin /admin/   API docs /api/docs/"
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install os-deps-test
	DJANGO_SETTINGS_MODULE=lendcore.settings.test $(BIN)/python -m pytest \
		-n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# The fault and load tests are part of `make test`; these run them alone (PostgreSQL).
test-faults: install
	DJANGO_SETTINGS_MODULE=lendcore.settings.test $(BIN)/python -m pytest -s tests/faults $(PYTEST_ARGS)

test-load: install
	DJANGO_SETTINGS_MODULE=lendcore.settings.test $(BIN)/python -m pytest -s -m load tests/faults $(PYTEST_ARGS)

fuzz: install
	BIN=$(BIN) bash scripts/fuzz_api.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	DJANGO_SETTINGS_MODULE=lendcore.settings.test $(BIN)/mypy
	DJANGO_SETTINGS_MODULE=lendcore.settings.test $(BIN)/python manage.py makemigrations --check --dry-run

# Benchmarks print figures ending in `BENCH <name> key=value` lines; they are not tests.
# The PostgreSQL ones create and drop their own databases on the server at BENCH_PG.
BENCH_PG ?= postgres://postgres@127.0.0.1:5432

bench: bench-finance bench-origination bench-servicing bench-cob bench-collections bench-loan-tape bench-webhooks bench-import bench-reports

bench-finance: install
	$(BIN)/python bench/bench_finance.py
	DJANGO_SETTINGS_MODULE=lendcore.settings.test $(BIN)/python bench/bench_quote_api.py

bench-origination: install
	DJANGO_SETTINGS_MODULE=lendcore.settings.test DATABASE_URL=sqlite://:memory: $(BIN)/python bench/bench_decision.py
	DJANGO_SETTINGS_MODULE=lendcore.settings.test DATABASE_URL=$(BENCH_PG)/lendcore_bench_orig $(BIN)/python bench/bench_application_list.py

bench-servicing: install
	DATABASE_URL=$(BENCH_PG)/postgres $(BIN)/python bench/bench_payments_load.py
	DATABASE_URL=$(BENCH_PG)/postgres $(BIN)/python bench/bench_loan_detail.py

CASES ?= 100000
bench-collections: install
	DATABASE_URL=$(BENCH_PG)/postgres $(BIN)/python bench/bench_collections.py --cases $(CASES)

# COB_BENCH_PROCESSES: worker processes per run, comma-separated (1,2: the speed-up from one
# to two, over copies of one seeded template so both runs close the same data).
COB_BENCH_PROCESSES ?= 2

bench-import: install
	DATABASE_URL=$(BENCH_PG)/postgres $(BIN)/python bench/bench_import.py --rows $(N)

bench-cob: install
	BENCH_PG=$(BENCH_PG) COB_BENCH_PROCESSES=$(COB_BENCH_PROCESSES) $(BIN)/python bench/bench_cob.py $(N)

bench-cob-levers: install
	BENCH_PG=$(BENCH_PG) $(BIN)/python bench/bench_cob_levers.py $(N)

bench-loan-tape: install
	BENCH_PG=$(BENCH_PG) $(BIN)/python bench/bench_loan_tape.py $(N)

# WEBHOOK_EVENTS events over WEBHOOK_LOANS loans, one subscription, the receiver on loopback
WEBHOOK_EVENTS ?= 3000
WEBHOOK_LOANS ?= 500

bench-webhooks: install
	DJANGO_SETTINGS_MODULE=lendcore.settings.test DATABASE_URL=sqlite://:memory: $(BIN)/python bench/bench_webhooks.py $(WEBHOOK_EVENTS) $(WEBHOOK_LOANS)
	DJANGO_SETTINGS_MODULE=lendcore.settings.test DATABASE_URL=$(BENCH_PG)/lendcore_bench_webhooks $(BIN)/python bench/bench_webhooks.py $(WEBHOOK_EVENTS) $(WEBHOOK_LOANS)

# N loans (default a million; SMALL_N=2000 first, to check the query counts do not grow)
REPORTS_N ?= 1000000
RUNS ?= 10
bench-reports: install
	BENCH_PG=$(BENCH_PG) N=$(if $(filter command line,$(origin N)),$(N),$(REPORTS_N)) RUNS=$(RUNS) $(BIN)/python bench/bench_reports.py
