# awsresp developer tasks. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
ARGS   ?=

.PHONY: install demo test lint format bench clean deploy-policy

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Reinstall whenever the project metadata changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@

install: $(STAMP)

demo: install
	$(BIN)/awsresp scan --sandbox --output-dir awsresp-out $(ARGS)

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy
	$(BIN)/cfn-lint deploy/template.yaml

format: install
	$(BIN)/ruff check --fix src tests
	$(BIN)/ruff format src tests

# Regenerates the Lambda role's read-only actions in deploy/template.yaml from the specs.
deploy-policy: install
	$(BIN)/python deploy/update_policy.py deploy/template.yaml

test: lint
	$(BIN)/python -m pytest -n 2 -q $(ARGS)

clean:
	rm -rf $(VENV) dist build awsresp-out .mypy_cache .ruff_cache .pytest_cache
