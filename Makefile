# awsresp developer tasks. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
ARGS   ?=
# make bench SCALE=20 LATENCY_MS=20 SEED=1 [WORKERS=16] [RATE_LIMIT=20] [REPEAT=1] [THROTTLE=0.2]
SCALE      ?= 20
LATENCY_MS ?= 20
SEED       ?= 1
WORKERS    ?= 16
RATE_LIMIT ?=
REPEAT     ?= 1
# THROTTLE=0.2 throttles a fifth of the requests at random; THROTTLE=rate=5 every API above
# 5 calls/s; both: THROTTLE=0.2,rate=5.
THROTTLE   ?=

.PHONY: install demo test lint format bench bench-peers clean deploy-policy docs lock lambda chromium screenshot
LAMBDA_PYTHON ?= 3.12
ACCOUNTS ?=

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Reinstall whenever the project metadata or the lock changes. The versions come from
# requirements/dev.lock (the same runtime pins as requirements/lambda.lock, which the
# Lambda package is built from); `make lock` regenerates both.
$(STAMP): pyproject.toml requirements/dev.lock | $(BIN)/python
	$(BIN)/python -m pip install -q -r requirements/dev.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	@touch $@

install: $(STAMP)

demo: install
	$(BIN)/awsresp scan --sandbox --output-dir awsresp-out $(ARGS)

lint: install
	$(BIN)/ruff check src tests bench deploy
	$(BIN)/ruff format --check src tests bench deploy
	$(BIN)/mypy
	$(BIN)/cfn-lint deploy/*.yaml

format: install
	$(BIN)/ruff check --fix src tests bench deploy
	$(BIN)/ruff format src tests bench deploy

# Regenerates docs/controls.md and docs/coverage.md from the catalog, the README's demo
# output and PCI DSS view from a sandbox scan, and the JSON Schemas in docs/schema/ from the
# models; tests fail when they are out of date.
docs: install
	out=$$(mktemp -d) && $(BIN)/awsresp scan --sandbox -q -o $$out \
		| $(BIN)/python -m awsresp.export.catalog_docs docs README.md $$out/frameworks.csv
	$(BIN)/python -m awsresp.schemas docs/schema

# The lock files, from pyproject.toml's lower bounds (needs uv: pip install uv).
lock: install
	$(BIN)/uv pip compile pyproject.toml --python-version $(LAMBDA_PYTHON) \
		--python-platform x86_64-manylinux_2_28 --no-header -o requirements/lambda.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
		-c requirements/lambda.lock --no-header -o requirements/dev.lock

# The Lambda package (deploy/build/, the templates' CodeUri): awsresp's wheel and the pinned
# runtime dependencies, as Linux wheels for the function's Python.
lambda: install
	$(BIN)/python deploy/build_lambda.py deploy/build --python-version $(LAMBDA_PYTHON)

# Regenerates the Lambda role's read-only actions in deploy/template.yaml from the specs.
deploy-policy: install
	$(BIN)/python deploy/update_policy.py deploy/template.yaml

# The report's browser test drives Debian's chromium (never a downloaded browser build).
CHROMIUM := /usr/bin/chromium
chromium:
	@test -x $(CHROMIUM) || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

test: lint chromium
	$(BIN)/python -m pytest -n 2 -q $(ARGS)

# docs/report.png, the README's picture of the report: the sandbox scan's report.html in
# headless Chromium, with a gap cell opened.
screenshot: install chromium
	$(BIN)/python docs/screenshot.py docs/report.png

# The benchmark is a script, not a test: `make test` never runs it.
bench: install
	$(BIN)/python bench/run.py --scale $(SCALE) --latency-ms $(LATENCY_MS) --seed $(SEED) \
		--workers $(WORKERS) --repeat $(REPEAT) $(if $(RATE_LIMIT),--rate-limit $(RATE_LIMIT),) \
		$(if $(ACCOUNTS),--accounts $(ACCOUNTS),) $(if $(THROTTLE),--throttle $(THROTTLE),)

bench-peers: install
	$(BIN)/python bench/peers.py --scale $(SCALE) --latency-ms $(LATENCY_MS) --seed $(SEED) \
		$(if $(RATE_LIMIT),--rate-limit $(RATE_LIMIT),)

clean:
	rm -rf $(VENV) dist build deploy/build awsresp-out .mypy_cache .ruff_cache .pytest_cache
