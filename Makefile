# Two commands for a newcomer: `make run` and `make test`. Everything else is for the team.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements/dev.txt requirements/base.txt | cksum | cut -d' ' -f1)
SERVICES := $(PY) scripts/devservices.py

.PHONY: help run test lint fmt migrate seed services-up services-down run-prod ci clean

help:
	@echo "make run        install what is missing, start PostgreSQL/Redis if needed, migrate,"
	@echo "                load demo data, serve API + WebSocket on :8000 with worker and beat"
	@echo "make test       the whole test suite against real PostgreSQL and Redis"
	@echo "make lint       ruff, mypy, import contracts, makemigrations --check, check --deploy"
	@echo "make run-prod   the production layout (gunicorn + uvicorn behind nginx) on :8080"
	@echo "make services-down   stop the embedded PostgreSQL and Redis"

$(STAMP): requirements/base.txt requirements/dev.txt
	@scripts/bootstrap_venv.sh "$(PYTHON)" "$(VENV)"
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	@rm -f $(VENV)/.installed-* && touch $@

venv: $(STAMP)

run: $(STAMP)
	$(SERVICES) run -- scripts/run_local.sh

test: $(STAMP)
	$(SERVICES) run -- $(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/lint-imports
	$(SERVICES) run -- scripts/check_migrations_and_deploy.sh

fmt: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrate: $(STAMP)
	$(SERVICES) up && $(PY) manage.py migrate

seed: $(STAMP)
	$(SERVICES) up && $(PY) manage.py seed_demo

services-up: $(STAMP)
	$(SERVICES) up

services-down:
	@[ -x $(PY) ] && $(SERVICES) down || true

run-prod: $(STAMP)
	$(SERVICES) run -- scripts/run_prod.sh

ci:
	bash .ci/run

clean: services-down
	rm -rf var/

# --- benchmark data (bench/): ADS ads in marketplace_bench_$(ADS), plans in bench/results/ ---
ADS ?= 100000

.PHONY: bench-data bench-explain

bench-data: $(STAMP)
	$(SERVICES) up && $(PY) bench/generate.py --ads $(ADS) $(BENCH_ARGS)

bench-explain: $(STAMP)
	$(SERVICES) up && $(PY) bench/explain.py --ads $(ADS)

# --- search benchmark (bench/search_bench.py): bench/results/search-<N>.{md,json} ---
# `make bench-search` runs at 1,000,000 ads (ADS above defaults to 100,000 for bench-data and
# bench-explain; an ADS given on the command line or in the environment wins here too).
# The generator reuses marketplace_bench_<N> when it already holds N ads (it only migrates).
BENCH_SEARCH_ADS := $(if $(filter file,$(origin ADS)),1000000,$(ADS))
BENCH_ITERATIONS ?= 200
BENCH_THREADS ?= 4

.PHONY: bench-search

bench-search: $(STAMP)
	$(SERVICES) up
	$(PY) bench/generate.py --ads $(BENCH_SEARCH_ADS) $(BENCH_ARGS)
	$(PY) bench/search_bench.py --ads $(BENCH_SEARCH_ADS) --iterations $(BENCH_ITERATIONS) \
		--threads $(BENCH_THREADS) $(BENCH_SEARCH_ARGS)

# --- WebSocket benchmark (bench/ws_bench.py): bench/results/ws-<date>.{md,json} ---
# The production ws server (uvicorn, marketplace.settings.prod) alone on loopback, on
# marketplace_bench_$(BENCH_WS_ADS): 1,000 sockets (500 buyer/seller pairs), 200 msg/s for 30 s.
# Its users, ads, conversations and private redis-server are removed at the end; BENCH_WS_ARGS
# takes the script's options (--rate, --duration, --connections, --channel-layer pubsub...).
BENCH_WS_ADS ?= 10000

.PHONY: bench-ws

bench-ws: $(STAMP)
	$(SERVICES) up
	$(PY) bench/generate.py --ads $(BENCH_WS_ADS)
	$(PY) bench/ws_bench.py --ads $(BENCH_WS_ADS) $(BENCH_WS_ARGS)
