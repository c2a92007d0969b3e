#!/usr/bin/env python3
"""Write a consistent-snapshot TUF repository with python-tuf's Metadata API.

Usage: make_repo.py OUT_DIR [--keytype ed25519|ecdsa|rsa] [--meta-pins hashes|version]

The repository, under OUT_DIR:

    metadata/1.root.json   root v1 (root key A, timestamp key T1)
    metadata/2.root.json   root v2: root key A -> B and timestamp key T1 -> T2,
                           signed by A and B (the thresholds of v1 and v2)
    metadata/root.json     = 2.root.json
    metadata/timestamp.json            signed by T2
    metadata/1.snapshot.json, 1.targets.json, 1.releases.json,
    metadata/1.crates.json, 1.crates-bin-N.json (succinct bins)
    targets/[DIR/]HASH.NAME            one copy per listed hash

Delegations: `targets` -> `releases` (paths `releases/*`, terminating) and
`targets` -> `crates` (paths `crates/*/*`), and `crates` -> succinct hashed
bins (TAP 15, bit_length 2, prefix `crates-bin`). Snapshot and timestamp
pin version, length and sha256 of the files they list (`--meta-pins
hashes`, the default) or only their version (`--meta-pins version`, what
python-tuf writes by default), so that a changed targets file is caught by
its signature alone.

Prints JSON to stdout: {"keytype", "root_version", "targets": {path:
{"hex": content hex, "role": role that lists it}}, "roles": [...]}.
Exits 1 with "make_repo: FAILED <ExceptionName>: message" on stderr.
"""

import argparse
import hashlib
import json
import os
import sys
from datetime import datetime, timedelta, timezone

from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import (
    DelegatedRole,
    Delegations,
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    SuccinctRoles,
    TargetFile,
    Targets,
    Timestamp,
)
from tuf.api.serialization.json import JSONSerializer

SPEC_VERSION = "1.0.31"


def generate(keytype):
    if keytype == "ed25519":
        return CryptoSigner.generate_ed25519()
    if keytype == "ecdsa":
        return CryptoSigner.generate_ecdsa()
    if keytype == "rsa":
        return CryptoSigner.generate_rsa(size=2048)
    raise ValueError(f"unknown key type {keytype}")


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def to_bytes(md):
    return md.to_bytes(JSONSerializer(compact=False))


def signed(obj, *signers):
    md = Metadata(obj)
    for s in signers:
        md.sign(s, append=True)
    return md


def meta_for(data, version, pins):
    if pins == "version":
        return MetaFile(version=version)
    return MetaFile(
        version=version,
        length=len(data),
        hashes={"sha256": hashlib.sha256(data).hexdigest()},
    )


def build(out, keytype, pins):
    meta_dir = os.path.join(out, "metadata")
    targets_dir = os.path.join(out, "targets")
    expires = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=7)

    keys = {
        name: generate(keytype)
        for name in ("root_a", "root_b", "ts1", "ts2", "snapshot", "targets", "releases", "bins")
    }

    # Target content, by role.
    contents = {
        "targets": {
            "hello.txt": b"hello from python-tuf\n",
            "dir/data.bin": bytes(range(256)),
        },
        "releases": {
            "releases/v1.tar.gz": b"release one \x00\x01\x02",
        },
        "crates": {},
    }
    crate_paths = [f"crates/{n[:2]}/{n}" for n in ("serde", "rand", "libc", "syn", "quote", "tokio", "log", "bytes")]

    # Root v1.
    root = Root(expires=expires, consistent_snapshot=True, spec_version=SPEC_VERSION)
    root.add_key(keys["root_a"].public_key, "root")
    root.add_key(keys["ts1"].public_key, "timestamp")
    root.add_key(keys["snapshot"].public_key, "snapshot")
    root.add_key(keys["targets"].public_key, "targets")
    root_v1 = to_bytes(signed(root, keys["root_a"]))
    write(os.path.join(meta_dir, "1.root.json"), root_v1)

    # Delegations.
    bins = SuccinctRoles(
        keyids=[keys["bins"].public_key.keyid],
        threshold=1,
        bit_length=2,
        name_prefix="crates-bin",
    )
    crates = Targets(expires=expires, spec_version=SPEC_VERSION)
    crates.delegations = Delegations(
        keys={keys["bins"].public_key.keyid: keys["bins"].public_key},
        roles=None,
        succinct_roles=bins,
    )
    bin_targets = {name: Targets(expires=expires, spec_version=SPEC_VERSION) for name in bins.get_roles()}
    for i, path in enumerate(crate_paths):
        content = f"crate file {path}\n{i}\n".encode()
        contents.setdefault(bins.get_role_for_target(path), {})[path] = content

    targets = Targets(expires=expires, spec_version=SPEC_VERSION)
    targets.delegations = Delegations(
        keys={
            keys["releases"].public_key.keyid: keys["releases"].public_key,
            keys["targets"].public_key.keyid: keys["targets"].public_key,
        },
        roles={
            "releases": DelegatedRole(
                name="releases",
                keyids=[keys["releases"].public_key.keyid],
                threshold=1,
                terminating=True,
                paths=["releases/*"],
            ),
            # The crates role reuses the targets key: keys are shared freely.
            "crates": DelegatedRole(
                name="crates",
                keyids=[keys["targets"].public_key.keyid],
                threshold=1,
                terminating=True,
                paths=["crates/*/*"],
            ),
        },
    )
    releases = Targets(expires=expires, spec_version=SPEC_VERSION)

    role_objs = {"targets": targets, "releases": releases, "crates": crates}
    for role, files in contents.items():
        obj = role_objs.get(role) or bin_targets.get(role)
        for path, content in files.items():
            # Two hashes: the client may fetch the copy named by either.
            obj.targets[path] = TargetFile.from_data(path, content, ["sha512", "sha256"])

    role_signers = {"targets": keys["targets"], "releases": keys["releases"], "crates": keys["targets"]}
    snapshot_meta = {}
    all_roles = {**role_objs, **bin_targets}
    for name, obj in all_roles.items():
        data = to_bytes(signed(obj, role_signers.get(name, keys["bins"])))
        write(os.path.join(meta_dir, f"{obj.version}.{name}.json"), data)
        snapshot_meta[f"{name}.json"] = meta_for(data, obj.version, pins)

    snapshot = Snapshot(expires=expires, meta=snapshot_meta, spec_version=SPEC_VERSION)
    snapshot_bytes = to_bytes(signed(snapshot, keys["snapshot"]))
    write(os.path.join(meta_dir, f"{snapshot.version}.snapshot.json"), snapshot_bytes)

    timestamp = Timestamp(
        expires=expires,
        snapshot_meta=meta_for(snapshot_bytes, snapshot.version, pins),
        spec_version=SPEC_VERSION,
    )
    write(os.path.join(meta_dir, "timestamp.json"), to_bytes(signed(timestamp, keys["ts1"])))

    # Root v2: rotate the root key A -> B and the timestamp key T1 -> T2.
    root.revoke_key(keys["root_a"].public_key.keyid, "root")
    root.add_key(keys["root_b"].public_key, "root")
    root.revoke_key(keys["ts1"].public_key.keyid, "timestamp")
    root.add_key(keys["ts2"].public_key, "timestamp")
    root.version = 2
    root_v2 = to_bytes(signed(root, keys["root_a"], keys["root_b"]))
    write(os.path.join(meta_dir, "2.root.json"), root_v2)
    write(os.path.join(meta_dir, "root.json"), root_v2)

    timestamp.version = 2
    write(os.path.join(meta_dir, "timestamp.json"), to_bytes(signed(timestamp, keys["ts2"])))

    # Targets: one hash-prefixed copy per listed hash.
    out_targets = {}
    for role, files in contents.items():
        for path, content in files.items():
            dirname, sep, base = path.rpartition("/")
            for digest in (hashlib.sha256(content).hexdigest(), hashlib.sha512(content).hexdigest()):
                write(os.path.join(targets_dir, f"{dirname}{sep}{digest}.{base}"), content)
            out_targets[path] = {"hex": content.hex(), "role": role}

    return {
        "keytype": keytype,
        "meta_pins": pins,
        "root_version": root.version,
        "roles": sorted(all_roles),
        "targets": out_targets,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--keytype", default="ed25519", choices=["ed25519", "ecdsa", "rsa"])
    parser.add_argument("--meta-pins", default="hashes", choices=["hashes", "version"])
    args = parser.parse_args()
    try:
        result = build(args.out_dir, args.keytype, args.meta_pins)
    except Exception as e:  # reported to the Rust test
        print(f"make_repo: FAILED {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    json.dump(result, sys.stdout, indent=1, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
