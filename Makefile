# Two commands after cloning: `make demo` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := .make/installed
ENV ?= dev
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: setup demo test test-unit test-integration test-infra lint format db-up db-down kafka-up kafka-down clean synth deploy browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	@mkdir -p .make && touch $(STAMP)

## setup: create the virtualenv and install the project with its dev tools
setup: $(STAMP)

## demo: run the whole local pipeline on embedded defaults
demo: setup
	$(BIN)/ecom demo

## db-up / db-down: the embedded PostgreSQL (reused across runs, data in .local/)
db-up: setup
	$(BIN)/ecom db up
db-down: setup
	$(BIN)/ecom db down

## kafka-up / kafka-down: the local Kafka broker (jars fetched by mvn on first use, data in .local/)
kafka-up: setup
	$(BIN)/ecom kafka up --env $(ENV)
kafka-down: setup
	$(BIN)/ecom kafka down

## test: install, start what the tests need, run every test tier
test: setup browser
	DATABASE_URL="$${DATABASE_URL:-$$($(BIN)/ecom db up --print-url)}" \
	KAFKA_BOOTSTRAP_SERVERS="$${KAFKA_BOOTSTRAP_SERVERS:-$$($(BIN)/ecom kafka up --print-bootstrap)}" \
	  $(BIN)/pytest -n 2 --dist loadfile tests

test-unit: setup
	$(BIN)/pytest tests/unit

test-integration: setup browser
	DATABASE_URL="$${DATABASE_URL:-$$($(BIN)/ecom db up --print-url)}" \
	KAFKA_BOOTSTRAP_SERVERS="$${KAFKA_BOOTSTRAP_SERVERS:-$$($(BIN)/ecom kafka up --print-bootstrap)}" \
	  $(BIN)/pytest tests/integration

test-infra: setup
	$(BIN)/pytest tests/infra

## browser: Debian's chromium and chromedriver, for the dashboards' browser test (apt, as root;
## without root the test is skipped and says why)
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y -q --no-install-recommends chromium chromium-driver \
	      || { apt-get update -q && apt-get install -y -q --no-install-recommends chromium chromium-driver; }; \
	  else \
	    echo "chromium is not installed and apt needs root: the browser test will be skipped"; \
	  fi; \
	fi

## lint: ruff lint and format check
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## synth: CloudFormation templates of ENV (default dev) into cdk.out, offline, no credentials
## deploy: `make deploy ENV=dev` deploys every stack of ENV (needs AWS credentials; not run in CI)
CDK := PATH="$(CURDIR)/$(BIN):$$PATH" node_modules/.bin/cdk

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

synth: setup node_modules/.package-lock.json
	$(CDK) synth --quiet -c env=$(ENV)

deploy: setup node_modules/.package-lock.json
	$(CDK) deploy -c env=$(ENV) --require-approval broadening '$(ENV)/*'

clean:
	rm -rf .make cdk.out .pytest_cache .ruff_cache
