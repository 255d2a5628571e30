#!/usr/bin/env bash
# Set up (or reuse) .venv, then run the whole test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup_env.sh
export YOLO_OFFLINE=1 PYTHONUNBUFFERED=1
exec .venv/bin/python -m pytest "$@"
