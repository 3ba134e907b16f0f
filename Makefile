# cfinv: every command a user or CI needs. `make help` lists them.
SHELL := /bin/bash
CARGO ?= cargo
PYTHON ?= python3
VENV := .venv
TOOLS := .tools
ACCOUNT_ARN := arn:aws:lambda:us-east-1:123456789012:function

.PHONY: help build test lint fmt bench plan-example venv tools asl-check e2e local local-up connect-bucket disconnect-bucket

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

build: ## Build every crate (debug)
	$(CARGO) build --workspace

test: lint venv tools ## Every check and test: formatting, clippy, unit, property, golden, emulator, ASL, end to end
	$(CARGO) test --workspace
	$(MAKE) --no-print-directory asl-check
	$(MAKE) --no-print-directory e2e

local: venv ## The whole pipeline on this machine against an emulated AWS: deploy, upload, follow, report
	$(CARGO) build --workspace
	$(VENV)/bin/python tests/local/demo.py

local-up: venv ## The same stack left running on http://127.0.0.1:5000 until Ctrl-C
	$(CARGO) build --workspace
	$(VENV)/bin/python tests/local/demo.py --up

connect-bucket: ## Send BUCKET's changes to ingest, keeping its notifications (EXCEPTION_PATHS= to tag it)
	@test -n "$(BUCKET)" || { echo "usage: make connect-bucket BUCKET=name [EXCEPTION_PATHS=prefixes]"; exit 2; }
	$(CARGO) run -q -p cfinv -- connect-bucket --bucket "$(BUCKET)" $(if $(EXCEPTION_PATHS),--exception-paths "$(EXCEPTION_PATHS)")

disconnect-bucket: ## Remove cfinv's notification from BUCKET, keeping the others
	@test -n "$(BUCKET)" || { echo "usage: make disconnect-bucket BUCKET=name"; exit 2; }
	$(CARGO) run -q -p cfinv -- disconnect-bucket --bucket "$(BUCKET)"

e2e: venv ## The whole pipeline against the emulated AWS: real binaries, real state machine (tests/e2e)
	$(CARGO) build --workspace
	$(VENV)/bin/python -m pytest -q tests/e2e

lint: ## rustfmt --check and clippy with warnings as errors
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt: ## Format the code
	$(CARGO) fmt --all

venv: $(VENV)/.installed ## The Python environment of the emulated AWS (moto, pinned)
$(VENV)/.installed: tests/emulator/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tests/emulator/requirements.txt
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps cargo-lambda==1.9.2
	touch $@

tools: $(TOOLS)/.installed ## Node tools: the ASL validator
$(TOOLS)/.installed:
	npm install --silent --no-audit --no-fund --prefix $(TOOLS) asl-validator@4
	touch $@

asl-check: tools ## Validate the state machine definition (placeholders filled) with asl-validator
	@mkdir -p target
	$(CARGO) run -q -p cfinv -- statemachine \
	  --set CollectFunctionArn=$(ACCOUNT_ARN):collect \
	  --set InvalidateFunctionArn=$(ACCOUNT_ARN):invalidate \
	  --set ReportFunctionArn=$(ACCOUNT_ARN):report > target/cfinv.asl.rendered.json
	$(TOOLS)/node_modules/.bin/asl-validator --json-path target/cfinv.asl.rendered.json

bench: ## Criterion benchmarks of the planner (see docs/BENCHMARKS.md)
	$(CARGO) bench -p cfinv-core --bench plan

plan-example: ## Run `cfinv plan` on one of the golden cases
	$(CARGO) run -q -p cfinv -- plan --format text \
	  --distributions tests/golden/origin-path-inside-outside/distributions.json \
	  --events tests/golden/origin-path-inside-outside/events.json
