# Two commands for a fresh clone with only python3: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DJANGO_SETTINGS_MODULE := project.settings

# The real stack the second test pass uses; override to point elsewhere.
REAL_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/celery_canvas_test
RABBITMQ_URL ?= amqp://guest:guest@127.0.0.1:5672//
# A database number of the shared Redis of the tests' own (the lessons use 9); emptied after.
REDIS_URL ?= redis://127.0.0.1:6379/10

.PHONY: run test lint test-embedded test-real test-storage test-faults install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.run-deps: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.test-deps: requirements.txt requirements-test.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-test.txt
	touch $@ $(VENV)/.run-deps

install: $(VENV)/.run-deps

# Web on http://127.0.0.1:8000, one worker, beat and Flower (http://127.0.0.1:5555), with labelled
# logs; Ctrl-C stops all four.
run: $(VENV)/.run-deps
	DJANGO_CONFIGURATION=$${DJANGO_CONFIGURATION:-Dev} $(BIN)/python manage.py migrate --no-input
	DJANGO_CONFIGURATION=$${DJANGO_CONFIGURATION:-Dev} $(BIN)/python manage.py makesuperuser
	PATH=$(CURDIR)/$(BIN):$$PATH DJANGO_CONFIGURATION=$${DJANGO_CONFIGURATION:-Dev} $(BIN)/honcho start

# The linter and formatter, then every test on the embedded default, then again on
# PostgreSQL + RabbitMQ, and the broker tests on Redis, then the voter-roll tests with their
# files on S3, then the fault tests. Unreachable services are skipped with a message
# (REQUIRE_REAL_SERVICES=1: they fail instead).
test: lint test-embedded test-real test-storage test-faults

# The same checks as .pre-commit-config.yaml: ruff, and no model change without its migration.
lint: $(VENV)/.test-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	env -u TEST_DATABASE_URL DJANGO_CONFIGURATION=Test $(BIN)/python manage.py makemigrations --check --dry-run

test-embedded: $(VENV)/.test-deps
	env -u TEST_DATABASE_URL -u TEST_CELERY_BROKER_URL DJANGO_CONFIGURATION=Test $(BIN)/python -m pytest $(PYTEST_ARGS)

test-real: $(VENV)/.test-deps
	TEST_DATABASE_URL=$(REAL_DATABASE_URL) TEST_CELERY_BROKER_URL=$(RABBITMQ_URL) DJANGO_CONFIGURATION=Test $(BIN)/python -m pytest $(PYTEST_ARGS)
	TEST_DATABASE_URL=$(REAL_DATABASE_URL) TEST_CELERY_BROKER_URL=$(REDIS_URL) DJANGO_CONFIGURATION=Test $(BIN)/python -m pytest -m broker $(PYTEST_ARGS)

# The voter-roll tests again with every file on a real S3 API: moto's server, started by the
# tests themselves (tests/s3_stack.py), on the embedded database and broker.
test-storage: $(VENV)/.test-deps
	env -u TEST_DATABASE_URL -u TEST_CELERY_BROKER_URL DJANGO_CONFIGURATION=Test $(BIN)/python -m pytest -p tests.s3_stack \
		tests/test_voterroll_*.py tests/browser/test_voterroll_live.py $(PYTEST_ARGS)

# Faults under a running workload: worker crashes on the embedded default, then every fault
# (worker crashes, RabbitMQ and PostgreSQL restarts) on private instances the tests start and
# stop themselves (tests/faults_stack.py); the machine's own services are never touched.
test-faults: $(VENV)/.test-deps
	env -u TEST_DATABASE_URL -u TEST_CELERY_BROKER_URL DJANGO_CONFIGURATION=Test $(BIN)/python -m pytest -m "faults and not restarts_services" $(PYTEST_ARGS)
	DJANGO_CONFIGURATION=Test $(BIN)/python -m pytest -p tests.faults_stack -m faults $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var test-artifacts
