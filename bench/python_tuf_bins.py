#!/usr/bin/env python3
"""Load every succinct hashed bin of a TUF repository with python-tuf's ngclient.

The reference figure for the shared-trust benchmark (shared-trust/benches/trust.rs),
which builds the repository and runs this script when BENCH_PYTHON names a
Python with python-tuf installed:

    python3 -m venv .venv
    .venv/bin/pip install -r tests/python/requirements.txt
    $PWD/.venv/bin/python bench/python_tuf_bins.py REPO_DIR [--http] [--metadata-dir DIR]

REPO_DIR is a published repository (REPO_DIR/metadata/1.root.json, ...) whose
top-level targets delegates to succinct hashed bins. The script picks one
target path per bin (a path the bin lists if any, else a made-up path that
hashes into it), then times, as a mirror operator's client would:

  cold: a fresh Updater on an empty metadata directory (bootstrapped with
        1.root.json): refresh, then get_targetinfo for one path per bin, so
        every bin is fetched, verified and persisted;
  warm: a second Updater on the same directory: refresh, then the same
        lookups, every bin now read from the local cache and re-verified.

Metadata is read through a file:// fetcher (the same transport the Rust
benchmark uses: FileFetcher), or with --http through a local http.server on
127.0.0.1 and ngclient's default urllib3 fetcher. Output: one `key=value`
line per figure (seconds), read by the Rust benchmark.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import http.server
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from urllib.parse import unquote, urlparse

from tuf.api import exceptions
from tuf.ngclient import FetcherInterface, Updater, UpdaterConfig


class FileFetcher(FetcherInterface):
    """file:// URLs; a missing file is a 404, as a server would answer."""

    def _fetch(self, url: str) -> Iterator[bytes]:
        path = unquote(urlparse(url).path)
        try:
            f = open(path, "rb")
        except FileNotFoundError:
            raise exceptions.DownloadHTTPError(f"{url}: not found", 404) from None
        return self._chunks(f)

    @staticmethod
    def _chunks(f) -> Iterator[bytes]:
        with f:
            while chunk := f.read(64 * 1024):
                yield chunk


def bin_paths(metadata_dir: str) -> list[str]:
    """One target path per bin, in bin order."""
    names = os.listdir(metadata_dir)
    versions = [int(n.split(".")[0]) for n in names if n.endswith(".targets.json") and n.count(".") == 2]
    with open(os.path.join(metadata_dir, f"{max(versions)}.targets.json"), "rb") as f:
        targets = json.load(f)["signed"]
    succinct = targets["delegations"]["succinct_roles"]
    bits = succinct["bit_length"]
    count = 1 << bits

    def bin_of(path: str) -> int:
        return int.from_bytes(hashlib.sha256(path.encode()).digest()[:4], "big") >> (32 - bits)

    paths: list[str | None] = [None] * count
    # Prefer paths the bins really list (the newest version of each bin).
    prefix = succinct["name_prefix"] + "-"
    newest: dict[str, tuple[int, str]] = {}
    for n in names:
        parts = n.split(".", 1)
        if len(parts) == 2 and parts[0].isdigit() and parts[1].startswith(prefix):
            role = parts[1][: -len(".json")]
            if role not in newest or newest[role][0] < int(parts[0]):
                newest[role] = (int(parts[0]), n)
    for _, n in newest.values():
        with open(os.path.join(metadata_dir, n), "rb") as f:
            for path in json.load(f)["signed"]["targets"]:
                paths[bin_of(path)] = path
    i = 0
    missing = sum(p is None for p in paths)
    while missing:
        probe = f"probe/{i}"
        i += 1
        b = bin_of(probe)
        if paths[b] is None:
            paths[b] = probe
            missing -= 1
    return paths  # type: ignore[return-value]


def load_all(metadata_dir: str, base_url: str, fetcher, root: bytes | None, paths: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    updater = Updater(
        metadata_dir,
        base_url,
        fetcher=fetcher,
        config=UpdaterConfig(),
        bootstrap=root,
    )
    updater.refresh()
    found = 0
    for p in paths:
        if updater.get_targetinfo(p) is not None:
            found += 1
    return time.perf_counter() - start, found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("repo_dir")
    ap.add_argument("--http", action="store_true", help="serve over http://127.0.0.1 instead of file://")
    ap.add_argument("--metadata-dir", help="client metadata directory (default: a new temporary one)")
    args = ap.parse_args()

    repo_md = os.path.abspath(os.path.join(args.repo_dir, "metadata"))
    paths = bin_paths(repo_md)
    with open(os.path.join(repo_md, "1.root.json"), "rb") as f:
        root = f.read()

    server = None
    if args.http:
        handler = functools.partial(QuietHandler, directory=os.path.abspath(args.repo_dir))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base_url = f"http://127.0.0.1:{server.server_address[1]}/metadata/"
        fetcher = None  # ngclient's default urllib3 fetcher
    else:
        base_url = "file://" + repo_md + "/"
        fetcher = FileFetcher()

    own_dir = args.metadata_dir is None
    client_dir = args.metadata_dir or tempfile.mkdtemp(prefix="python-tuf-bins-")
    try:
        cold, found = load_all(client_dir, base_url, fetcher, root, paths)
        warm, found_warm = load_all(client_dir, base_url, fetcher, None, paths)
    finally:
        if own_dir:
            shutil.rmtree(client_dir, ignore_errors=True)
        if server is not None:
            server.shutdown()
    print(f"bins={len(paths)}")
    print(f"targets_found={found}")
    print(f"cold_seconds={cold:.3f}")
    print(f"warm_seconds={warm:.3f}")
    return 0 if found == found_warm else 1


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002
        pass


if __name__ == "__main__":
    sys.exit(main())
