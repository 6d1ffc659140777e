# Two entry points: `make demo` and `make test`. Both create .venv and install from uv.lock, so a
# fresh machine gets the versions CI tested; `make test-latest` tries the newest allowed ones.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.installed-demo
# uv reads neither pip.conf nor pip's constraints file: the lock alone decides what is installed.
# It must not fetch a Python of its own either: the venv's interpreter is the one we test.
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
# Bytecode at install time: where PYTHONDONTWRITEBYTECODE is set (as on these machines) no
# process ever writes a .pyc, and each of the thousands of processes the tests start compiled
# every module it imports from source (2.3x slower imports, measured).
export UV_COMPILE_BYTECODE := 1

.PHONY: demo test test-latest lint system-deps services example-cache rules-doc

$(UV):
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"

# Everything `make test` runs: the CLI and the test tools, exactly as locked.
$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --quiet --locked --extra cli --extra test
	touch $(STAMP) $(DEMO_STAMP)

# Only what the demo runs: the CLI, as locked (kept beside a test install if there is one).
$(DEMO_STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --quiet --locked --inexact --extra cli
	touch $(DEMO_STAMP)

demo: $(DEMO_STAMP)
	@# exit 1 means findings, which is the point of the demo; 2 would be a real error
	@$(BIN)/prodready check examples/riskapi || test $$? -eq 1

system-deps:
	bash scripts/ensure-system-deps.sh

services:
	bash scripts/ensure-services.sh

example-cache: $(STAMP)
	bash scripts/warm-example-cache.sh

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

test: $(STAMP) system-deps services example-cache
	$(BIN)/ruff check src tests benchmarks
	@# prodready is installed editable: its own modules get their .pyc here, not from uv
	$(BIN)/python -m compileall -q -j 0 src
	$(BIN)/python -m pytest

test-latest: $(STAMP) system-deps services
	bash scripts/test-latest.sh

rules-doc: $(STAMP)
	$(BIN)/prodready rules --markdown > docs/rules.md
