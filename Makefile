# Two commands on a fresh machine: `make run` and `make test`. Everything else is optional.
SHELL := /bin/bash
PORT ?= 8000
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run dev flow test test-embedded lint format install migrate seed worker bench chaos clean compose-test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Reinstall only when the dependency pins change.
$(STAMP): $(BIN)/python pyproject.toml requirements.lock
	$(BIN)/pip install -q -c requirements.lock -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_concerts --if-empty

## Serve the API (gunicorn, gthread workers sized to the CPUs), a Celery worker and one beat on
## 127.0.0.1:$(PORT); Ctrl-C stops them all.
run: seed
	PORT=$(PORT) $(BIN)/honcho -f Procfile start

## The same with Django's development server (reloads on code changes) instead of gunicorn.
dev: seed
	PORT=$(PORT) $(BIN)/honcho -f Procfile.dev start

## The embedded smoke tests on SQLite, then the whole suite on real PostgreSQL and Redis, then the tests
## that touch Redis again on a 3-master Redis Cluster (REDIS_CLUSTER=true; .ci/cluster-stage).
test: install
	env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL $(BIN)/pytest -q -m embedded -p no:cacheprovider
	.ci/with-services bash -c '$(BIN)/pytest -p no:cacheprovider && .ci/cluster-stage $(BIN)/pytest'

## Walk the booking flow over HTTP against a running `make run` (same RESERVATION_HOLD_SECONDS for both).
flow: install
	$(BIN)/python .ci/http_flow.py --base http://127.0.0.1:$(PORT) --hold-seconds $${RESERVATION_HOLD_SECONDS:-0}

## Load benchmark: its own PostgreSQL, Redis, gunicorn and Celery on free loopback ports,
## ~2-3 minutes; prints a table and writes bench/results.json. BENCH_ARGS="--only baseline,seat_map" etc.
bench: install
	.ci/ensure-services
	$(BIN)/python bench/run.py $(BENCH_ARGS)

## The compose stack for real: the project's Dockerfile and docker-compose.yml on Docker with
## docker-compose 1.29, stand-in base images built from Debian (COMPOSE_STANDINS=0: the official ones),
## the booking flow through the published port, restarts without data loss, `down -v`. About 2 minutes
## once the stand-ins are cached (tests/compose/run; needs root).
compose-test:
	tests/compose/run

test-embedded: install
	env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL $(BIN)/pytest -q -m embedded

## Fault tests on a real stack under load (Redis/PostgreSQL/Celery/gunicorn faults), invariants after each.
chaos: install
	$(BIN)/python -m tests.chaos.run

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run
	.ci/production-check $(BIN)/python  # collectstatic + check --deploy under production settings

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf .run .pytest_cache .mypy_cache .ruff_cache
