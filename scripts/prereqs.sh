#!/usr/bin/env bash
# Build prerequisites beyond the Rust toolchain: pkg-config and OpenSSL
# headers, for libcurl (built from source when the system has no
# libcurl-dev). Installed with apt when missing and running as root;
# otherwise the command to run is printed.
set -euo pipefail
if command -v pkg-config >/dev/null && pkg-config --exists openssl; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing pkg-config and libssl-dev (apt-get) ..." >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends pkg-config libssl-dev >/dev/null
    exit 0
fi
echo "error: pkg-config and the OpenSSL headers are needed to build libcurl." >&2
echo "  Debian/Ubuntu: sudo apt-get install pkg-config libssl-dev" >&2
echo "  Fedora:        sudo dnf install pkgconf-pkg-config openssl-devel" >&2
exit 2
