//! Writes seed corpora for every fuzz target from metadata the repository
//! side produces (valid at the fuzz targets' fixed reference time).
//!
//! cargo run --manifest-path fuzz/Cargo.toml --example gen_seeds [-- OUT_DIR]
//!
//! OUT_DIR defaults to `fuzz/corpus`; one sub-directory per target.

use shared_trust::crypto::{EcdsaP256Signer, Signer};
use shared_trust::metadata::DelegatedRole;
use shared_trust::repository::Repository;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[path = "../fuzz_targets/common.rs"]
mod common;
use common::*;

type Files = BTreeMap<String, Vec<u8>>;

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

fn role(name: &str, paths: &[&str], terminating: bool, keyid: &str) -> DelegatedRole {
    DelegatedRole {
        name: name.into(),
        keyids: vec![keyid.into()],
        threshold: 1,
        terminating,
        paths: Some(paths.iter().map(|p| p.to_string()).collect()),
        path_hash_prefixes: None,
        unknown_fields: BTreeMap::new(),
    }
}

/// A repository with every top-level role signed by the fixture key.
fn base_repo(pin_hashes: bool) -> (Repository, Arc<dyn Signer>) {
    let signer: Arc<dyn Signer> = Arc::new(fixture_signer());
    let mut repo = Repository::new(NOW - 3600, true);
    repo.pin_hashes = pin_hashes;
    for r in ["root", "timestamp", "snapshot", "targets"] {
        repo.add_key(r, signer.clone()).unwrap();
    }
    (repo, signer)
}

fn blob(op: u8, bytes: &[u8]) -> Vec<u8> {
    let mut b = vec![op];
    b.extend_from_slice(bytes);
    b
}

fn delegated(op: u8, sel: u8, bytes: &[u8]) -> Vec<u8> {
    let mut b = vec![op, sel];
    b.extend_from_slice(bytes);
    b
}

/// The top-level chain root, timestamp, snapshot, targets of one publish.
fn chain(files: &Files, root: &[u8]) -> Vec<Vec<u8>> {
    let versioned = |role: &str| &files[&format!("{}.{role}.json", version_of(files, role))];
    vec![
        blob(OP_ROOT, root),
        blob(OP_TIMESTAMP, &files["timestamp.json"]),
        blob(OP_SNAPSHOT, versioned("snapshot")),
        blob(OP_TARGETS, versioned("targets")),
    ]
}

fn version_of(files: &Files, role: &str) -> u64 {
    files
        .keys()
        .filter_map(|n| n.strip_suffix(&format!(".{role}.json")))
        .filter_map(|v| v.parse().ok())
        .max()
        .unwrap_or_else(|| panic!("{role} not published"))
}

fn main() {
    let out: PathBuf = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus"));
    let md_dir = out.join("metadata");
    let canon_dir = out.join("canonical");
    let ts_dir = out.join("trusted_set");
    let pm_dir = out.join("path_match");

    // 1. Pinned hashes, delegation by paths, two publishes with a root
    //    rotation in between.
    let (mut repo, signer) = base_repo(true);
    let keyid = signer.keyid().to_string();
    repo.add_target(
        "targets",
        "dist/channel-rust-stable.toml",
        b"[pkg.rust]\n",
        None,
    )
    .unwrap();
    repo.delegate(
        "targets",
        role("crates", &["crates/*/*/*", "crates/?/*"], true, &keyid),
        vec![signer.clone()],
    )
    .unwrap();
    repo.delegate(
        "targets",
        role("releases", &["dist/[a-z]*"], false, &keyid),
        vec![signer.clone()],
    )
    .unwrap();
    repo.add_target(
        "crates",
        "crates/se/rd/serde",
        br#"{"name":"serde","vers":"1.0.0","cksum":"00"}"#,
        Some(serde_json::json!({"yanked": false, "n": 3})),
    )
    .unwrap();
    repo.add_target("releases", "dist/rustup-init", b"\x7fELF", None)
        .unwrap();
    let v1 = repo.sign_changes().unwrap();
    let root1 = v1["root.json"].clone();
    let mut seq = chain(&v1, &root1);
    seq.push(delegated(OP_DELEGATED, 0, &v1["1.crates.json"]));
    seq.push(delegated(OP_DELEGATED, 1, &v1["1.releases.json"]));
    write(&ts_dir, "paths-v1", &join(0, &seq));
    for (name, bytes) in &v1 {
        let sel = match name.as_str() {
            n if n.ends_with("root.json") => 0u8,
            "timestamp.json" => 1,
            n if n.ends_with("snapshot.json") => 2,
            _ => 3,
        };
        write(&md_dir, &format!("paths-v1-{name}"), &blob(sel, bytes));
        write(&canon_dir, &format!("paths-v1-{name}"), bytes);
    }

    // Rotate: a second root key, then publish again.
    let second: Arc<dyn Signer> =
        Arc::new(shared_trust::crypto::Ed25519Signer::from_seed(&[8; 32]));
    repo.add_key("root", second).unwrap();
    repo.add_target("crates", "crates/3/s/syn", b"{}", None)
        .unwrap();
    repo.set_time(NOW - 1800);
    let v2 = repo.sign_changes().unwrap();
    let mut seq = vec![blob(OP_ROOT, &root1), blob(OP_ROOT, &v2["2.root.json"])];
    // Roles unchanged in the second publish keep their first version.
    let mut all = v1.clone();
    all.extend(v2.clone());
    seq.extend(chain(&all, &v2["2.root.json"]).into_iter().skip(1));
    seq.push(delegated(OP_DELEGATED, 0, &v2["2.crates.json"]));
    write(&ts_dir, "paths-rotation", &join(0, &seq));
    // Old then new timestamp (rollback checks), and a stale snapshot.
    let seq = vec![
        blob(OP_ROOT, &root1),
        blob(OP_TIMESTAMP, &v1["timestamp.json"]),
        blob(OP_TIMESTAMP, &v2["timestamp.json"]),
        blob(OP_SNAPSHOT, &v1["1.snapshot.json"]),
        blob(OP_SNAPSHOT_TRUSTED, &v2["2.snapshot.json"]),
    ];
    write(&ts_dir, "paths-timestamps", &join(0, &seq));
    write(&md_dir, "paths-v2-root", &blob(0, &v2["2.root.json"]));

    // 2. No pins (for the re-signing mode), succinct hashed bins.
    let (mut repo, signer) = base_repo(false);
    repo.delegate_succinct("targets", 3, "bin", 1, vec![signer.clone()])
        .unwrap();
    for (i, name) in ["serde", "syn", "rand", "tokio", "libc", "log"]
        .iter()
        .enumerate()
    {
        let path = format!("crates/{name}");
        let bin = repo.responsible_role(&path);
        repo.add_target(&bin, &path, name.as_bytes(), None).unwrap();
        let _ = i;
    }
    let files = repo.sign_changes().unwrap();
    let root = files["root.json"].clone();
    let mut seq = chain(&files, &root);
    for sel in 0..8u8 {
        let name = format!("1.bin-{sel}.json");
        seq.push(delegated(OP_DELEGATED, sel, &files[&name]));
    }
    write(&ts_dir, "succinct-resign", &join(FLAG_RESIGN, &seq));
    write(&ts_dir, "succinct-raw", &join(0, &seq));
    for (name, bytes) in files
        .iter()
        .filter(|(n, _)| !n.contains("bin-") || n.contains("bin-3"))
    {
        let sel = match name.as_str() {
            n if n.ends_with("root.json") => 0u8,
            "timestamp.json" => 1,
            n if n.ends_with("snapshot.json") => 2,
            _ => 3,
        };
        write(&md_dir, &format!("succinct-{name}"), &blob(sel, bytes));
    }

    // 3. Hashed bins by path_hash_prefixes, an ECDSA targets key.
    let (mut repo, signer) = base_repo(false);
    let ecdsa: Arc<dyn Signer> = Arc::new(EcdsaP256Signer::generate());
    repo.add_key("targets", ecdsa).unwrap();
    repo.delegate_hashed_bins("targets", 1, "hb", vec![signer.clone()])
        .unwrap();
    let path = "crates/serde";
    let bin = repo.responsible_role(path);
    repo.add_target(&bin, path, b"x", None).unwrap();
    let files = repo.sign_changes().unwrap();
    let root = files["root.json"].clone();
    let mut seq = chain(&files, &root);
    seq.push(delegated(OP_DELEGATED, 0, &files[&format!("1.{bin}.json")]));
    write(&ts_dir, "hashed-bins-resign", &join(FLAG_RESIGN, &seq));
    write(&md_dir, "ecdsa-root", &blob(0, &root));
    write(
        &md_dir,
        "hashed-bins-targets",
        &blob(3, &files["1.targets.json"]),
    );

    // Canonical: small values with the tricky parts.
    for (i, v) in [
        r#"{"b":1,"a":[true,false,null],"c":{"z":"x","y":-3}}"#,
        r#"["a\"b\\c\nd\u0001é", 18446744073709551615, -9223372036854775808]"#,
        r#"{"é":1,"z":2,"Z":3,"a":4,"":{}}"#,
        r#"{"a":1.5}"#,
        r#"[[[[[]]]],{},"",0,-0,1e3]"#,
    ]
    .iter()
    .enumerate()
    {
        write(&canon_dir, &format!("small-{i}"), v.as_bytes());
    }

    // path_match: PATTERN '\n' PATH, and timestamps.
    for (i, s) in [
        "crates/*/*/*\ncrates/se/rd/serde",
        "dist/[a-z]*\ndist/rustup-init",
        "f?o/*.tgz\nfxo/a.tgz",
        "[!a-c]x\nbx",
        "a*b*c*d\naXbYcZd",
        "[]]\n]",
        "[\n[",
        "*\nfoo/bar",
        "2027-01-15T08:00:00Z",
        "2000-02-29T12:34:56Z\n9999-12-31T23:59:59Z",
    ]
    .iter()
    .enumerate()
    {
        write(&pm_dir, &format!("seed-{i}"), s.as_bytes());
    }
    // Self-check: every trusted_set seed loads completely (else the fuzzer
    // would start from shallow inputs).
    // Only the seeds written here: the directory also holds what the
    // fuzzer added.
    for name in [
        "paths-v1",
        "paths-rotation",
        "paths-timestamps",
        "succinct-resign",
        "succinct-raw",
        "hashed-bins-resign",
    ] {
        let path = ts_dir.join(name);
        let input = std::fs::read(&path).unwrap();
        let (ok, total) = replay(&input);
        eprintln!(
            "trusted_set seed {}: {ok}/{total} steps accepted",
            path.display()
        );
        let expected = if path.ends_with("paths-timestamps") {
            total - 1
        } else {
            total
        };
        assert_eq!(ok, expected, "seed {} does not load", path.display());
    }
    eprintln!("seeds written under {}", out.display());
}

/// Replays a trusted_set input (simplified: delegated roles are found by
/// name among loaded delegations); returns (accepted steps, steps).
fn replay(input: &[u8]) -> (usize, usize) {
    use shared_trust::TrustedMetadataSet;
    let signer = fixture_signer();
    let resign_all = input[0] & FLAG_RESIGN != 0;
    let prep = |b: &[u8]| {
        if resign_all {
            resign(&signer, b)
        } else {
            b.to_vec()
        }
    };
    let blobs = split(&input[1..]);
    let mut set = TrustedMetadataSet::new(&prep(&blobs[0][1..]), NOW).unwrap();
    let mut ok = 1;
    let mut loaded = vec!["targets".to_string()];
    for b in &blobs[1..] {
        let (op, body) = (b[0], &b[1..]);
        let r = match op {
            OP_ROOT => set.update_root(&prep(body)).map(|_| ()),
            OP_TIMESTAMP => set.update_timestamp(&prep(body)).map(|_| ()),
            OP_SNAPSHOT | OP_SNAPSHOT_TRUSTED => set
                .update_snapshot(&prep(body), op == OP_SNAPSHOT_TRUSTED)
                .map(|_| ()),
            OP_TARGETS | OP_TARGETS_TRUSTED => set
                .update_targets(&prep(body), op == OP_TARGETS_TRUSTED)
                .map(|_| ()),
            _ => {
                let sel = body[0];
                let t = set.targets("targets").unwrap();
                let d = t.delegations.as_ref().unwrap();
                let role = match (&d.roles, &d.succinct_roles) {
                    (Some(r), _) => r[usize::from(sel) % r.len()].name.clone(),
                    (_, Some(s)) => s.bin_name(u64::from(sel) % s.bin_count()),
                    _ => unreachable!(),
                };
                loaded.push(role.clone());
                set.update_delegated_targets(
                    &prep(&body[1..]),
                    &role,
                    "targets",
                    op == OP_DELEGATED_TRUSTED,
                )
                .map(|_| ())
            }
        };
        match r {
            Ok(()) => ok += 1,
            Err(e) => eprintln!("  step {op}: {e}"),
        }
    }
    (ok, blobs.len())
}
