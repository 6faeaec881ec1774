#!/usr/bin/env bash
# Sets everything up, then runs the whole test suite (lint, unit, conformance, properties).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
.venv/bin/ruff check reasoner tests examples
.venv/bin/python -m pytest "$@"
