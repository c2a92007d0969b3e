#!/usr/bin/env bash
# The whole mission on the built-in default: builds the tools, then runs
# quickstart (a local signed mirror, real cargo and rustup verifying
# through it, and both catching a malicious mirror). Everything it creates
# lives in a temporary directory that it removes; the user's own
# ~/.cargo and ~/.rustup are not changed.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/prereqs.sh
echo "Building the tools (cargo build --workspace --bins) ..."
cargo build --quiet --workspace --bins
exec ./target/debug/quickstart "$@"
