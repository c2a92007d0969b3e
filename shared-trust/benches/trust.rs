//! Throughput of the trust core on this machine, printed as a table.
//!
//! ```text
//! cargo bench -p shared-trust --bench trust
//! BENCH_PYTHON=$PWD/.venv/bin/python cargo bench -p shared-trust --bench trust
//! ```
//!
//! 1. ed25519 signatures verified per second: one by one (`Key::verify`,
//!    which decodes the key each time, and `PublicKey::verify` with a key
//!    decoded once) and batched (`crypto::ed25519_verify_batch`, 64 and
//!    1024 signatures per batch); ~300-byte messages, one core.
//! 2. Canonical JSON: `canonical::to_canonical` of the `signed` object of a
//!    targets role with 10,000 targets (MB/s of canonical output), and
//!    `Metadata::<Targets>::from_bytes` of the published file (MB/s of input:
//!    parse, canonicalize, typed view, validation).
//! 3. A repository with 16,384 succinct hashed bins (TAP 15, bit_length 14)
//!    and 4,096 targets spread over them, published once to a temporary
//!    directory; then a fresh `Updater` (`FileFetcher`, `file://` URLs,
//!    empty metadata directory) refreshes and loads every bin with one
//!    `get_targetinfo` per bin, as a mirror operator checking the whole
//!    repository would ("cold"); then a second `Updater` on the same
//!    directory does it again from the local cache ("warm"). Both with the
//!    client's metadata directory on disk (system temporary directory) and,
//!    where `/dev/shm` exists, on tmpfs: the difference is the `fsync` of
//!    every file the client persists.
//! 4. With `BENCH_PYTHON` set (a Python with `tuf==7.0.1` and
//!    `securesystemslib[crypto]`), the same repository loaded by python-tuf's
//!    ngclient through `bench/python_tuf_bins.py`, printed beside (3).
//!
//! `BENCH_QUICK=1` shortens every measurement (a smoke run, not figures).

use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::{json, Value};
use shared_trust::crypto::{self, Ed25519Signer, Key, PublicKey, Signer};
use shared_trust::metadata::{Metadata, TargetFile, Targets};
use shared_trust::repository::Repository;
use shared_trust::updater::{Config, Updater};
use shared_trust::{canonical, time as tuf_time, FileFetcher};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "common/table.rs"]
mod table;
use table::Table;

fn quick() -> bool {
    std::env::var_os("BENCH_QUICK").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Runs `f` (which does `per_call` operations) until `budget` has passed
/// (at least 3 calls); returns operations per second.
fn rate(budget: Duration, per_call: usize, mut f: impl FnMut()) -> f64 {
    f(); // warm-up
    let start = Instant::now();
    let mut calls = 0u64;
    while calls < 3 || start.elapsed() < budget {
        f();
        calls += 1;
    }
    (calls as f64 * per_call as f64) / start.elapsed().as_secs_f64()
}

fn budget() -> Duration {
    if quick() {
        Duration::from_millis(100)
    } else {
        Duration::from_secs(2)
    }
}

fn fmt_rate(r: f64) -> String {
    if r >= 100.0 {
        format!("{:.0}", r)
    } else {
        format!("{:.1}", r)
    }
}

/// Deterministic filler bytes (xorshift).
fn filler(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b'a' + (x % 26) as u8
        })
        .collect()
}

// ---------------------------------------------------------------- (1)

fn bench_ed25519(t: &mut Table) {
    t.section("ed25519 verification (~300-byte messages, 1 core)");
    const N: usize = 1024;
    let signers: Vec<Ed25519Signer> = (0..N)
        .map(|i| {
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
            Ed25519Signer::from_seed(&seed)
        })
        .collect();
    let msgs: Vec<Vec<u8>> = (0..N).map(|i| filler(i as u64, 300)).collect();
    let raw_sigs: Vec<Vec<u8>> = signers
        .iter()
        .zip(&msgs)
        .map(|(s, m)| s.sign(m).unwrap())
        .collect();
    let hex_sigs: Vec<String> = raw_sigs.iter().map(hex::encode).collect();
    let keys: Vec<Key> = signers.iter().map(|s| s.public_key().clone()).collect();
    let decoded: Vec<PublicKey> = keys.iter().map(|k| k.decode().unwrap()).collect();
    let dalek_keys: Vec<VerifyingKey> = decoded
        .iter()
        .map(|k| match k {
            PublicKey::Ed25519(vk) => *vk,
            _ => unreachable!(),
        })
        .collect();
    let dalek_sigs: Vec<Signature> = raw_sigs
        .iter()
        .map(|s| Signature::from_slice(s).unwrap())
        .collect();

    let mut i = 0;
    let r = rate(budget(), 1, || {
        keys[i % N].verify(&msgs[i % N], &hex_sigs[i % N]).unwrap();
        i += 1;
    });
    t.add(
        "Key::verify (hex key decoded each call)",
        fmt_rate(r),
        "sig/s",
        format!("{:.1} µs/sig", 1e6 / r),
    );
    let mut i = 0;
    let r = rate(budget(), 1, || {
        decoded[i % N]
            .verify(&msgs[i % N], &hex_sigs[i % N])
            .unwrap();
        i += 1;
    });
    t.add(
        "PublicKey::verify (key decoded once)",
        fmt_rate(r),
        "sig/s",
        format!("{:.1} µs/sig", 1e6 / r),
    );
    // For reference: the ed25519-dalek calls underneath (PublicKey::verify
    // uses verify_strict, which also rejects small-order keys and R points).
    let mut i = 0;
    let r = rate(budget(), 1, || {
        dalek_keys[i % N]
            .verify_strict(&msgs[i % N], &dalek_sigs[i % N])
            .unwrap();
        i += 1;
    });
    t.add(
        "  ed25519-dalek VerifyingKey::verify_strict",
        fmt_rate(r),
        "sig/s",
        format!("{:.1} µs/sig", 1e6 / r),
    );
    let mut i = 0;
    let r = rate(budget(), 1, || {
        use ed25519_dalek::Verifier;
        dalek_keys[i % N]
            .verify(&msgs[i % N], &dalek_sigs[i % N])
            .unwrap();
        i += 1;
    });
    t.add(
        "  ed25519-dalek VerifyingKey::verify (not strict)",
        fmt_rate(r),
        "sig/s",
        format!("{:.1} µs/sig", 1e6 / r),
    );

    for batch in [64usize, 1024] {
        let m: Vec<&[u8]> = msgs[..batch].iter().map(Vec::as_slice).collect();
        let r = rate(budget(), batch, || {
            crypto::ed25519_verify_batch(&m, &dalek_sigs[..batch], &dalek_keys[..batch]).unwrap();
        });
        t.add(
            format!("crypto::ed25519_verify_batch, batches of {batch}"),
            fmt_rate(r),
            "sig/s",
            format!("{:.1} µs/sig", 1e6 / r),
        );
    }
    // Both cores, each verifying its own batches of 1024.
    let m: Vec<&[u8]> = msgs.iter().map(Vec::as_slice).collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_thread: Vec<f64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (m, sigs, keys) = (&m, &dalek_sigs, &dalek_keys);
                s.spawn(move || {
                    rate(budget(), N, || {
                        crypto::ed25519_verify_batch(m, sigs, keys).unwrap();
                    })
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let r: f64 = per_thread.iter().sum();
    t.add(
        format!("  same, batches of 1024 on {threads} threads"),
        fmt_rate(r),
        "sig/s",
        "all cores together",
    );
}

// ---------------------------------------------------------------- (2)

fn big_targets(n: usize, now: i64) -> Targets {
    let mut t = Targets::new(1, now + 86_400 * 90);
    for i in 0..n {
        let name = format!(
            "{}-{i}",
            String::from_utf8(filler(i as u64, 4 + i % 12)).unwrap()
        );
        let path = match name.len() {
            1 => format!("crates/1/{name}"),
            2 => format!("crates/2/{name}"),
            3 => format!("crates/3/{}/{name}", &name[..1]),
            _ => format!("crates/{}/{}/{name}", &name[..2], &name[2..4]),
        };
        let content = filler(i as u64 + 7, 64);
        let info = TargetFile {
            length: 1_000 + (i as u64 * 37) % 90_000,
            hashes: [
                ("sha256".to_string(), crypto::sha256_hex(&content)),
                (
                    "sha512".to_string(),
                    crypto::HashAlgorithm::Sha512.hex_digest(&content),
                ),
            ]
            .into(),
            custom: Some(json!({
                "versions": 1 + i % 40,
                "yanked": i % 29 == 0,
                "publisher": format!("user-{}", i % 997),
            })),
            unknown_fields: BTreeMap::new(),
        };
        t.targets.insert(path, info);
    }
    t
}

fn bench_canonical(t: &mut Table) {
    const N: usize = 10_000;
    t.section(&format!(
        "canonical JSON, targets metadata with {N} targets (1 core)"
    ));
    let targets = big_targets(N, tuf_time::now_unix());
    let value: Value = serde_json::to_value(&targets).unwrap();
    let out_len = canonical::to_canonical(&value).unwrap().len();
    let r = rate(budget(), 1, || {
        black_box(canonical::to_canonical(black_box(&value)).unwrap());
    });
    t.add(
        "canonical::to_canonical(signed Value)",
        format!("{:.0}", r * out_len as f64 / 1e6),
        "MB/s",
        format!("{:.1} MB out, {:.1} ms/call", out_len as f64 / 1e6, 1e3 / r),
    );

    let signer = Ed25519Signer::from_seed(&[3; 32]);
    let mut md = Metadata::new(targets).unwrap();
    md.sign(&signer).unwrap();
    let bytes = md.to_bytes();
    let r = rate(budget(), 1, || {
        black_box(Metadata::<Targets>::from_bytes("targets", black_box(&bytes)).unwrap());
    });
    t.add(
        "Metadata::<Targets>::from_bytes (parse+canonical+typed)",
        format!("{:.0}", r * bytes.len() as f64 / 1e6),
        "MB/s",
        format!(
            "{:.1} MB in (pretty JSON), {:.1} ms/call",
            bytes.len() as f64 / 1e6,
            1e3 / r
        ),
    );
    let whole = 1e3 / r;
    let r = rate(budget(), 1, || {
        black_box(serde_json::from_slice::<Value>(black_box(&bytes)).unwrap());
    });
    t.add(
        "  of which serde_json::from_slice::<Value>",
        format!("{:.0}", r * bytes.len() as f64 / 1e6),
        "MB/s",
        format!(
            "{:.1} ms/call ({:.0}% of from_bytes)",
            1e3 / r,
            100.0 * (1e3 / r) / whole
        ),
    );
}

// ---------------------------------------------------------------- (3), (4)

struct BinRepo {
    _dir: tempfile::TempDir,
    path: PathBuf,
    root: Vec<u8>,
    /// One target path per bin, in bin order.
    paths: Vec<String>,
    /// How many of `paths` the bins list.
    listed: usize,
    bin_bytes: u64,
}

/// The repository (not yet signed), one target path per bin, and how
/// many of those paths the bins list.
fn make_bin_repo(bits: u32, n_targets: usize, now: i64) -> (Repository, Vec<String>, usize) {
    let bins = 1usize << bits;
    let mut repo = Repository::new(now, true);
    let online: Arc<dyn Signer> = Arc::new(Ed25519Signer::from_seed(&[11; 32]));
    for role in ["root", "timestamp", "snapshot", "targets"] {
        repo.add_key(role, online.clone()).unwrap();
    }
    let bin_key: Arc<dyn Signer> = Arc::new(Ed25519Signer::from_seed(&[12; 32]));
    repo.delegate_succinct("targets", bits, "bin", 1, vec![bin_key])
        .unwrap();
    let succinct = repo.targets["targets"]
        .delegations
        .as_ref()
        .and_then(|d| d.succinct_roles.clone())
        .unwrap();
    let bin_index = |path: &str| -> usize {
        let name = succinct.role_for_target(path);
        usize::from_str_radix(name.rsplit('-').next().unwrap(), 16).unwrap()
    };

    let mut paths: Vec<Option<String>> = vec![None; bins];
    for i in 0..n_targets {
        let path = format!(
            "crates/{}-{i}",
            String::from_utf8(filler(i as u64, 8)).unwrap()
        );
        let content = filler(i as u64 + 1, 200);
        let info = TargetFile {
            length: content.len() as u64,
            hashes: [("sha256".to_string(), crypto::sha256_hex(&content))].into(),
            custom: None,
            unknown_fields: BTreeMap::new(),
        };
        let role = repo.responsible_role(&path);
        repo.add_target_info(&role, &path, info).unwrap();
        let b = bin_index(&path);
        paths[b] = Some(path);
    }
    let listed = paths.iter().filter(|p| p.is_some()).count();
    let mut missing = bins - listed;
    let mut probe = 0u64;
    while missing > 0 {
        let p = format!("probe/{probe}");
        probe += 1;
        let b = bin_index(&p);
        if paths[b].is_none() {
            paths[b] = Some(p);
            missing -= 1;
        }
    }
    let paths = paths.into_iter().map(Option::unwrap).collect();
    (repo, paths, listed)
}

fn build_bin_repo(t: &mut Table, bits: u32, n_targets: usize) -> BinRepo {
    let bins = 1usize << bits;
    let now = tuf_time::now_unix();
    let (mut repo, paths, listed) = make_bin_repo(bits, n_targets, now);

    let dir = tempfile::Builder::new()
        .prefix("trust-bench-repo-")
        .tempdir()
        .unwrap();
    let path = dir.path().to_path_buf();
    let start = Instant::now();
    repo.publish(&path).unwrap();
    let took = start.elapsed();
    let root = std::fs::read(path.join("metadata/1.root.json")).unwrap();
    let mut bin_bytes = 0;
    let mut files = 0;
    for e in std::fs::read_dir(path.join("metadata")).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("1.bin-") {
            bin_bytes += e.metadata().unwrap().len();
        }
        files += 1;
    }
    let snapshot_len = std::fs::metadata(path.join("metadata/1.snapshot.json"))
        .unwrap()
        .len();
    t.add(
        format!("Repository::publish ({bins} bins, {n_targets} targets)"),
        format!("{:.2}", took.as_secs_f64()),
        "s",
        format!(
            "{files} files, snapshot {:.1} MB, bins {:.1} MB total",
            snapshot_len as f64 / 1e6,
            bin_bytes as f64 / 1e6
        ),
    );
    // The same repository signed in memory: what publish costs without I/O.
    let (mut again, _, _) = make_bin_repo(bits, n_targets, now);
    let start = Instant::now();
    let files = again.sign_changes().unwrap();
    let took = start.elapsed();
    t.add(
        "  of which Repository::sign_changes (sign+serialize)",
        format!("{:.2}", took.as_secs_f64()),
        "s",
        format!("{} files, no I/O", files.len()),
    );
    BinRepo {
        _dir: dir,
        path,
        root,
        paths,
        listed,
        bin_bytes,
    }
}

/// Refresh + one `get_targetinfo` per bin; returns (seconds, targets found).
fn load_all_bins(repo: &BinRepo, meta_dir: &Path) -> (f64, usize) {
    let url = format!("file://{}/metadata", repo.path.display());
    let now = tuf_time::now_unix();
    let start = Instant::now();
    let mut up = Updater::new(meta_dir, &url, FileFetcher, Config::default(), now).unwrap();
    up.refresh().unwrap();
    let mut found = 0;
    for p in &repo.paths {
        if up.get_targetinfo(p).unwrap().is_some() {
            found += 1;
        }
    }
    (start.elapsed().as_secs_f64(), found)
}

fn ratio_note(python: f64, rust: f64) -> String {
    if python >= rust {
        format!("shared-trust {:.1}x faster", python / rust)
    } else {
        format!("shared-trust {:.1}x slower", rust / python)
    }
}

/// Runs `bench/python_tuf_bins.py`; returns (cold, warm) seconds.
fn run_python(
    py: &std::ffi::OsStr,
    repo: &BinRepo,
    meta_dir: Option<&Path>,
) -> Result<(f64, f64), String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/python_tuf_bins.py");
    let mut cmd = Command::new(py);
    cmd.arg(&script).arg(&repo.path);
    if let Some(d) = meta_dir {
        cmd.arg("--metadata-dir").arg(d);
    }
    let o = cmd
        .output()
        .map_err(|e| format!("{}: {e}", Path::new(py).display()))?;
    if !o.status.success() {
        let err = String::from_utf8_lossy(&o.stderr);
        return Err(err.lines().last().unwrap_or("failed").to_string());
    }
    let text = String::from_utf8_lossy(&o.stdout);
    let get = |k: &str| -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .and_then(|v| v.trim().parse().ok())
    };
    let found = get("targets_found").unwrap_or(-1.0) as i64;
    if found != repo.listed as i64 {
        return Err(format!("found {found} targets, expected {}", repo.listed));
    }
    match (get("cold_seconds"), get("warm_seconds")) {
        (Some(c), Some(w)) => Ok((c, w)),
        _ => Err(format!("unreadable output: {text}")),
    }
}

fn bench_bins(t: &mut Table) {
    let bits = if quick() { 8 } else { 14 };
    let bins = 1usize << bits;
    let n_targets = bins / 4;
    t.section(&format!(
        "mirror operator: load all {bins} succinct bins (bit_length {bits}), file://, 1 core"
    ));
    let repo = build_bin_repo(t, bits, n_targets);
    let mb = repo.bin_bytes as f64 / 1e6;
    let shm = Path::new("/dev/shm");
    let places: Vec<(&str, Option<&Path>)> = if shm.is_dir() {
        vec![("disk", None), ("tmpfs", Some(shm))]
    } else {
        vec![("disk", None)]
    };
    let client_dir = |parent: Option<&Path>| {
        let mut b = tempfile::Builder::new();
        b.prefix("trust-bench-client-");
        match parent {
            Some(p) => b.tempdir_in(p),
            None => b.tempdir(),
        }
        .unwrap()
    };

    for &(place, parent) in &places {
        let dir = client_dir(parent);
        Updater::<FileFetcher>::bootstrap(dir.path(), &repo.root, tuf_time::now_unix()).unwrap();
        let (cold, found) = load_all_bins(&repo, dir.path());
        assert_eq!(found, repo.listed, "every listed target is found");
        let (warm, found) = load_all_bins(&repo, dir.path());
        assert_eq!(found, repo.listed);
        t.add(
            format!("shared-trust Updater, cold [{place}]"),
            format!("{cold:.2}"),
            "s",
            format!(
                "{:.0} bins/s, {:.1} MB/s of bins",
                bins as f64 / cold,
                mb / cold
            ),
        );
        t.add(
            format!("shared-trust Updater, warm (local cache) [{place}]"),
            format!("{warm:.2}"),
            "s",
            format!("{:.0} bins/s", bins as f64 / warm),
        );

        let py = match std::env::var_os("BENCH_PYTHON") {
            Some(py) if !py.is_empty() => py,
            _ => {
                t.add(
                    format!("python-tuf 7 ngclient [{place}]"),
                    "skipped".into(),
                    "",
                    "set BENCH_PYTHON to a python with tuf==7.0.1",
                );
                continue;
            }
        };
        let py_dir = client_dir(parent);
        match run_python(&py, &repo, Some(py_dir.path())) {
            Ok((pc, pw)) => {
                t.add(
                    format!("python-tuf 7 ngclient, cold [{place}]"),
                    format!("{pc:.2}"),
                    "s",
                    format!("{:.0} bins/s; {}", bins as f64 / pc, ratio_note(pc, cold)),
                );
                t.add(
                    format!("python-tuf 7 ngclient, warm (local cache) [{place}]"),
                    format!("{pw:.2}"),
                    "s",
                    format!("{:.0} bins/s; {}", bins as f64 / pw, ratio_note(pw, warm)),
                );
            }
            Err(e) => t.add(format!("python-tuf [{place}]"), "failed".into(), "", e),
        }
    }
}

/// The 1-minute load average, if the system says.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

fn main() {
    // `cargo bench` passes `--bench`; a name filter is not supported.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    eprintln!(
        "shared-trust benchmark, {cores} cores{}",
        if quick() { ", QUICK" } else { "" }
    );
    let load_before = loadavg();
    let mut t = Table::default();
    bench_ed25519(&mut t);
    bench_canonical(&mut t);
    bench_bins(&mut t);
    println!("\nshared-trust benchmark ({cores} cores; figures are single-threaded unless noted)");
    // Other processes skew every figure: say how busy the machine was.
    println!("load average before: {load_before}, after: {}", loadavg());
    t.print();
}
