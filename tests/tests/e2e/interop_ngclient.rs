//! Our repository side, read by python-tuf's ngclient.
//!
//! `shared_trust::repository::Repository` publishes a consistent-snapshot
//! repository (ed25519 keys; targets in `targets`, in a delegated role with
//! `paths`, and in TAP 15 succinct hashed bins under another delegated
//! role), then rotates a root key and the timestamp key and publishes root
//! v2. `tests/python/ngclient_fetch.py` serves the directory on 127.0.0.1,
//! bootstraps ngclient from `1.root.json` and downloads every target. Then
//! tampered copies must be rejected by ngclient.

use crate::python::{require_python, run_script, ScriptOutput};
use crate::support::{copy_dir, flip_byte, remove_signature, tamper_expires, unhex};
use serde_json::json;
use shared_trust::crypto::{sha256_hex, Ed25519Signer, Signer};
use shared_trust::metadata::DelegatedRole;
use shared_trust::repository::Repository;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

fn signer(seed: u8) -> Arc<dyn Signer> {
    Arc::new(Ed25519Signer::from_seed(&[seed; 32]))
}

fn delegated(name: &str, signer: &Arc<dyn Signer>, paths: &[&str]) -> DelegatedRole {
    DelegatedRole {
        name: name.into(),
        keyids: vec![signer.keyid().to_string()],
        threshold: 1,
        terminating: true,
        paths: Some(paths.iter().map(|p| p.to_string()).collect()),
        path_hash_prefixes: None,
        unknown_fields: BTreeMap::new(),
    }
}

struct Published {
    _dir: tempfile::TempDir,
    /// Holds `metadata/` and `targets/`.
    repo: std::path::PathBuf,
    /// Every target path and its content.
    targets: BTreeMap<String, Vec<u8>>,
    /// The root key rotated away in root v2.
    old_root_keyid: String,
    /// A target listed in a succinct bin, and that bin.
    bin_target: (String, String),
}

const BIT_LENGTH: u32 = 3;

fn publish() -> Published {
    let dir = tempfile::tempdir().unwrap();
    let repo_dir = dir.path().join("repo");
    let now = shared_trust::time::now_unix();
    let (root1, root2, ts1, ts2) = (signer(1), signer(2), signer(3), signer(4));
    let (snapshot, targets_key, releases_key, crates_key, bins_key) =
        (signer(5), signer(6), signer(7), signer(8), signer(9));

    let mut repo = Repository::new(now, true);
    repo.add_key("root", root1.clone()).unwrap();
    repo.add_key("timestamp", ts1.clone()).unwrap();
    repo.add_key("snapshot", snapshot).unwrap();
    repo.add_key("targets", targets_key).unwrap();

    let mut contents: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut add = |repo: &mut Repository, role: &str, path: &str, content: Vec<u8>| {
        repo.add_target(role, path, &content, Some(json!({"role": role})))
            .unwrap();
        contents.insert(path.to_string(), content);
    };

    add(
        &mut repo,
        "targets",
        "hello.txt",
        b"hello from shared-trust\n".to_vec(),
    );
    add(
        &mut repo,
        "targets",
        "dir/sub/data.bin",
        (0..=255u8).collect(),
    );
    add(&mut repo, "targets", "empty.txt", Vec::new());
    // Needs percent-encoding in URLs; the file on disk has the raw name.
    add(
        &mut repo,
        "targets",
        "docs/a b ü.txt",
        b"spaces and unicode".to_vec(),
    );

    repo.delegate(
        "targets",
        delegated("releases", &releases_key, &["releases/*"]),
        vec![releases_key.clone()],
    )
    .unwrap();
    add(
        &mut repo,
        "releases",
        "releases/v1.tar.gz",
        b"release 1 \x00\xff".to_vec(),
    );
    add(
        &mut repo,
        "releases",
        "releases/v2.tar.gz",
        b"release 2".to_vec(),
    );

    // Succinct bins sit under a delegated role, since delegate_succinct
    // hands all of a role's targets to the bins.
    repo.delegate(
        "targets",
        delegated("crates", &crates_key, &["crates/*/*"]),
        vec![crates_key],
    )
    .unwrap();
    repo.delegate_succinct("crates", BIT_LENGTH, "crates-bin", 1, vec![bins_key])
        .unwrap();
    let crate_names = [
        "serde", "rand", "libc", "syn", "quote", "tokio", "log", "bytes", "regex", "anyhow",
        "clap", "itoa",
    ];
    let mut bins_used = BTreeSet::new();
    let mut bin_target = None;
    for (i, name) in crate_names.iter().enumerate() {
        let path = format!("crates/{}/{name}", &name[..2]);
        let role = repo.responsible_role(&path);
        assert!(role.starts_with("crates-bin-"), "{path} -> {role}");
        bins_used.insert(role.clone());
        bin_target.get_or_insert((path.clone(), role.clone()));
        add(
            &mut repo,
            &role,
            &path,
            format!("{name} index file {i}\n").into_bytes(),
        );
    }
    assert!(
        bins_used.len() >= 4,
        "targets should spread over several bins: {bins_used:?}"
    );

    repo.publish(&repo_dir).unwrap();

    // Root v2: rotate a root key and the timestamp key.
    let old_root_keyid = root1.keyid().to_string();
    repo.remove_key("root", root1.keyid()).unwrap();
    repo.add_key("root", root2).unwrap();
    repo.remove_key("timestamp", ts1.keyid()).unwrap();
    repo.add_key("timestamp", ts2).unwrap();
    add(
        &mut repo,
        "targets",
        "hello-v2.txt",
        b"published with root v2\n".to_vec(),
    );
    repo.publish(&repo_dir).unwrap();
    assert_eq!(repo.root.version, 2);

    Published {
        _dir: dir,
        repo: repo_dir,
        targets: contents,
        old_root_keyid,
        bin_target: bin_target.unwrap(),
    }
}

/// How urllib3 writes a request path: bytes outside RFC 3986's path
/// characters percent-encoded.
fn percent_encode_path(path: &str) -> String {
    path.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"/._-~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Runs ngclient against `repo`, bootstrapped with its `1.root.json`.
fn ngclient(python: &Path, repo: &Path, paths: &[String]) -> ScriptOutput {
    let work = tempfile::tempdir().unwrap();
    let mut args: Vec<std::ffi::OsString> = vec![
        repo.into(),
        repo.join("metadata/1.root.json").into(),
        work.path().into(),
    ];
    args.extend(paths.iter().map(Into::into));
    run_script(python, "ngclient_fetch.py", args, None)
}

#[test]
fn interop_ngclient_reads_our_repository() {
    let python = require_python!("interop_ngclient_reads_our_repository");
    let p = publish();
    let mut paths: Vec<String> = p.targets.keys().cloned().collect();
    let absent = ["crates/no/nope", "releases/v3.tar.gz", "not-listed.txt"];
    paths.extend(absent.iter().map(|s| s.to_string()));

    let out = ngclient(&python, &p.repo, &paths).expect_success("ngclient on our repository");
    let v = out.json();

    assert_eq!(v["root_version"], 2, "ngclient must end on root v2");
    let requests: BTreeSet<&str> = v["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    for expected in [
        // The root chain 1 -> 2, and the end of it.
        "/metadata/2.root.json 200",
        "/metadata/3.root.json 404",
        "/metadata/timestamp.json 200",
        // Consistent snapshot names.
        "/metadata/2.snapshot.json 200",
        "/metadata/2.targets.json 200",
        "/metadata/1.releases.json 200",
        "/metadata/1.crates.json 200",
    ] {
        assert!(
            requests.contains(expected),
            "no {expected:?} in {requests:#?}"
        );
    }
    let bin = &p.bin_target.1;
    assert!(
        requests.contains(format!("/metadata/1.{bin}.json 200").as_str()),
        "bin {bin} not fetched: {requests:#?}"
    );
    assert!(
        requests
            .iter()
            .all(|r| r.ends_with(" 200") || *r == "/metadata/3.root.json 404"),
        "unexpected failed request: {requests:#?}"
    );

    let got = v["targets"].as_object().unwrap();
    for (path, content) in &p.targets {
        let t = &got[path];
        assert!(t.is_object(), "ngclient did not find {path}: {t}");
        assert_eq!(
            unhex(t["hex"].as_str().unwrap()),
            *content,
            "content of {path}"
        );
        assert_eq!(t["length"], content.len(), "length of {path}");
        // Consistent snapshot: fetched by hash-prefixed name.
        let (dir, name) = path
            .rsplit_once('/')
            .map_or(("", path.as_str()), |(d, n)| (d, n));
        let sep = if dir.is_empty() { "" } else { "/" };
        let url = format!("/targets/{dir}{sep}{}.{name}", sha256_hex(content));
        assert!(
            requests.contains(format!("{} 200", percent_encode_path(&url)).as_str()),
            "no {url:?} in {requests:#?}"
        );
    }
    for path in absent {
        assert!(
            got[path].is_null(),
            "{path} should not be found: {}",
            got[path]
        );
    }
}

/// One tampered copy: what to change, and the python exception expected.
struct Tamper {
    what: &'static str,
    exception: &'static str,
    apply: fn(&Path, &Published),
}

#[test]
fn interop_ngclient_rejects_tampered_repository() {
    let python = require_python!("interop_ngclient_rejects_tampered_repository");
    let p = publish();
    let cases = vec![
        Tamper {
            what: "a byte of a target file flipped",
            exception: "LengthOrHashMismatchError",
            apply: |repo, p| {
                let content = &p.targets["hello.txt"];
                let file = repo.join(format!("targets/{}.hello.txt", sha256_hex(content)));
                flip_byte(&file, 3);
            },
        },
        Tamper {
            what: "a target in a succinct bin changed",
            exception: "LengthOrHashMismatchError",
            apply: |repo, p| {
                let (path, _) = &p.bin_target;
                let (dir, name) = path.rsplit_once('/').unwrap();
                let hash = sha256_hex(&p.targets[path]);
                flip_byte(&repo.join(format!("targets/{dir}/{hash}.{name}")), 0);
            },
        },
        Tamper {
            what: "timestamp.json's signed part changed, not re-signed",
            exception: "UnsignedMetadataError",
            apply: |repo, _| tamper_expires(&repo.join("metadata/timestamp.json")),
        },
        Tamper {
            what: "root v2 without the signature of the rotated-out root key",
            exception: "UnsignedMetadataError",
            apply: |repo, p| {
                remove_signature(&repo.join("metadata/2.root.json"), &p.old_root_keyid)
            },
        },
        Tamper {
            what: "a succinct bin's metadata changed (snapshot pins its hash)",
            exception: "LengthOrHashMismatchError",
            apply: |repo, p| {
                tamper_expires(&repo.join(format!("metadata/1.{}.json", p.bin_target.1)))
            },
        },
        Tamper {
            what: "the delegated role's metadata changed (snapshot pins its hash)",
            exception: "LengthOrHashMismatchError",
            apply: |repo, _| tamper_expires(&repo.join("metadata/1.releases.json")),
        },
    ];
    let paths: Vec<String> = p.targets.keys().cloned().collect();
    for case in cases {
        let copy = tempfile::tempdir().unwrap();
        copy_dir(&p.repo, copy.path());
        (case.apply)(copy.path(), &p);
        let out = ngclient(&python, copy.path(), &paths);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}: ngclient must reject it\nstdout:\n{}\nstderr:\n{}",
            case.what,
            out.stdout,
            out.stderr
        );
        let expected = format!("ngclient_fetch: FAILED {}", case.exception);
        assert!(
            out.stderr.contains(&expected),
            "{}: expected {expected:?} in stderr:\n{}",
            case.what,
            out.stderr
        );
    }
}

/// Role names are percent-encoded in metadata URLs (python-tuf:
/// `quote(name, safe="")`, and our `Updater`), and a static server decodes
/// the URL back before opening the file, so a name that needs encoding
/// cannot be served from a plain directory. The repository side therefore
/// refuses such names up front instead of publishing a role no client can
/// fetch; a URL-safe name with `.`, `_` and `~` is served to ngclient.
#[test]
fn interop_ngclient_role_names_must_be_servable() {
    let python = require_python!("interop_ngclient_role_names_must_be_servable");
    let dir = tempfile::tempdir().unwrap();
    let repo_dir = dir.path().join("repo");
    let s = signer(1);
    let mut repo = Repository::new(shared_trust::time::now_unix(), true);
    for role in ["root", "timestamp", "snapshot", "targets"] {
        repo.add_key(role, s.clone()).unwrap();
    }
    for bad in ["team a", "a/b", "../x", ".hidden", ""] {
        let err = repo
            .delegate("targets", delegated(bad, &s, &["a/*"]), vec![s.clone()])
            .unwrap_err();
        assert!(
            err.to_string().contains("role name"),
            "{bad:?}: unexpected error {err}"
        );
    }
    repo.delegate(
        "targets",
        delegated("team_a.v1~x", &s, &["a/*"]),
        vec![s.clone()],
    )
    .unwrap();
    repo.add_target("team_a.v1~x", "a/x.txt", b"team a's file", None)
        .unwrap();
    repo.publish(&repo_dir).unwrap();
    let out = ngclient(&python, &repo_dir, &["a/x.txt".to_string()])
        .expect_success("ngclient fetching a target of role \"team_a.v1~x\"");
    assert_eq!(
        unhex(out.json()["targets"]["a/x.txt"]["hex"].as_str().unwrap()),
        b"team a's file"
    );
}
