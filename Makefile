# Everything sets itself up: a fresh machine needs only Python 3.11 and make.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev
HOST_ADDR ?= 127.0.0.1
PORT   ?= 8000
AWS_PORT ?= 0

.PHONY: install run test check unit fuzz clients stubs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## Serve the API on http://$(HOST_ADDR):$(PORT) with Swagger UI, an in-memory DynamoDB and demo data (NO_DEMO=1 to skip).
run: $(STAMP)
	$(BIN)/python -m devstack run --host $(HOST_ADDR) --port $(PORT) --aws-port $(AWS_PORT) $(if $(NO_DEMO),--no-demo,)

## Lint, format and types first; then every test: unit, API through HTTP, contract, infrastructure; then the Schemathesis run.
test: check
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	$(BIN)/python -m devstack contract --profile ci

## ruff (lint and format) on everything, mypy (strict) on service/.
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## The pure tests (domain, use-case rules, parsing, settings): a few seconds.
unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit -q $(PYTEST_ARGS)

## A longer Schemathesis run (URL=https://… to fuzz a deployed stack instead).
fuzz: $(STAMP)
	$(BIN)/python -m devstack contract --profile deep $(if $(URL),--url $(URL),)

## Install the pinned client generators (openapi-typescript, tsc) the generated-client test uses.
clients:
	cd tests/contract/clients && npm ci --no-audit --no-fund

## Write stub handlers for operations openapi.yaml has gained.
stubs: $(STAMP)
	$(BIN)/python -m tools.stub_handlers

# --- Load test and benchmark (README, "Load testing"; BENCHMARKS.md) ------------------------
USERS      ?= 60
SPAWN_RATE ?= 20
DURATION   ?= 60s
MAX_FAILURE_RATE ?= 0.01
MAX_P95_MS ?= 0
WORKERS    ?= 2
RETRY_SHARE ?= 0.1

.PHONY: load bench

## Locust, headless, against a local stack (1 moto process, WORKERS API workers) or HOST=https://…; then the funding invariants.
load: $(STAMP)
	$(BIN)/python -m loadtests $(if $(HOST),--host $(HOST),) --users $(USERS) --spawn-rate $(SPAWN_RATE) \
		--duration $(DURATION) --max-failure-rate $(MAX_FAILURE_RATE) --max-p95-ms $(MAX_P95_MS) --workers $(WORKERS) \
		--retry-share $(RETRY_SHARE)

## Accept throughput and latency vs a no-framework baseline, store calls per operation, bcrypt's share;
## the service's CPU per request through the Lambda handler vs the bare AWS calls;
## moto's transaction and query costs and its memory, stock and patched; then cold start.
bench: $(STAMP)
	$(BIN)/python -m benchmarks.bench --workers $(WORKERS)
	$(BIN)/python -m benchmarks.service_cpu
	$(BIN)/python -m benchmarks.moto_transactions
	$(BIN)/python -m benchmarks.moto_queries
	@if [ -f benchmarks/cold_start.py ]; then $(BIN)/python benchmarks/cold_start.py; fi

# --- Lambda: artifact, deployment, cold start ------------------------------------------------
STAGE   ?= dev
PROJECT ?= marketplace
AWS     ?= aws
CORS_ALLOWED_ORIGINS ?=
ARTIFACT_BUCKET ?=
SENDER_EMAIL ?=
APP_BASE_URL ?=
AUTO_VERIFY_EMAIL_DOMAIN ?=

.PHONY: package routes deploy bench-cold

## Build build/lambda.zip: the service and its runtime dependencies, installed for Lambda (python3.11, x86_64).
package: $(STAMP)
	$(BIN)/python -m tools.package_lambda

## Rewrite the API Gateway routes of infra/application.yaml from openapi.yaml.
routes: $(STAMP)
	$(BIN)/python -m tools.gateway_routes

## Deploy STAGE=dev|staging|prod to AWS: the database stack, then the application stack (README, "Deploy").
deploy: $(STAMP)
	@test -n "$(ARTIFACT_BUCKET)" || { echo "ARTIFACT_BUCKET is not set: the S3 bucket for the Lambda artifact (README, Deploy)." >&2; exit 2; }
	@test -n "$(SENDER_EMAIL)" || { echo "SENDER_EMAIL is not set: the SES-verified address emails come from (README, Deploy)." >&2; exit 2; }
	@test -n "$(APP_BASE_URL)" || { echo "APP_BASE_URL is not set: the frontend that emailed links open (README, Deploy)." >&2; exit 2; }
	@command -v $(firstword $(AWS)) >/dev/null || { echo "The AWS CLI ($(firstword $(AWS))) is not installed (README, Deploy)." >&2; exit 2; }
	$(BIN)/python -m tools.package_lambda
	$(AWS) cloudformation deploy --stack-name $(PROJECT)-$(STAGE)-database \
		--template-file infra/database.yaml --no-fail-on-empty-changeset \
		--parameter-overrides Stage=$(STAGE) ProjectName=$(PROJECT)
	$(AWS) cloudformation package --template-file infra/application.yaml \
		--s3-bucket $(ARTIFACT_BUCKET) --s3-prefix $(PROJECT)/$(STAGE) \
		--output-template-file build/application.packaged.yaml
	$(AWS) cloudformation deploy --stack-name $(PROJECT)-$(STAGE)-api \
		--template-file build/application.packaged.yaml --no-fail-on-empty-changeset \
		--s3-bucket $(ARTIFACT_BUCKET) --s3-prefix $(PROJECT)/$(STAGE) --capabilities CAPABILITY_IAM \
		--parameter-overrides Stage=$(STAGE) ProjectName=$(PROJECT) \
		"CorsAllowedOrigins=$(CORS_ALLOWED_ORIGINS)" \
		SenderEmailAddress=$(SENDER_EMAIL) AppBaseUrl=$(APP_BASE_URL) "AutoVerifyEmailDomain=$(AUTO_VERIFY_EMAIL_DOMAIN)"
	$(AWS) cloudformation describe-stacks --stack-name $(PROJECT)-$(STAGE)-api \
		--query "Stacks[0].Outputs" --output table

## Cold start of the packaged handler: init, first request and warm latency per operation (BENCH_ARGS=--runs 9 ...).
bench-cold: package
	$(BIN)/python benchmarks/cold_start.py --artifact build/lambda $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache results build *.egg-info tests/contract/clients/node_modules
