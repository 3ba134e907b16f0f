# cfinv: every command a user or CI needs. `make help` lists them.
SHELL := /bin/bash
CARGO ?= cargo
PYTHON ?= python3
VENV := .venv
TOOLS := .tools
# Offline checks of infra/template.yaml (cfn-lint, checkov, pytest), pinned in infra/requirements.txt.
INFRA_VENV := $(TOOLS)/infra
# Building and deploying: SAM CLI and cargo-lambda (with zig), pinned in infra/deploy-requirements.txt.
DEPLOY_VENV := $(TOOLS)/deploy
SAM := PATH="$(CURDIR)/$(DEPLOY_VENV)/bin:$$PATH" SAM_CLI_TELEMETRY=0 $(CURDIR)/$(DEPLOY_VENV)/bin/sam
SAMCONFIG := $(CURDIR)/samconfig.toml
ACCOUNT_ARN := arn:aws:lambda:us-east-1:123456789012:function
# Seconds per fuzz target: `make fuzz`, and the short run in `make test`.
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 5
# The short run's libFuzzer seed: fixed, so make test is repeatable (make fuzz draws a new one).
FUZZ_SMOKE_SEED ?= 1

# The values a user gives (STACK=, KEY=, FILES=, ...) are taken literally: `make explain
# KEY='price$HOME.html'` explains price$HOME.html; a quote or a backtick is part of the key, never
# shell. Each one given is redefined as its unexpanded text, exported, and read by the recipes from
# the environment, quoted ("$$KEY" in a recipe); none is written into a recipe's command line.
# FILES is split at whitespace (never globbed).
USER_VARS := STACK EXECUTION BUCKET KEY REMOVED FILES DRY_RUN VIA EXCEPTION_PATHS PORT FUZZ_SECONDS FUZZ_SMOKE_SECONDS FUZZ_SMOKE_SEED
$(foreach v,$(USER_VARS),$(if $(filter undefined,$(origin $(v))),,$(eval override $(v) := $$(value $(v)))$(eval export $(v))))

TARGETS := help build deploy destroy deploy-tools test lint fmt bench bench-cli bench-deploy bench-freshness plan-example fuzz fuzz-smoke venv tools infra-tools infra-check asl-check emulator-test e2e local local-up connect-bucket disconnect-bucket status explain resubmit replay-ingest-failures start-window
.PHONY: $(TARGETS)

# The commands that act on an account stop before anything runs when another goal is no target:
# `make resubmit FILES=f DRY_RUN= 1` (a space after `=`) is the goals resubmit and 1 with DRY_RUN
# empty, and would submit for real before failing on `1`.
ACTING := deploy destroy connect-bucket disconnect-bucket resubmit replay-ingest-failures start-window status explain
ifneq ($(filter $(ACTING),$(MAKECMDGOALS)),)
ifneq ($(filter-out $(TARGETS),$(MAKECMDGOALS)),)
$(error no target named $(filter-out $(TARGETS),$(MAKECMDGOALS)); nothing was run. A value needs no space after its = (DRY_RUN=1, not DRY_RUN= 1); make help lists the targets)
endif
endif

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

build: deploy-tools ## The deployable artifacts in .aws-sam/build: arm64 release binaries and the template (no AWS credentials needed)
	$(SAM) build --beta-features --template-file infra/template.yaml --build-dir .aws-sam/build

deploy: build ## Build, then deploy the stack with SAM (guided the first time; samconfig.toml after)
	@if [ -f "$(SAMCONFIG)" ]; then \
	  $(SAM) deploy --template-file .aws-sam/build/template.yaml --config-file "$(SAMCONFIG)"; \
	else \
	  echo "make deploy: first deployment; answers are saved to samconfig.toml (see README, On AWS)"; \
	  $(SAM) deploy --guided --template-file .aws-sam/build/template.yaml --config-file "$(SAMCONFIG)" \
	    --capabilities CAPABILITY_IAM; \
	fi
	@$(PYTHON) infra/alert_email.py "$(SAMCONFIG)"

destroy: deploy-tools ## Delete the stack (the plan and error buckets are kept; see README)
	@test -f "$(SAMCONFIG)" || { echo "make destroy: no samconfig.toml; run: $(DEPLOY_VENV)/bin/sam delete --stack-name NAME"; exit 2; }
	$(SAM) delete --config-file "$(SAMCONFIG)"

deploy-tools: $(DEPLOY_VENV)/.installed ## SAM CLI, cargo-lambda and zig in .tools/deploy; the arm64 Rust target
$(DEPLOY_VENV)/.installed: infra/deploy-requirements.txt
	$(PYTHON) -m venv $(DEPLOY_VENV)
	$(DEPLOY_VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/deploy-requirements.txt
	rustup target add aarch64-unknown-linux-gnu
	touch $@

test: lint venv tools infra-tools ## Every check and test: formatting, clippy, unit, property, golden, fuzz (short), emulator, ASL, template, end to end
	$(CARGO) test --workspace
	$(MAKE) --no-print-directory fuzz-smoke
	$(MAKE) --no-print-directory asl-check
	$(MAKE) --no-print-directory infra-check
	$(MAKE) --no-print-directory emulator-test
	$(MAKE) --no-print-directory e2e

local: venv ## The whole pipeline on this machine against an emulated AWS: deploy, upload, follow, report
	$(CARGO) build --workspace
	$(VENV)/bin/python tests/local/demo.py

local-up: venv ## The same stack left running on http://127.0.0.1:5000 (PORT=) until Ctrl-C
	$(CARGO) build --workspace
	$(VENV)/bin/python tests/local/demo.py --up $${PORT:+--port "$$PORT"}

connect-bucket: ## Route BUCKET's changes to the stack, keeping its notifications (EXCEPTION_PATHS= to tag it)
	@test -n "$$BUCKET" || { echo "usage: make connect-bucket BUCKET=name [EXCEPTION_PATHS=prefixes] [VIA=notification]"; exit 2; }
	$(CARGO) run -q -p cfinv -- connect-bucket --bucket "$$BUCKET" $${VIA:+--via "$$VIA"} \
	  $${EXCEPTION_PATHS:+--exception-paths "$$EXCEPTION_PATHS"}

disconnect-bucket: ## Remove cfinv's notification from BUCKET, keeping the others
	@test -n "$$BUCKET" || { echo "usage: make disconnect-bucket BUCKET=name"; exit 2; }
	$(CARGO) run -q -p cfinv -- disconnect-bucket --bucket "$$BUCKET"

# The operator commands find the stack by STACK=name (else CFINV_STACK); see README, "Operate it".
STACK_ARG = $${STACK:+--stack "$$STACK"}
# A yes/no value (REMOVED=, DRY_RUN=) gives its flag unless it is empty, 0, no, false or off (any
# case, spaces ignored): DRY_RUN=0 is a real run, never a dry one.
flag_if = $$(v="$${$(1),,}"; case "$${v//[[:space:]]/}" in ''|0|no|false|off) ;; *) printf %s '$(2)' ;; esac)

status: ## The stack at a glance: runs, invalidations in progress, queues, alarms (STACK=; EXECUTION= for one run)
	$(CARGO) run -q -p cfinv -- status $(STACK_ARG) $${EXECUTION:+--execution "$$EXECUTION"}

explain: ## Why BUCKET's KEY is (or is not) invalidated, from the live account (REMOVED=1 for a removal)
	@[ -n "$$BUCKET" ] && [ -n "$$KEY" ] || { echo "usage: make explain BUCKET=name KEY=key [REMOVED=1] [STACK=name]"; exit 2; }
	$(CARGO) run -q -p cfinv -- explain $(STACK_ARG) $(call flag_if,REMOVED,--removed) -- "$$BUCKET" "$$KEY"

resubmit: ## Submit error files again, one invalidation per set (FILES="s3://bucket/key ..."; DRY_RUN=1)
	@test -n "$$FILES" || { echo "usage: make resubmit FILES='s3://bucket/key | invalidation_error/... | file.txt ...' [DRY_RUN=1] [STACK=name]"; exit 2; }
	read -ra files <<< "$$FILES"; \
	  $(CARGO) run -q -p cfinv -- resubmit $(STACK_ARG) $(call flag_if,DRY_RUN,--dry-run) -- "$${files[@]}"

replay-ingest-failures: ## Hand the S3 events parked in the ingest failure queue to ingest again (STACK=)
	$(CARGO) run -q -p cfinv -- replay-ingest-failures $(STACK_ARG)

start-window: ## Start the current window's execution, to drain messages moved back to the queue (STACK=)
	$(CARGO) run -q -p cfinv -- start-window $(STACK_ARG)

emulator-test: venv ## Unit tests of the emulator's patches, in-process, without the Rust binaries (seconds)
	$(VENV)/bin/python -m pytest -q tests/emulator

e2e: venv ## The whole pipeline against the emulated AWS: real binaries, real state machine (tests/e2e)
	$(CARGO) build --workspace
	$(VENV)/bin/python -m pytest -q tests/e2e

fuzz: ## Every fuzz target (fuzz/run.sh: the parsers and the planner, libFuzzer on stable) for FUZZ_SECONDS (60) each
	fuzz/run.sh --seconds "$$FUZZ_SECONDS"

fuzz-smoke: ## The fuzz targets for FUZZ_SMOKE_SECONDS (5) each with a fixed seed, as make test runs them
	fuzz/run.sh --no-save --seed "$$FUZZ_SMOKE_SEED" --seconds "$$FUZZ_SMOKE_SECONDS"

lint: ## rustfmt --check and clippy with warnings as errors
	$(CARGO) fmt --all -- --check
	$(CARGO) fmt --manifest-path fuzz/Cargo.toml -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt: ## Format the code
	$(CARGO) fmt --all
	$(CARGO) fmt --manifest-path fuzz/Cargo.toml

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

infra-tools: $(INFRA_VENV)/.installed ## cfn-lint, checkov and pytest for the template checks
$(INFRA_VENV)/.installed: infra/requirements.txt
	$(PYTHON) -m venv $(INFRA_VENV)
	$(INFRA_VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/requirements.txt
	touch $@

infra-check: infra-tools ## Offline checks of infra/template.yaml: cfn-lint, checkov, and cfinv's own (infra/tests)
	$(INFRA_VENV)/bin/cfn-lint infra/template.yaml
	$(INFRA_VENV)/bin/checkov --quiet --compact --skip-download --framework cloudformation -f infra/template.yaml
	$(INFRA_VENV)/bin/python -m pytest -q -p no:cacheprovider infra/tests

asl-check: tools ## Validate the state machine definition (placeholders filled) with asl-validator
	@mkdir -p target
	$(CARGO) run -q -p cfinv -- statemachine \
	  --set CollectFunctionArn=$(ACCOUNT_ARN):collect \
	  --set InvalidateFunctionArn=$(ACCOUNT_ARN):invalidate \
	  --set ReportFunctionArn=$(ACCOUNT_ARN):report > target/cfinv.asl.rendered.json
	$(TOOLS)/node_modules/.bin/asl-validator --json-path target/cfinv.asl.rendered.json

bench: ## Criterion benchmarks of the planner (see docs/BENCHMARKS.md)
	$(CARGO) bench -p cfinv-core --bench plan

bench-deploy: ## A 10,000-file static-site deploy, exact against compact: items, sets, cost (see docs/BENCHMARKS.md)
	$(CARGO) build --release -p cfinv
	$(PYTHON) tests/bench/deploy.py

bench-freshness: venv ## A 20,000-object deploy on one distribution whose invalidations take 25 s: time to live, TooManyInvalidationsInProgress, transitions (see docs/BENCHMARKS.md)
	$(CARGO) build --workspace
	CFINV_PYTHON=$(abspath $(VENV))/bin/python $(VENV)/bin/python tests/bench/freshness.py --worktree . --seconds 25 --paths 20000 --header

bench-cli: ## `cfinv plan` end to end beside the naive Python planner (needs ../shared/bench; see docs/BENCHMARKS.md)
	$(CARGO) build --release -p cfinv
	$(PYTHON) tests/bench/plan_cli.py --runs 5

plan-example: ## Run `cfinv plan` on one of the golden cases
	$(CARGO) run -q -p cfinv -- plan --format text \
	  --distributions tests/golden/origin-path-inside-outside/distributions.json \
	  --events tests/golden/origin-path-inside-outside/events.json
