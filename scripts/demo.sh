#!/usr/bin/env bash
# Sets everything up, then runs the main demo (examples/demo.py).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh runtime
.venv/bin/python examples/demo.py
