#!/usr/bin/env bash
# Runs the public TUF conformance suite against tuf-conformance-client.
#
# Usage: scripts/conformance.sh PATH-TO-TUF-CONFORMANCE-CHECKOUT [pytest args...]
#
# The checkout is theupdateframework/tuf-conformance (commit eec841c or
# later). Needs python3 (3.10+) and faketime (Debian: apt-get install faketime).
# The suite's own virtual environment is kept in .venv-conformance here.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
suite="$(cd "${1:?usage: $0 PATH-TO-TUF-CONFORMANCE [pytest args...]}" && pwd)"
shift

command -v faketime >/dev/null || { echo "faketime is required (apt-get install faketime)" >&2; exit 2; }

venv="$here/.venv-conformance"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$suite"

cargo build --release --manifest-path "$here/Cargo.toml" -p tuf-conformance-client
client="$here/target/release/tuf-conformance-client"

cd "$suite"
exec "$venv/bin/pytest" tuf_conformance -p no:cacheprovider --entrypoint "$client" "$@"
