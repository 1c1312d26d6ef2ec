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
