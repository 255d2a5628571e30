#!/usr/bin/env bash
# Create (or reuse) .venv and install everything from this repository's requirement files.
# For a machine WITHOUT ROS 2 from apt: it installs the ROS 2 Kilted wheels (requirements-ros.txt).
# Re-running is cheap: pip runs again only when a requirement file changed.
set -euo pipefail
cd "$(dirname "$0")/.."

py=${PYTHON:-}
if [ -z "$py" ]; then
  for cand in python3.11 python3; do
    if command -v "$cand" >/dev/null && "$cand" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      py=$cand; break
    fi
  done
fi
if [ -z "$py" ]; then
  echo "setup_env: the ROS 2 Kilted wheels need CPython 3.11 (set PYTHON=/path/to/python3.11)" >&2
  exit 1
fi

# open3d needs the system library libusb-1.0 (Debian/Ubuntu package libusb-1.0-0).
if ! ldconfig -p 2>/dev/null | grep -q 'libusb-1.0.so.0'; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq && $sudo apt-get install -y -qq libusb-1.0-0 >/dev/null
fi

[ -x .venv/bin/python ] || "$py" -m venv .venv
stamp=.venv/.requirements.sha
want=$(cat requirements.txt requirements-ros.txt requirements-dev.txt setup.py | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  # The venv takes about 8 GB (torch's x86-64 wheels bring CUDA libraries): say so before pip fails.
  free_kb=$(df -Pk . | awk 'NR==2 {print $4}')
  if [ "${free_kb:-0}" -lt 9000000 ]; then
    echo "setup_env: warning: $((free_kb / 1048576)) GiB free on $(pwd); the venv needs about 9 GiB" >&2
  fi
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r requirements.txt -r requirements-ros.txt -r requirements-dev.txt
  .venv/bin/python -m pip install -q --no-deps --no-build-isolation -e .
  echo "$want" > "$stamp"
fi
