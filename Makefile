# Two entry points: `make demo` and `make test`. Both create .venv and install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint system-deps services rules-doc

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	@# exit 1 means findings, which is the point of the demo; 2 would be a real error
	@$(BIN)/prodready check examples/riskapi || test $$? -eq 1

system-deps:
	bash scripts/ensure-system-deps.sh

services:
	bash scripts/ensure-services.sh

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

test: $(STAMP) system-deps services
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest

rules-doc: $(STAMP)
	$(BIN)/prodready rules --markdown > docs/rules.md
