# awsresp developer tasks. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
ARGS   ?=
# make bench SCALE=20 LATENCY_MS=20 SEED=1 [WORKERS=16] [RATE_LIMIT=20] [REPEAT=1]
SCALE      ?= 20
LATENCY_MS ?= 20
SEED       ?= 1
WORKERS    ?= 16
RATE_LIMIT ?=
REPEAT     ?= 1

.PHONY: install demo test lint format bench bench-peers clean deploy-policy docs

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
	$(BIN)/ruff check src tests bench deploy
	$(BIN)/ruff format --check src tests bench deploy
	$(BIN)/mypy
	$(BIN)/cfn-lint deploy/template.yaml

format: install
	$(BIN)/ruff check --fix src tests bench deploy
	$(BIN)/ruff format src tests bench deploy

# Regenerates docs/controls.md and docs/coverage.md from the catalog, and the README's demo
# output and PCI DSS view from a sandbox scan; tests fail when they are out of date.
docs: install
	out=$$(mktemp -d) && $(BIN)/awsresp scan --sandbox -q -o $$out \
		| $(BIN)/python -m awsresp.export.catalog_docs docs README.md $$out/frameworks.csv

# Regenerates the Lambda role's read-only actions in deploy/template.yaml from the specs.
deploy-policy: install
	$(BIN)/python deploy/update_policy.py deploy/template.yaml

test: lint
	$(BIN)/python -m pytest -n 2 -q $(ARGS)

# The benchmark is a script, not a test: `make test` never runs it.
bench: install
	$(BIN)/python bench/run.py --scale $(SCALE) --latency-ms $(LATENCY_MS) --seed $(SEED) \
		--workers $(WORKERS) --repeat $(REPEAT) $(if $(RATE_LIMIT),--rate-limit $(RATE_LIMIT),)

bench-peers: install
	$(BIN)/python bench/peers.py --scale $(SCALE) --latency-ms $(LATENCY_MS) --seed $(SEED) \
		$(if $(RATE_LIMIT),--rate-limit $(RATE_LIMIT),)

clean:
	rm -rf $(VENV) dist build awsresp-out .mypy_cache .ruff_cache .pytest_cache
