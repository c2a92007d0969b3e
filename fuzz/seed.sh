#!/bin/sh
# Writes seed corpora for every fuzz target into fuzz/corpus/<target>/
# (gitignored) from metadata the repository side produces, and checks that
# the trusted_set seeds load completely. Run from anywhere; plain stable cargo.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec cargo run --release --manifest-path "$here/Cargo.toml" --example gen_seeds -- "${1:-$here/corpus}"
