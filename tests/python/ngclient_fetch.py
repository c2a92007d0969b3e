#!/usr/bin/env python3
"""Fetch targets from a static TUF repository with python-tuf's ngclient.

Usage: ngclient_fetch.py REPO_DIR ROOT_FILE WORK_DIR TARGET_PATH...

Serves REPO_DIR (which holds metadata/ and targets/) over HTTP on
127.0.0.1 (an ephemeral port, in a thread of this process, gone when it
exits), bootstraps ngclient's Updater with the bytes of ROOT_FILE (e.g.
1.root.json), refreshes, and downloads every TARGET_PATH.

Prints JSON to stdout:

    {"root_version": N,          version of the trusted root after refresh
     "requests": ["/metadata/2.root.json 200", ...],   what the client fetched
     "targets": {path: {"hex": content hex, "length": n} or null}}

null means get_targetinfo found no such target. Any error (verification
or download) exits 1 with "ngclient_fetch: FAILED <ExceptionName>: message"
on stderr. A watchdog ends the process after 120 s.
"""

import functools
import http.server
import json
import os
import sys
import threading

from tuf.api.metadata import Metadata
from tuf.ngclient import Updater

WATCHDOG_SECONDS = 120


class Handler(http.server.SimpleHTTPRequestHandler):
    """Static files, quiet, recording every request."""

    requests = []
    lock = threading.Lock()

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        pass

    def log_request(self, code="-", size="-"):
        with self.lock:
            self.requests.append(f"{self.path} {int(code) if str(code).isdigit() else code}")


def fetch(repo_dir, root_file, work_dir, paths):
    handler = functools.partial(Handler, directory=repo_dir)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        metadata_dir = os.path.join(work_dir, "metadata")
        target_dir = os.path.join(work_dir, "targets")
        os.makedirs(metadata_dir, exist_ok=True)
        os.makedirs(target_dir, exist_ok=True)
        with open(root_file, "rb") as f:
            bootstrap = f.read()
        updater = Updater(
            metadata_dir=metadata_dir,
            metadata_base_url=f"{base}/metadata/",
            target_dir=target_dir,
            target_base_url=f"{base}/targets/",
            bootstrap=bootstrap,
        )
        updater.refresh()
        targets = {}
        for path in paths:
            info = updater.get_targetinfo(path)
            if info is None:
                targets[path] = None
                continue
            local = updater.download_target(info)
            with open(local, "rb") as f:
                content = f.read()
            targets[path] = {"hex": content.hex(), "length": len(content)}
        with open(os.path.join(metadata_dir, "root.json"), "rb") as f:
            root_version = Metadata.from_bytes(f.read()).signed.version
    finally:
        server.shutdown()
        server.server_close()
    return {"root_version": root_version, "requests": Handler.requests, "targets": targets}


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    watchdog = threading.Timer(WATCHDOG_SECONDS, lambda: os._exit(3))
    watchdog.daemon = True
    watchdog.start()
    repo_dir, root_file, work_dir, *paths = sys.argv[1:]
    try:
        result = fetch(repo_dir, root_file, work_dir, paths)
    except Exception as e:  # reported to the Rust test
        print(f"ngclient_fetch: FAILED {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    json.dump(result, sys.stdout, indent=1, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
