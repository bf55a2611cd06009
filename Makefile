# One task runner for people and CI. `make help` lists the targets.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DIR ?= impactlens-demo
SEED ?= 1

.DEFAULT_GOAL := help
.PHONY: help demo test test-fast lint typecheck system-deps compile bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@$(PY) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "ImpactLens needs Python 3.11 or newer (found: $$($(PY) --version))"; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,spark]'
	@# test data only: causalpy ships California's Proposition 99 panel (Abadie et al. 2010) that the
	@# synthetic-control golden tests read as a file; its modelling stack is not needed, so no deps
	$(BIN)/pip install --quiet --no-deps -c constraints.txt causalpy
	@touch $(STAMP)

system-deps: ## install Debian's chromium for the real-browser tests (apt-get, needs root)
	@bash scripts/system-deps.sh

compile: $(STAMP) ## compile the xAPI statement checks with mypyc (faster LRS POSTs; needs gcc)
	@bash scripts/compile-checks.sh

demo: $(STAMP) ## build the demo organisation in $(DIR), analyse it, write its reports
	$(BIN)/impactlens demo $(DIR) --seed $(SEED)

lint: $(STAMP) ## ruff, import-linter contracts
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

typecheck: $(STAMP) ## mypy on src
	$(BIN)/mypy

test: $(STAMP) system-deps compile lint typecheck ## the whole suite: lint, types, every test (browser and slow included)
	$(BIN)/pytest -n 2 --dist loadgroup

test-fast: $(STAMP) compile ## quick loop: tests not marked slow or browser
	$(BIN)/pytest -m "not slow and not browser" -x -q

bench: $(STAMP) compile ## the benchmarks and the demo validation study (prints figures; see docs/performance.md)
	$(BIN)/python bench/run_all.py

clean: ## remove the virtualenv and demo output
	rm -rf $(VENV) $(DIR) .pytest_cache .mypy_cache .ruff_cache build/mypyc
	rm -f src/*.so src/impactlens/domain/xapi/*.so
