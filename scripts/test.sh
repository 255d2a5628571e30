#!/usr/bin/env bash
# Set up (or reuse) .venv, then lint, type-check and run the whole test suite.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup_env.sh
export YOLO_OFFLINE=1 PYTHONUNBUFFERED=1
# Lint and types first (seconds): ruff (ruff.toml) and mypy (mypy.ini: check_untyped_defs).
.venv/bin/python -m ruff check .
.venv/bin/python -m ruff format --check .
.venv/bin/python -m mypy
exec .venv/bin/python -m pytest "$@"
