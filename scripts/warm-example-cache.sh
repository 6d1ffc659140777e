#!/usr/bin/env bash
# Fills uv's cache with what the examples (and their fixed variants) install, so the deploy item
# of `prodready verify`, which builds release venvs offline (tests reach only 127.0.0.1), finds
# every package, and the server stack a release venv gets at prodready's own versions (uv sync
# installs those from the lock's URLs, leaving no index entry an offline `uv pip install` can
# resolve them from). An install step of `make test`, like ensure-system-deps.sh: it needs PyPI once
# per machine and is quick after that (uv reuses its cache).
set -euo pipefail
cd "$(dirname "$0")/.."
uv=.venv/bin/uv
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.venv/bin/python - "$work" <<'PY'
import sys
from pathlib import Path

from tests.verify.variants import example_copy

for fixed in (False, True):
    for name in ("riskapi", "flashcards", "bookshop"):
        example_copy(name, Path(sys.argv[1]) / ("fixed" if fixed else "original"), fixed=fixed)
PY
for requirements in "$work"/*/*/requirements.txt; do
    rm -rf "$work/venv"
    "$uv" venv --quiet --python .venv/bin/python "$work/venv"
    "$uv" pip install --quiet --python "$work/venv/bin/python" -r "$requirements"
done
# shellcheck disable=SC2046  # one argument per pin
"$uv" pip install --quiet --python "$work/venv/bin/python" \
    $(.venv/bin/python -c 'from prodready.deploy.venv import server_pins; print(*server_pins())')
