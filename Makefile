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

# --- make bench (bench/harness.py): the whole API under load in the production layout ---------
# Datasets at BENCH_SIZES ads (bench/generate.py, built once and reused), then per size: floors
# (pgbench on each endpoint's SQL, a constant JSON view, a static file), every endpoint and a
# mix at 1/16/64 connections (wrk + bench/load/requests.lua) through nginx :18080 -> gunicorn
# :18010 / uvicorn :18011 with marketplace.settings.bench and a private redis-server :18379.
# Writes bench/results/bench-<date>.{json,md,-p95.png,-rps.png}. Parts: bench-datasets,
# bench-load (no generation), bench-report (re-render a results JSON: BENCH_JSON=...).
# Knobs: BENCH_SIZES=10000 BENCH_CONCURRENCY=1,16,64 BENCH_DURATION=8 BENCH_PG_DURATION=5
# BENCH_ONLY=listing,detail (endpoints) BENCH_RUN_ARGS="--name my-run".
BENCH_SIZES ?= 10000,100000,1000000
export BENCH_SIZES

.PHONY: bench bench-tools bench-datasets bench-load bench-report

bench-tools:
	@command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { [ "$$(id -u)" = 0 ] && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light; } || \
		{ echo "make bench needs nginx: sudo apt-get install nginx-light" >&2; exit 1; }

bench-datasets: $(STAMP)
	$(SERVICES) up
	@for n in $$(echo $(BENCH_SIZES) | tr ',' ' '); do \
		$(PY) bench/generate.py --ads $$n || exit 1; done

bench: $(STAMP) bench-tools bench-datasets
	$(PY) bench/harness.py --skip-data $(BENCH_RUN_ARGS)

bench-load: $(STAMP) bench-tools
	$(SERVICES) up
	$(PY) bench/harness.py --skip-data $(BENCH_RUN_ARGS)

bench-report: $(STAMP)
	$(PY) bench/harness.py --report $(or $(BENCH_JSON),$(lastword $(sort $(wildcard bench/results/bench-2*.json))))

# --- make audit (.ci/audit.py): pip-audit of requirements/dev.txt; fails on a known vulnerability,
# says SKIPPED (exit 0) when no advisory data is reachable; AUDIT_STRICT=1 fails then too ---
.PHONY: audit

audit: $(STAMP)
	$(PY) .ci/audit.py

# --- make soak (bench/soak.py): SOAK_SECONDS of the bench mix through the production layout ---
# (nginx -> gunicorn + uvicorn + a Celery worker, private redis-server, marketplace_bench_
# $(SOAK_ADS)) with every process's RSS, PostgreSQL/Redis connections and Celery queues sampled
# every 10 s and two WebSocket recipients connected; checks zero 5xx, zero lost messages and flat
# memory, removes what it wrote, writes bench/results/soak-<date>.{md,json}. Exit 1 on a failure.
SOAK_SECONDS ?= 600
SOAK_ADS ?= 100000
SOAK_CONCURRENCY ?= 16
export SOAK_SECONDS SOAK_ADS SOAK_CONCURRENCY
.PHONY: soak

soak: $(STAMP) bench-tools
	$(SERVICES) up
	$(PY) bench/generate.py --ads $(SOAK_ADS) >/dev/null
	$(PY) bench/soak.py $(SOAK_ARGS)
