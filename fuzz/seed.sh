#!/bin/sh
# Writes seed corpora for every fuzz target into fuzz/corpus/<target>/
# (gitignored) from metadata the repository side produces, and checks that
# the trusted_set seeds load completely. Run from anywhere; plain stable cargo.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
# index_canonical: the fixture index's crate files, and lines with the
# awkward parts (escapes, duplicate keys, numbers without canonical form).
ic="${1:-$here/corpus}/index_canonical"
mkdir -p "$ic"
fx="$here/../fixtures/registry-sample/index"
if [ -d "$fx" ]; then
    find "$fx" -type f ! -name config.json \
        -exec sh -c 'for f; do cp "$f" "$0/$(basename "$f")"; done' "$ic" {} +
fi
printf '%s\n' '{"b":1,"a":{"y":[1.5,-0],"y":-9223372036854775808},"a\"":"\u00e9\ud83d\ude00\/"}' \
    ' {"x" : [ {}, [], null, true, false, 18446744073709551615 ] }' >"$ic/awkward"
# cargo index-verify's parsers: real lock files of every version, a real
# cargo index cache file, and a source-replacement configuration.
civ="$here/../cargo-index-verify/tests/fixtures"
mkdir -p "${1:-$here/corpus}/lockfile" "${1:-$here/corpus}/cargo_cache" "${1:-$here/corpus}/cargo_config"
cp "$civ"/lockfiles/*.lock "${1:-$here/corpus}/lockfile/"
cp "$civ/index-cache/itoa" "${1:-$here/corpus}/cargo_cache/"
printf 'source.crates-io.replace-with="m"\nsource.m.registry="sparse+http://h/"\000x\000sparse+http://h/' \
    >"${1:-$here/corpus}/cargo_config/replace"
exec cargo run --release --manifest-path "$here/Cargo.toml" --example gen_seeds -- "${1:-$here/corpus}"
