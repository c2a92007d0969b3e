#!/usr/bin/env bash
# Runs every test of the workspace.
#
# The python-tuf interoperability tests need python-tuf 7 from PyPI: this
# script keeps a virtual environment in .venv (created on first run) and
# points the tests at it with TUF_INTEROP_PYTHON.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/prereqs.sh

venv=.venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r tests/python/requirements.txt
export TUF_INTEROP_PYTHON="$PWD/$venv/bin/python"

if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --no-fail-fast
else
    echo "cargo-nextest not found; running cargo test instead" >&2
    cargo test --workspace --no-fail-fast
fi
