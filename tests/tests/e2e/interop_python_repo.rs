//! A repository written by python-tuf, read by our `Updater`.
//!
//! `tests/python/make_repo.py` writes a consistent-snapshot repository with
//! python-tuf's Metadata API (root rotation to v2 with a new root and
//! timestamp key, a `paths` delegation, succinct hashed bins, targets with
//! sha256 and sha512), once per key type (ed25519, ECDSA P-256,
//! RSASSA-PSS) with snapshot/timestamp pinning hashes, and once with
//! version-only pins (python-tuf's default). Our updater bootstraps from its `1.root.json` over
//! `file://` and must get every target; tampered copies must be rejected
//! with `updater::Error::Verification` naming the role or file.

use crate::python::{require_python, run_script};
use crate::support::{copy_dir, file_url, flip_byte, remove_signature, tamper_expires, unhex};
use shared_trust::updater::{Config, Error};
use shared_trust::{FileFetcher, Updater};
use std::collections::BTreeMap;
use std::path::Path;

/// Key type and `--meta-pins` of each generated repository.
const VARIANTS: [(&str, &str); 4] = [
    ("ed25519", "hashes"),
    ("ecdsa", "hashes"),
    ("rsa", "hashes"),
    ("ed25519", "version"),
];

struct PyRepo {
    _dir: tempfile::TempDir,
    repo: std::path::PathBuf,
    /// Target path to (content, role that lists it).
    targets: BTreeMap<String, (Vec<u8>, String)>,
}

fn make_repo(python: &Path, (keytype, pins): (&str, &str)) -> PyRepo {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    let args = [
        repo.as_os_str(),
        "--keytype".as_ref(),
        keytype.as_ref(),
        "--meta-pins".as_ref(),
        pins.as_ref(),
    ];
    let out = run_script(python, "make_repo.py", args, None).expect_success(&format!(
        "make_repo.py --keytype {keytype} --meta-pins {pins}"
    ));
    let v = out.json();
    assert_eq!(v["keytype"], keytype);
    assert_eq!(v["meta_pins"], pins);
    assert_eq!(v["root_version"], 2);
    let targets: BTreeMap<String, (Vec<u8>, String)> = v["targets"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(path, t)| {
            (
                path.clone(),
                (
                    unhex(t["hex"].as_str().unwrap()),
                    t["role"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect();
    for role in ["targets", "releases", "crates-bin-0"] {
        assert!(
            targets.values().any(|(_, r)| r == role),
            "make_repo.py listed no target in {role}"
        );
    }
    PyRepo {
        _dir: dir,
        repo,
        targets,
    }
}

/// A fresh client bootstrapped with the repository's `1.root.json`.
fn client(repo: &Path, state: &Path) -> Result<Updater<FileFetcher>, Error> {
    let now = shared_trust::time::now_unix();
    let root_v1 = std::fs::read(repo.join("metadata/1.root.json")).unwrap();
    Updater::<FileFetcher>::bootstrap(state, &root_v1, now)?;
    Updater::new(
        state,
        &file_url(&repo.join("metadata")),
        FileFetcher,
        Config::default(),
        now,
    )
}

/// Refreshes and downloads every target, checking content.
fn fetch_all(repo: &Path, targets: &BTreeMap<String, (Vec<u8>, String)>) -> Result<(), Error> {
    let state = tempfile::tempdir().unwrap();
    let mut updater = client(repo, state.path())?;
    updater.refresh()?;
    assert_eq!(updater.trusted().root().version, 2, "root chain 1 -> 2");
    let base = file_url(&repo.join("targets"));
    for (path, (content, role)) in targets {
        let info = updater
            .get_targetinfo(path)?
            .unwrap_or_else(|| panic!("{path} (listed by {role}) not found"));
        assert!(
            info.hashes.contains_key("sha256") && info.hashes.contains_key("sha512"),
            "{path}: {:?}",
            info.hashes
        );
        let bytes = updater.download_target_bytes(path, &info, &base)?;
        assert_eq!(&bytes, content, "content of {path}");
        assert!(
            updater.trusted().targets(role).is_some(),
            "{role} should have been loaded for {path}"
        );
    }
    for absent in ["crates/no/nope", "releases/v9.tar.gz", "nothing-here"] {
        assert!(updater.get_targetinfo(absent)?.is_none(), "{absent} found");
    }
    Ok(())
}

#[test]
fn interop_updater_reads_python_tuf_repository() {
    let python = require_python!("interop_updater_reads_python_tuf_repository");
    for variant in VARIANTS {
        let r = make_repo(&python, variant);
        if let Err(e) = fetch_all(&r.repo, &r.targets) {
            panic!("{variant:?}: our updater failed on python-tuf's repository: {e}");
        }
    }
}

/// Control: python-tuf's own client accepts the fixture, so a failure of
/// ours above is ours.
#[test]
fn interop_python_tuf_repository_is_valid_for_ngclient() {
    let python = require_python!("interop_python_tuf_repository_is_valid_for_ngclient");
    for variant in [VARIANTS[0], VARIANTS[3]] {
        let r = make_repo(&python, variant);
        let work = tempfile::tempdir().unwrap();
        let mut args: Vec<std::ffi::OsString> = vec![
            r.repo.clone().into(),
            r.repo.join("metadata/1.root.json").into(),
            work.path().into(),
        ];
        args.extend(r.targets.keys().map(Into::into));
        let v = run_script(&python, "ngclient_fetch.py", args, None)
            .expect_success(&format!("ngclient on python-tuf's repository {variant:?}"))
            .json();
        assert_eq!(v["root_version"], 2);
        for (path, (content, _)) in &r.targets {
            assert_eq!(unhex(v["targets"][path]["hex"].as_str().unwrap()), *content);
        }
    }
}

/// Which step must fail for a tampered copy.
enum Step {
    Refresh,
    TargetInfo(&'static str),
    Download(&'static str),
}

struct Tamper {
    what: &'static str,
    /// The error message must name this role or file.
    names: &'static str,
    step: Step,
    apply: fn(&Path, &PyRepo),
}

fn target_copies(repo: &Path, path: &str, content: &[u8]) -> Vec<std::path::PathBuf> {
    use shared_trust::crypto::HashAlgorithm;
    let (dir, name) = path.rsplit_once('/').map_or(("", path), |(d, n)| (d, n));
    [HashAlgorithm::Sha256, HashAlgorithm::Sha512]
        .iter()
        .map(|a| {
            repo.join("targets")
                .join(dir)
                .join(format!("{}.{name}", a.hex_digest(content)))
        })
        .collect()
}

fn old_root_keyid(repo: &Path) -> String {
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(repo.join("metadata/1.root.json")).unwrap()).unwrap();
    v["signed"]["roles"]["root"]["keyids"][0]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn interop_updater_rejects_tampered_python_tuf_repository() {
    let python = require_python!("interop_updater_rejects_tampered_python_tuf_repository");
    let cases = [
        Tamper {
            what: "a byte of timestamp.json's signed part changed",
            names: "timestamp",
            step: Step::Refresh,
            apply: |repo, _| tamper_expires(&repo.join("metadata/timestamp.json")),
        },
        Tamper {
            what: "root v2 without the signature of the rotated-out root key",
            names: "root",
            step: Step::Refresh,
            apply: |repo, _| {
                remove_signature(&repo.join("metadata/2.root.json"), &old_root_keyid(repo))
            },
        },
        Tamper {
            what: "a target's content changed (every hash-named copy)",
            names: "hello.txt",
            step: Step::Download("hello.txt"),
            apply: |repo, r| {
                let (content, _) = &r.targets["hello.txt"];
                for f in target_copies(repo, "hello.txt", content) {
                    flip_byte(&f, 0);
                }
            },
        },
        // With hash pins the snapshot catches these; with version-only
        // pins only the role's signature does.
        Tamper {
            what: "a delegated role's metadata changed",
            names: "releases",
            step: Step::TargetInfo("releases/v1.tar.gz"),
            apply: |repo, _| tamper_expires(&repo.join("metadata/1.releases.json")),
        },
        Tamper {
            what: "a succinct bin's metadata changed",
            names: "crates-bin-0",
            step: Step::TargetInfo("crates/lo/log"),
            apply: |repo, _| tamper_expires(&repo.join("metadata/1.crates-bin-0.json")),
        },
    ];
    for variant in VARIANTS {
        let r = make_repo(&python, variant);
        // The bin case needs its target where make_repo.py put it.
        assert_eq!(r.targets["crates/lo/log"].1, "crates-bin-0");
        for case in &cases {
            let copy = tempfile::tempdir().unwrap();
            copy_dir(&r.repo, copy.path());
            (case.apply)(copy.path(), &r);
            let state = tempfile::tempdir().unwrap();
            let mut updater = client(copy.path(), state.path()).unwrap();
            let base = file_url(&copy.path().join("targets"));
            let result = match case.step {
                Step::Refresh => updater.refresh().map(drop),
                Step::TargetInfo(path) => updater.get_targetinfo(path).map(drop),
                Step::Download(path) => {
                    let info = updater.get_targetinfo(path).unwrap().expect("listed");
                    updater.download_target_bytes(path, &info, &base).map(drop)
                }
            };
            match result {
                Err(Error::Verification(e)) => {
                    let msg = e.to_string();
                    assert!(
                        msg.contains(case.names),
                        "{variant:?}, {}: message should name {:?}: {msg}",
                        case.what,
                        case.names
                    );
                    eprintln!("{variant:?}, {}: rejected: {msg}", case.what);
                }
                Err(other) => panic!(
                    "{variant:?}, {}: expected Error::Verification, got {other:?}",
                    case.what
                ),
                Ok(()) => panic!("{variant:?}, {}: tampered copy accepted", case.what),
            }
        }
    }
}
