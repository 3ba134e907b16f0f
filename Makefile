# cfinv: every command a user or CI needs. `make help` lists them.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: help build test lint fmt bench plan-example

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

build: ## Build every crate (debug)
	$(CARGO) build --workspace

test: lint ## Run every check and test: formatting, clippy, unit, property and golden tests
	$(CARGO) test --workspace

lint: ## rustfmt --check and clippy with warnings as errors
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt: ## Format the code
	$(CARGO) fmt --all

bench: ## Criterion benchmarks of the planner (see docs/BENCHMARKS.md)
	$(CARGO) bench -p cfinv-core --bench plan

plan-example: ## Run `cfinv plan` on one of the golden cases
	$(CARGO) run -q -p cfinv -- plan --format text \
	  --distributions tests/golden/origin-path-inside-outside/distributions.json \
	  --events tests/golden/origin-path-inside-outside/events.json
