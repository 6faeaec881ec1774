#!/usr/bin/env bash
# Installs everything the project needs into .venv: Python deps pinned in requirements/,
# and Debian's graphviz when `dot` is missing. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
want="${1:-runtime}"   # runtime | test | notebook (requirements/$want.txt)

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=""
apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: please install $* with your package manager" >&2; return 1
  fi
  [ -n "$apt_updated" ] || { as_root apt-get update -qq; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
"$PY" -c 'import sys; assert (3, 11) <= sys.version_info[:2] < (3, 14), sys.version' \
  || { echo "setup: Python 3.11-3.13 is needed (pyDatalog's compiled wheels)" >&2; exit 2; }

if [ ! -x .venv/bin/python ]; then
  if ! "$PY" -m venv .venv 2>/dev/null; then
    rm -rf .venv
    ver=$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
    apt_install "python${ver}-venv" || apt_install python3-venv
    "$PY" -m venv .venv
  fi
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install -q -r "requirements/${want}.txt"
.venv/bin/python -m pip install -q --no-deps -e .

if ! command -v dot >/dev/null 2>&1; then
  apt_install graphviz || echo "setup: graphviz's dot is missing; pictures will be written as DOT only" >&2
fi

# Java 17 only for the test suite (the Spark backend runs in local mode there)
if [ "$want" = test ] && ! command -v java >/dev/null 2>&1; then
  apt_install openjdk-17-jre-headless || echo "setup: Java is missing; the Spark backend and its tests need Java 17" >&2
fi
