# Two commands after cloning: `make demo` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := .make/installed
ENV ?= dev
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: setup demo test test-unit test-integration test-infra lint format db-up db-down kafka-up kafka-down clean synth deploy diff template-reports deploy-identity browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	@mkdir -p .make && touch $(STAMP)

## setup: create the virtualenv and install the project with its dev tools
setup: $(STAMP)

# checkov (tests/infra/test_checkov.py) pins boto3 below the project's range: own virtualenv.
CHECKOV_VENV := .make/checkov
$(CHECKOV_VENV)/bin/checkov: tests/infra/checkov-requirements.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r $<
	@touch $@

# The workflow linter the tests run over .github/workflows (zizmor, the other one, is a
# dev dependency). A Go program: built from its module with the Go toolchain.
ACTIONLINT_VERSION := v1.7.12
$(BIN)/actionlint: | $(BIN)/python
	GOBIN="$(CURDIR)/$(BIN)" go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)

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
test: setup browser $(CHECKOV_VENV)/bin/checkov $(BIN)/actionlint
	DATABASE_URL="$${DATABASE_URL:-$$($(BIN)/ecom db up --print-url)}" \
	KAFKA_BOOTSTRAP_SERVERS="$${KAFKA_BOOTSTRAP_SERVERS:-$$($(BIN)/ecom kafka up --print-bootstrap)}" \
	  $(BIN)/pytest -n 2 --dist loadfile tests

test-unit: setup $(BIN)/actionlint
	$(BIN)/pytest tests/unit

test-integration: setup browser
	DATABASE_URL="$${DATABASE_URL:-$$($(BIN)/ecom db up --print-url)}" \
	KAFKA_BOOTSTRAP_SERVERS="$${KAFKA_BOOTSTRAP_SERVERS:-$$($(BIN)/ecom kafka up --print-bootstrap)}" \
	  $(BIN)/pytest tests/integration

test-infra: setup $(CHECKOV_VENV)/bin/checkov
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

# The CLI's own closing lines name cdk.out and an empty list of stack ids (the stacks sit in
# the ENV stage), so they are replaced by one line naming the templates.
synth: setup node_modules/.package-lock.json
	@set -o pipefail; $(CDK) synth --quiet -c env=$(ENV) 2>&1 \
	  | { grep -v -e '^Successfully synthesized to ' -e '^Supply a stack id' || true; }
	@echo "Templates of $(ENV): cdk.out/assembly-$(ENV)/*.template.json" \
	  "($$(ls cdk.out/assembly-$(ENV)/*.template.json | wc -l) stacks)"

# APPROVAL=never in CI, where nobody can answer the prompt (the GitHub environment's
# reviewers approve instead).
APPROVAL ?= broadening
deploy: setup node_modules/.package-lock.json
	$(CDK) deploy -c env=$(ENV) --require-approval $(APPROVAL) '$(ENV)/*'

## diff: `make diff ENV=staging` compares ENV's templates with what is deployed (needs AWS credentials)
# Without a change set, the CLI reads the deployed templates through the bootstrap lookup
# role, the only role the pull-request diff role may assume (stacks/delivery.py).
diff: setup node_modules/.package-lock.json
	$(CDK) diff --no-change-set -c env=$(ENV) '$(ENV)/*'

## template-reports: cfn-lint over ENV's synthesized templates into cdk.out/cfn-lint.json
## (after `make synth`; cdk-nag's report is cdk.out/validation-report.json); fails on errors
template-reports: setup
	$(BIN)/cfn-lint --format json --non-zero-exit-code error \
	  cdk.out/assembly-$(ENV)/*.template.json > cdk.out/cfn-lint.json

## deploy-identity: the CI/CD roles, once per account, by an admin (docs/operations.md):
## `make deploy-identity GITHUB_REPOSITORY=owner/name`
deploy-identity: setup node_modules/.package-lock.json
	$(CDK) deploy -c delivery_identity=true -c github_repository=$(GITHUB_REPOSITORY) \
	  --require-approval broadening 'delivery/*'

clean:
	rm -rf .make cdk.out .pytest_cache .ruff_cache
