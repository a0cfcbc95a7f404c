# Everything sets itself up: a fresh machine needs only Python 3.11 and make.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev
HOST_ADDR ?= 127.0.0.1
PORT   ?= 8000
AWS_PORT ?= 0

.PHONY: install run test fuzz stubs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## Serve the API on http://$(HOST_ADDR):$(PORT) with Swagger UI, an in-memory DynamoDB and demo data (NO_DEMO=1 to skip).
run: $(STAMP)
	$(BIN)/python -m devstack run --host $(HOST_ADDR) --port $(PORT) --aws-port $(AWS_PORT) $(if $(NO_DEMO),--no-demo,)

## Every test: unit, API through HTTP, contract, infrastructure; then the Schemathesis run.
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	$(BIN)/python -m devstack contract --profile ci

## A longer Schemathesis run (URL=https://… to fuzz a deployed stack instead).
fuzz: $(STAMP)
	$(BIN)/python -m devstack contract --profile deep $(if $(URL),--url $(URL),)

## Write stub handlers for operations openapi.yaml has gained.
stubs: $(STAMP)
	$(BIN)/python -m tools.stub_handlers

clean:
	rm -rf $(VENV) .pytest_cache results build *.egg-info
