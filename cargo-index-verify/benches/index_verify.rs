//! `index-sign` and `cargo index-verify` at full scale on this machine,
//! printed as a table.
//!
//! ```text
//! cargo bench -p cargo-index-verify --bench index_verify
//! INDEX_BENCH_DATA=DIR cargo bench -p cargo-index-verify --bench index_verify
//! ```
//!
//! 1. **The real crates.io index of 2019-11-10**
//!    (`crates-io-index-2019-11-10.tar.xz` from `../shared/data` relative to
//!    the workspace root, or from the directory `INDEX_BENCH_DATA`; the part
//!    is skipped with a message when it is absent), unpacked to a temporary
//!    directory and signed from scratch with `sign::init`. A root repository
//!    lists the crates repository's root as `crates-repository/root.json`
//!    and is copied to `INDEX/tuf/root-repository/`; a temporary
//!    `CARGO_HOME` pins its root. Then, page cache warm (every file read
//!    once, untimed), alternately: the **floor** (read every crate file,
//!    SHA-256 of every byte, every line parsed into a typed
//!    `{name, vers, cksum, yanked}`, on all cores) and the mirror-operator
//!    verification `mirror::verify_mirror` of the directory, each three
//!    times; medians and their ratio.
//! 2. **A synthetic index of today's size**: 190,000 crate files, ~1.9M
//!    lines, generated deterministically (xorshift, one seed per file) from
//!    the 2019 index: names from a character model of order 2 trained on
//!    its names (so index directories are shared as in a real index), the
//!    distribution of lines per file (scaled to ~10 lines per file) and of
//!    line lengths (fallback distributions without the tarball); written
//!    to a temporary directory, signed with `sign::init` and verified like
//!    (1).
//! 3. **Publish** on (2): `IndexSigner::open` once (untimed), then 50 times
//!    a new version appended to one crate file and `IndexSigner::publish`
//!    of that one change (timed): median time, new tree objects and bytes;
//!    for context, the cost of one durable small write on this disk and of
//!    cloning the signed tree.
//! 4. **A 300-dependency lockfile** against (2) as published by (3),
//!    served by a small HTTP/1.1 server in this process (a thread per
//!    connection, keep-alive, `ETag` / `If-None-Match`, requests and body
//!    bytes counted by kind of URL). 300 of the crates have real tiny
//!    `.crate` files whose `cksum` the index lists, and the index has a
//!    `config.json` with `dl`. A temporary `CARGO_HOME` replaces crates-io
//!    with the server (`[source.crates-io] replace-with`). Real cargo
//!    resolves and fetches the project once; then three rounds of: cargo
//!    fetching it cold with its `Cargo.lock` (the baseline), `cargo
//!    index-verify` (the binary, in project mode) and
//!    `verify::verify_registry` (the library, HTTP access) verifying the
//!    300 packages cold (no verifier state; cargo's caches full, as after
//!    any fetch). Then each once more, warm, nothing published since.
//!
//! Each figure is printed to stderr as it is measured and the whole table
//! to stdout at the end.

use cargo_index_verify::mirror::{self, MirrorReport};
use cargo_index_verify::sign::{self, IndexSigner, SignOptions};
use cargo_index_verify::transport::{HttpCache, IndexAccess, Traffic};
use cargo_index_verify::verify::{self, Options, Package, RegistryReport, RegistrySpec};
use flate2::write::GzEncoder;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use shared_trust::crypto::{sha256_hex, Ed25519Signer, Signer};
use shared_trust::fetcher::CurlFetcher;
use shared_trust::index::{self, Hash, Tree};
use shared_trust::repository::Repository;
use shared_trust::time::now_unix;
use std::collections::{BTreeMap, HashSet};
use std::fmt::Display;
use std::hint::black_box;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use trust_roots::pins::{self, PinLocations, PinSet};

#[path = "../../shared-trust/benches/common/table.rs"]
mod table;
use table::Table;

const TARBALL: &str = "crates-io-index-2019-11-10.tar.xz";
/// The registry URL `Cargo.lock` names for crates.io, and its sparse index.
const CRATES_IO: &str = "https://github.com/rust-lang/crates.io-index";
const CRATES_IO_SPARSE: &str = "https://index.crates.io/";
const TODAY_FILES: usize = 190_000;
const TODAY_LINES: usize = 1_900_000;
const DEPS: usize = 300;
const PUBLISHES: usize = 50;
const REPEAT: usize = 3;
/// Goals of the issue.
const RATIO_GOAL: f64 = 1.5;
const TODAY_VERIFY_GOAL: f64 = 6.0;
const SIGN_2019_GOAL: f64 = 5.0;
const SIGN_TODAY_GOAL: f64 = 30.0;
const PUBLISH_TIME_GOAL_MS: f64 = 10.0;
const PUBLISH_BYTES_GOAL: u64 = 64 * 1024;
const PER_DEP_GOAL: f64 = 2048.0;

// ---------------------------------------------------------------- helpers

fn must<T, E: Display>(r: Result<T, E>, what: &str) -> T {
    r.unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// Deterministic PRNG (xorshift64*).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[self.below(v.len())]
    }
}

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn secs(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64())
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

fn mb(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / 1e6)
}

fn mbs(bytes: u64, d: Duration) -> String {
    format!("{:.0} MB/s", bytes as f64 / 1e6 / d.as_secs_f64())
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "NOT MET"
    }
}

fn median(v: &[Duration]) -> Duration {
    let mut s = v.to_vec();
    s.sort();
    s[s.len() / 2]
}

fn all_runs(v: &[Duration]) -> String {
    let list: Vec<String> = v.iter().map(|d| secs(*d)).collect();
    format!("runs {} s", list.join(" / "))
}

/// Runs `f` on every item on all cores (each thread takes the next item),
/// results in item order.
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    par_map_n(items, threads(), f)
}

/// Threads for file creation and removal: on this disk they wait on the
/// journal far more than they compute.
const IO_THREADS: usize = 8;

/// [`par_map`] on `n` threads.
fn par_map_n<T: Sync, R: Send>(items: &[T], n: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let (f, next) = (&f, &next);
    let parts: Vec<Vec<(usize, R)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..n.max(1))
            .map(|_| {
                s.spawn(move || {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        out.push((i, f(item)));
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("worker panicked"))
            .collect()
    });
    let mut all: Vec<(usize, R)> = parts.into_iter().flatten().collect();
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, r)| r).collect()
}

fn data_dir() -> PathBuf {
    match std::env::var_os("INDEX_BENCH_DATA") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data")),
    }
}

fn copy_dir(from: &Path, to: &Path) {
    must(std::fs::create_dir_all(to), "mkdir");
    for e in must(std::fs::read_dir(from), "read_dir") {
        let e = must(e, "dir entry");
        let dst = to.join(e.file_name());
        if must(e.file_type(), "file type").is_dir() {
            copy_dir(&e.path(), &dst);
        } else {
            must(std::fs::copy(e.path(), &dst), "copy");
        }
    }
}

/// Removes a large tree, its subdirectories two levels down in parallel.
fn remove_tree(dir: &Path) {
    let mut units = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            units.extend(
                std::fs::read_dir(e.path())
                    .into_iter()
                    .flatten()
                    .flatten()
                    .map(|g| g.path()),
            );
        }
    }
    par_map_n(&units, IO_THREADS, |p| {
        let _ = if p.is_dir() {
            std::fs::remove_dir_all(p)
        } else {
            std::fs::remove_file(p)
        };
    });
    let _ = std::fs::remove_dir_all(dir);
}

/// Flushes the file system holding `dir`, so that a later timed `syncfs`
/// (in `sign::init`) does not pay for the bench's own writes.
fn flush(dir: &Path) {
    let _ = Command::new("sync").arg("-f").arg(dir).status();
}

// ---------------------------------------------------------------- floor

/// The fields of an index line the floor parses.
#[derive(Deserialize)]
struct IndexLine {
    name: String,
    vers: String,
    cksum: String,
    yanked: bool,
}

/// Per crate file: bytes and the length of each line.
type FileStats = (u64, Vec<usize>);

/// Read every file, SHA-256 every byte, parse every line into a typed
/// struct, on all cores.
fn floor(files: &[PathBuf]) -> Vec<FileStats> {
    par_map(files, |p| {
        let bytes = must(std::fs::read(p), "read");
        let digest: Hash = Sha256::digest(&bytes).into();
        let mut lens = Vec::new();
        for line in bytes.split(|&b| b == b'\n') {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let l: IndexLine = must(serde_json::from_slice(line), "index line");
            black_box((&l.name, &l.vers, &l.cksum, l.yanked));
            lens.push(line.len());
        }
        black_box(digest);
        (bytes.len() as u64, lens)
    })
}

fn warm(files: &[PathBuf]) {
    for p in files {
        black_box(must(std::fs::read(p), "read"));
    }
}

// ---------------------------------------------------------------- signing

/// A signed index: its directory, the signer's keys, and the root of the
/// root repository (what a client pins).
struct Signed {
    dir: PathBuf,
    keys: PathBuf,
    pin_root: Vec<u8>,
}

/// `sign::init` (timed) and the root repository beside it (untimed).
fn sign_index(t: &mut Table, dir: &Path, work: &Path, goal: f64) -> Signed {
    flush(dir);
    let keys = work.join("keys");
    let now = now_unix();
    let start = Instant::now();
    let (report, crates_root) = must(
        sign::init(dir, &keys, &SignOptions::default(), now),
        "sign::init",
    );
    let el = start.elapsed();
    t.add(
        "sign::init, from scratch",
        secs(el),
        "s",
        format!(
            "goal < {goal:.0} s: {}; depth {}, {} objects, {} MB",
            verdict(el.as_secs_f64() < goal),
            report.commitment.depth,
            thousands(report.objects as u64),
            mb(report.object_bytes)
        ),
    );
    let mut repo = Repository::new(now, true);
    for role in ["root", "targets", "snapshot", "timestamp"] {
        let k: Arc<dyn Signer> = Arc::new(Ed25519Signer::generate());
        must(repo.add_key(role, k), "root repository key");
    }
    must(
        repo.add_target(
            "targets",
            trust_roots::chain::CRATES_ROOT_TARGET,
            &crates_root,
            None,
        ),
        "root repository target",
    );
    let published = work.join("root-repository");
    must(repo.publish(&published), "root repository publish");
    for sub in ["metadata", "targets"] {
        copy_dir(
            &published.join(sub),
            &dir.join(cargo_index_verify::binding::ROOT_REPOSITORY_DIR)
                .join(sub),
        );
    }
    let pin_root = repo.root_bytes().expect("root repository root").to_vec();
    Signed {
        dir: dir.to_path_buf(),
        keys,
        pin_root,
    }
}

fn pin_locations(home: &Path) -> PinLocations {
    PinLocations::new(home, home.join("no-system-pins.json"))
}

/// A `CARGO_HOME` whose user pins trust the root repository for crates.io.
fn pinned_home(home: &Path, pin_root: &[u8]) {
    must(std::fs::create_dir_all(home), "mkdir home");
    must(
        pins::add_user_pin(
            &pin_locations(home),
            "crates-io",
            &[CRATES_IO.to_string(), CRATES_IO_SPARSE.to_string()],
            pin_root,
            false,
        ),
        "add_user_pin",
    );
}

fn verify_dir(dir: &Path, home: &Path) -> MirrorReport {
    let pins = must(PinSet::load(&pin_locations(home)), "pins");
    let opts = Options {
        cargo_home: home.to_path_buf(),
        now: now_unix(),
        offline: false,
        refresh: true,
    };
    let r = must(
        mirror::verify_mirror(
            dir,
            vec![CRATES_IO.to_string()],
            &[],
            &pins,
            &opts,
            threads(),
            &|_| {},
        ),
        "verify_mirror",
    );
    assert!(
        r.registry.failures.is_empty() && r.registry.commitment.is_some(),
        "mirror verification failed: {:#?}",
        r.registry.failures
    );
    r
}

/// Floor and mirror verification of a signed index, alternately.
fn floor_and_verify(
    t: &mut Table,
    s: &Signed,
    home: &Path,
    goal_secs: Option<f64>,
) -> Vec<FileStats> {
    pinned_home(home, &s.pin_root);
    let scan = must(sign::scan_index(&s.dir), "scan");
    let files: Vec<PathBuf> = scan.files.values().cloned().collect();
    // Page cache warm for both: every crate file and tree object read once.
    warm(&files);
    let mut objects = Vec::new();
    walk_files(&s.dir.join("tuf"), &mut objects);
    warm(&objects);

    let mut floors = Vec::new();
    let mut verifies = Vec::new();
    let mut stats = Vec::new();
    let mut report = None;
    let mut walks = Vec::new();
    for _ in 0..REPEAT {
        let start = Instant::now();
        let mut listed = Vec::new();
        list_crate_files(&s.dir, true, &mut listed);
        walks.push(start.elapsed());
        assert_eq!(listed.len(), files.len(), "crate files listed");
        let start = Instant::now();
        stats = floor(&files);
        floors.push(start.elapsed());
        let start = Instant::now();
        report = Some(verify_dir(&s.dir, home));
        verifies.push(start.elapsed());
    }
    let report = report.expect("a verification ran");
    assert_eq!(report.files, files.len(), "files verified");
    let total: u64 = stats.iter().map(|s| s.0).sum();
    let lines: usize = stats.iter().map(|s| s.1.len()).sum();
    t.add("crate files", thousands(files.len() as u64), "", "");
    t.add("lines", thousands(lines as u64), "", "");
    t.add("bytes of crate files", mb(total), "MB", "");
    let (f, v) = (median(&floors), median(&verifies));
    let n = threads();
    t.add(
        format!("floor: read + SHA-256 + typed parse, {n} thr, median"),
        secs(f),
        "s",
        format!("{}; {}", mbs(total, f), all_runs(&floors)),
    );
    let mut note = format!("{}; {}", mbs(total, v), all_runs(&verifies));
    if let Some(goal) = goal_secs {
        note = format!(
            "goal < {goal:.0} s: {}; {note}",
            verdict(v.as_secs_f64() < goal)
        );
    }
    t.add(
        format!("mirror::verify_mirror, {n} threads, median"),
        secs(v),
        "s",
        note,
    );
    let ratio = v.as_secs_f64() / f.as_secs_f64();
    t.add(
        "ratio verify / floor",
        format!("{ratio:.2}"),
        "x",
        format!(
            "goal <= {RATIO_GOAL}x: {} (the floor reads a list made beforehand)",
            verdict(ratio <= RATIO_GOAL)
        ),
    );
    let walk = median(&walks);
    t.add(
        "  ratio if the floor also walks the directory",
        format!("{:.2}", v.as_secs_f64() / (f + walk).as_secs_f64()),
        "x",
        format!("a plain read_dir walk, 1 thread: {} s", secs(walk)),
    );
    breakdown(
        t,
        &s.dir,
        report.registry.commitment.as_ref().map_or(4, |c| c.depth),
    );
    stats
}

/// Where `verify_mirror`'s time goes, one run each.
fn breakdown(t: &mut Table, root: &Path, depth: u8) {
    let n = threads();
    let start = Instant::now();
    let scan = must(sign::scan_index(root), "scan");
    t.add(
        "  of which: sign::scan_index (directory walk)",
        secs(start.elapsed()),
        "s",
        "",
    );
    let start = Instant::now();
    let hashed = must(sign::hash_files(&scan.files, n), "hash_files");
    t.add(
        format!("  of which: sign::hash_files, {n} threads"),
        secs(start.elapsed()),
        "s",
        "read + crate_file_hash",
    );
    let start = Instant::now();
    let map: BTreeMap<String, Hash> = hashed.into_iter().collect();
    black_box(must(Tree::build(depth, map.clone()), "build"));
    t.add(
        "  of which: BTreeMap + clone + Tree::build",
        secs(start.elapsed()),
        "s",
        "",
    );
}

/// Every crate file of an index directory (not `tuf/`, `config.json` or
/// dot files), as any verifier must list them.
fn list_crate_files(dir: &Path, top: bool, out: &mut Vec<PathBuf>) {
    for e in must(std::fs::read_dir(dir), "read_dir").flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || (top && (name == "tuf" || name == "config.json")) {
            continue;
        }
        match e.file_type() {
            Ok(ft) if ft.is_dir() => list_crate_files(&e.path(), false, out),
            Ok(ft) if ft.is_file() => out.push(e.path()),
            _ => {}
        }
    }
}

fn walk_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        match e.file_type() {
            Ok(ft) if ft.is_dir() => walk_files(&p, out),
            Ok(ft) if ft.is_file() => out.push(p),
            _ => {}
        }
    }
}

// ---------------------------------------------------------------- part 1

/// Distributions taken from an index.
struct Shape {
    lines_per_file: Vec<usize>,
    line_lengths: Vec<usize>,
    name_lengths: Vec<usize>,
    /// Crate names (lower case), for the name model.
    names: Vec<String>,
}

fn real_index(t: &mut Table, work: &Path) -> Option<Shape> {
    t.section("1. crates.io index 2019-11-10 (real), mirror mode");
    let tarball = data_dir().join(TARBALL);
    if !tarball.is_file() {
        eprintln!(
            "SKIP real-index part: {TARBALL} not found in ../shared/data (or INDEX_BENCH_DATA)"
        );
        t.add("skipped: tarball absent", "-".into(), "", "");
        return None;
    }
    let dir = work.join("index-2019");
    must(std::fs::create_dir_all(&dir), "mkdir");
    let start = Instant::now();
    let status = must(
        Command::new("tar")
            .arg("-xJf")
            .arg(&tarball)
            .arg("-C")
            .arg(&dir)
            .status(),
        "run tar",
    );
    assert!(status.success(), "tar -xJf failed: {status}");
    t.add(
        "unpack (tar -xJf, untimed part)",
        secs(start.elapsed()),
        "s",
        "",
    );
    let signed = sign_index(t, &dir, &work.join("sign-2019"), SIGN_2019_GOAL);
    let stats = floor_and_verify(t, &signed, &work.join("home-2019"), None);
    let scan = must(sign::scan_index(&dir), "scan");
    let names: Vec<String> = scan
        .files
        .keys()
        .filter_map(|p| p.rsplit('/').next().map(str::to_string))
        .collect();
    let name_lengths = names.iter().map(String::len).collect();
    let lines_per_file = stats.iter().map(|s| s.1.len()).filter(|&n| n > 0).collect();
    let line_lengths = stats.into_iter().flat_map(|s| s.1).collect();
    Some(Shape {
        lines_per_file,
        line_lengths,
        name_lengths,
        names,
    })
}

fn fallback_shape() -> Shape {
    let mut rng = Rng::new(7);
    Shape {
        lines_per_file: (0..10_000)
            .map(|_| 1 + (rng.unit().ln() / 0.85f64.ln()) as usize)
            .collect(),
        line_lengths: (0..10_000).map(|_| 200 + rng.below(1300)).collect(),
        name_lengths: (0..10_000).map(|_| 3 + rng.below(18)).collect(),
        names: Vec::new(),
    }
}

// ---------------------------------------------------------------- part 2

/// A crate of the lockfile with a real `.crate` file.
#[derive(Clone)]
struct CrateFile {
    name: String,
    version: String,
    bytes: Vec<u8>,
    cksum: String,
}

/// A tiny but real `.crate`: `NAME-VERSION/Cargo.toml` and `src/lib.rs`.
fn make_crate(name: &str, version: &str) -> Vec<u8> {
    let manifest =
        format!("[package]\nname = \"{name}\"\nversion = \"{version}\"\nedition = \"2021\"\n");
    let lib = format!("//! {name} {version}\n");
    let mut tar = tar::Builder::new(Vec::new());
    for (path, data) in [("Cargo.toml", manifest), ("src/lib.rs", lib)] {
        let mut h = tar::Header::new_gnu();
        must(h.set_path(format!("{name}-{version}/{path}")), "tar path");
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_500_000_000);
        h.set_cksum();
        must(tar.append(&h, data.as_bytes()), "tar append");
    }
    let raw = must(tar.into_inner(), "tar finish");
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::default());
    must(gz.write_all(&raw), "gzip");
    must(gz.finish(), "gzip finish")
}

const RESERVED: [&str; 12] = [
    "static", "struct", "unsafe", "return", "typeof", "unsized", "virtual", "override", "continue",
    "abstract", "extern", "macro",
];

/// Unique lower-case crate names. With real names, from a character
/// model of order 2 trained on them, so that names, and therefore index
/// directories, share prefixes as real ones do (`se/rd/`, `ru/st/`);
/// without, uniform letters with the fallback lengths.
fn gen_names(shape: &Shape, n: usize) -> Vec<String> {
    const START: u8 = b'^';
    const END: u8 = b'$';
    let mut model: std::collections::HashMap<[u8; 2], Vec<u8>> = Default::default();
    for name in &shape.names {
        let mut ctx = [START, START];
        for &c in name.as_bytes().iter().chain([END].iter()) {
            model.entry(ctx).or_default().push(c);
            ctx = [ctx[1], c];
        }
    }
    let mut rng = Rng::new(11);
    let mut seen = HashSet::with_capacity(n);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let mut s = String::new();
        if model.is_empty() {
            let len = rng.pick(&shape.name_lengths).clamp(1, 64);
            for i in 0..len {
                let c = if i > 0 && rng.below(10) == 0 {
                    (b'0' + rng.below(10) as u8) as char
                } else {
                    (b'a' + rng.below(26) as u8) as char
                };
                s.push(c);
            }
        } else {
            let mut ctx = [START, START];
            while let Some(next) = model.get(&ctx) {
                let c = rng.pick(next);
                if c == END || s.len() == 64 {
                    break;
                }
                s.push(c as char);
                ctx = [ctx[1], c];
            }
        }
        if index::valid_path(&index::index_path(&s)) && seen.insert(s.clone()) {
            out.push(s);
        }
    }
    out
}

/// Increasing versions, one per line.
fn gen_versions(rng: &mut Rng, n: usize) -> Vec<String> {
    let (mut major, mut minor, mut patch) = (0u32, 1u32, 0u32);
    let mut out = Vec::with_capacity(n);
    for k in 0..n {
        if k > 0 {
            match rng.below(40) {
                0 => (major, minor, patch) = (major + 1, 0, 0),
                1..=6 => (minor, patch) = (minor + 1, 0),
                _ => patch += 1,
            }
        }
        out.push(format!("{major}.{minor}.{patch}"));
    }
    out
}

/// One index line of about `len` bytes, shaped like a real one. With
/// `fixed`, a line cargo can use: no dependencies, that cksum, not yanked.
fn synth_line(
    rng: &mut Rng,
    names: &[String],
    name: &str,
    vers: &str,
    len: usize,
    fixed: Option<&str>,
    out: &mut Vec<u8>,
) {
    let start = out.len();
    let _ = write!(out, r#"{{"name":"{name}","vers":"{vers}","deps":["#);
    if fixed.is_none() {
        let mut first = true;
        // A dependency is ~130 bytes, the tail ~120.
        while out.len() - start + 250 < len {
            if !first {
                out.push(b',');
            }
            first = false;
            let dep = &names[rng.below(names.len())];
            let _ = write!(
                out,
                r#"{{"name":"{dep}","req":"^{}.{}","features":[],"optional":{},"default_features":true,"target":null,"kind":"{}"}}"#,
                rng.below(5),
                rng.below(30),
                rng.below(4) == 0,
                if rng.below(5) == 0 { "dev" } else { "normal" }
            );
        }
    }
    let cksum = match fixed {
        Some(c) => c.to_string(),
        None => (0..4).map(|_| format!("{:016x}", rng.next())).collect(),
    };
    let yanked = fixed.is_none() && rng.below(30) == 0;
    let _ = writeln!(
        out,
        r#"],"cksum":"{cksum}","features":{{}},"yanked":{yanked}}}"#
    );
}

struct Synthetic {
    dir: PathBuf,
    names: Vec<String>,
    /// Indices of the lockfile's crates.
    chosen: HashSet<usize>,
    crates: Vec<CrateFile>,
}

fn synthetic(t: &mut Table, shape: &Shape, from_real: bool, work: &Path) -> Synthetic {
    t.section(&format!(
        "2. synthetic index of today's size ({} distribution), mirror mode",
        if from_real { "2019" } else { "fallback" }
    ));
    let start = Instant::now();
    let names = gen_names(shape, TODAY_FILES);
    let mut rng = Rng::new(300);
    let mut chosen = HashSet::new();
    while chosen.len() < DEPS {
        let i = rng.below(names.len());
        let n = &names[i];
        if n.len() >= 6
            && n.starts_with(|c: char| c.is_ascii_lowercase())
            && n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && !RESERVED.contains(&n.as_str())
        {
            chosen.insert(i);
        }
    }
    let mean =
        shape.lines_per_file.iter().sum::<usize>() as f64 / shape.lines_per_file.len() as f64;
    let scale = (TODAY_LINES as f64 / TODAY_FILES as f64) / mean;
    let root = work.join("served");
    let dir = root.join("index");
    let ids: Vec<usize> = (0..TODAY_FILES).collect();
    let made = par_map_n(&ids, IO_THREADS, |&i| {
        let mut rng = Rng::new(1_000_003 + i as u64);
        let name = &names[i];
        let base = rng.pick(&shape.lines_per_file) as f64 * scale;
        let n = (base.floor() as usize + usize::from(rng.unit() < base.fract())).max(1);
        let versions = gen_versions(&mut rng, n);
        let krate = chosen.contains(&i).then(|| {
            let version = versions[n - 1].clone();
            let bytes = make_crate(name, &version);
            CrateFile {
                name: name.clone(),
                cksum: sha256_hex(&bytes),
                version,
                bytes,
            }
        });
        let mut content = Vec::new();
        for (k, v) in versions.iter().enumerate() {
            let len = rng.pick(&shape.line_lengths);
            let fixed = krate
                .as_ref()
                .filter(|_| k + 1 == n)
                .map(|c| c.cksum.as_str());
            synth_line(&mut rng, &names, name, v, len, fixed, &mut content);
        }
        let p = dir.join(index::index_path(name));
        if let Some(parent) = p.parent() {
            must(std::fs::create_dir_all(parent), "mkdir");
        }
        must(std::fs::write(&p, &content), "write crate file");
        (content.len() as u64, n, krate)
    });
    let gen = start.elapsed();
    let dirs = names
        .iter()
        .map(|n| {
            let p = index::index_path(n);
            p[..p.rfind('/').unwrap_or(0)].to_string()
        })
        .collect::<HashSet<_>>()
        .len();
    let total: u64 = made.iter().map(|m| m.0).sum();
    let lines: usize = made.iter().map(|m| m.1).sum();
    let crates: Vec<CrateFile> = made.into_iter().filter_map(|m| m.2).collect();
    t.add(
        "generated and written to disk",
        secs(gen),
        "s",
        format!(
            "{} files in {} directories, {} lines, {} MB (untimed part)",
            thousands(TODAY_FILES as u64),
            thousands(dirs as u64),
            thousands(lines as u64),
            mb(total)
        ),
    );
    Synthetic {
        dir,
        names,
        chosen,
        crates,
    }
}

// ---------------------------------------------------------------- part 3

fn metadata_sizes(dir: &Path) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    if let Ok(rd) = std::fs::read_dir(dir.join(cargo_index_verify::binding::METADATA_DIR)) {
        for e in rd.flatten() {
            let len = e.metadata().map_or(0, |m| m.len());
            out.insert(e.file_name().to_string_lossy().into_owned(), len);
        }
    }
    out
}

fn publish(t: &mut Table, s: &Signed, syn: &Synthetic) {
    t.section("3. publish on today's size: IndexSigner::publish, one changed file");
    let start = Instant::now();
    let mut signer = must(
        IndexSigner::open(
            &s.dir,
            &s.keys,
            SignOptions::default().lifetimes,
            now_unix(),
        ),
        "IndexSigner::open",
    );
    t.add(
        "IndexSigner::open (untimed part)",
        secs(start.elapsed()),
        "s",
        "rebuilds the tree from its objects",
    );
    let mut rng = Rng::new(4242);
    let mut times = Vec::new();
    let mut bytes = Vec::new();
    let mut objects = Vec::new();
    let mut meta_bytes = Vec::new();
    for k in 0..PUBLISHES {
        let i = loop {
            let i = rng.below(syn.names.len());
            if !syn.chosen.contains(&i) {
                break i;
            }
        };
        let name = &syn.names[i];
        let path = s.dir.join(index::index_path(name));
        let mut line = Vec::new();
        let len = 300 + rng.below(900);
        synth_line(
            &mut rng,
            &syn.names,
            name,
            &format!("{}.0.0", 100 + k),
            len,
            None,
            &mut line,
        );
        let mut f = must(
            std::fs::OpenOptions::new().append(true).open(&path),
            "open crate file",
        );
        must(f.write_all(&line), "append");
        drop(f);
        let changes = must(
            signer.changes_for(std::slice::from_ref(name)),
            "changes_for",
        );
        assert_eq!(changes.len(), 1, "one changed file");
        signer.set_time(now_unix());
        let before = metadata_sizes(&s.dir);
        let start = Instant::now();
        let r = must(signer.publish(changes), "publish").expect("a change was published");
        times.push(start.elapsed());
        let after = metadata_sizes(&s.dir);
        meta_bytes.push(
            after
                .iter()
                .filter(|(n, l)| before.get(*n) != Some(l) || n.as_str() == "timestamp.json")
                .map(|(_, l)| *l)
                .sum::<u64>(),
        );
        bytes.push(r.object_bytes);
        objects.push(r.objects);
    }
    // What one durable small write costs on this disk (each publish makes
    // several: objects, then metadata).
    let probe = s.dir.parent().expect("parent").join("fsync-probe");
    let mut fsyncs = Vec::new();
    for i in 0..20 {
        let start = Instant::now();
        must(
            shared_trust::store::write_atomic(&probe, format!("{i:0>600}").as_bytes()),
            "probe",
        );
        fsyncs.push(start.elapsed());
    }
    let _ = std::fs::remove_file(&probe);
    // `publish` works on a copy of the tree, to stay unchanged on failure.
    let (mut clones, mut drops) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        let start = Instant::now();
        let copy = black_box(signer.tree().clone());
        clones.push(start.elapsed());
        let start = Instant::now();
        drop(copy);
        drops.push(start.elapsed());
    }
    let mut sorted = times.clone();
    sorted.sort();
    let med = sorted[PUBLISHES / 2];
    t.add(
        format!("publish time, median of {PUBLISHES}"),
        ms(med),
        "ms",
        format!(
            "goal < {PUBLISH_TIME_GOAL_MS:.0} ms: {}; min {} ms, max {} ms",
            verdict(med.as_secs_f64() * 1e3 < PUBLISH_TIME_GOAL_MS),
            ms(sorted[0]),
            ms(sorted[PUBLISHES - 1])
        ),
    );
    t.add(
        "  one write_atomic (write + fsync + rename), median",
        ms(median(&fsyncs)),
        "ms",
        "of 20 on this disk; a publish makes depth + 6 of them",
    );
    t.add(
        "  Tree::clone of the signed tree, median of 5",
        ms(median(&clones)),
        "ms",
        "reference: what cloning the tree would cost (publish updates it in place)",
    );
    t.add(
        "  dropping such a tree, median of 5",
        ms(median(&drops)),
        "ms",
        "reference: what dropping a copy would cost",
    );
    bytes.sort();
    objects.sort();
    meta_bytes.sort();
    let max = bytes[PUBLISHES - 1];
    t.add(
        "new tree objects per publish",
        objects[PUBLISHES / 2].to_string(),
        "",
        format!("min {}, max {}", objects[0], objects[PUBLISHES - 1]),
    );
    t.add(
        "new object bytes per publish, median",
        thousands(bytes[PUBLISHES / 2]),
        "B",
        format!(
            "goal < 64 KB: {} (max {} B)",
            verdict(max < PUBLISH_BYTES_GOAL),
            thousands(max)
        ),
    );
    t.add(
        "signed metadata written per publish, median",
        thousands(meta_bytes[PUBLISHES / 2]),
        "B",
        "new index/snapshot versions + timestamp.json",
    );
}

// ---------------------------------------------------------------- HTTP

#[derive(Clone, Debug, Default)]
struct KindStats {
    requests: u64,
    not_modified: u64,
    not_found: u64,
    bytes: u64,
}

#[derive(Default)]
struct Stats {
    kinds: Mutex<BTreeMap<&'static str, KindStats>>,
    connections: AtomicU64,
}

/// What one phase cost on the wire.
struct Wire {
    kinds: BTreeMap<&'static str, KindStats>,
    connections: u64,
}

impl Wire {
    fn requests(&self) -> u64 {
        self.kinds.values().map(|k| k.requests).sum()
    }
    fn bytes_of(&self, pred: impl Fn(&str) -> bool) -> u64 {
        self.kinds
            .iter()
            .filter(|(k, _)| pred(k))
            .map(|(_, v)| v.bytes)
            .sum()
    }
    fn summary(&self) -> String {
        self.kinds
            .iter()
            .map(|(k, v)| {
                let mut s = format!("{} {k}", v.requests);
                if v.not_modified > 0 || v.not_found > 0 {
                    s.push_str(&format!(" ({} 304, {} 404)", v.not_modified, v.not_found));
                }
                s
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl Stats {
    fn take(&self) -> Wire {
        let kinds = std::mem::take(&mut *self.kinds.lock().expect("stats"));
        Wire {
            kinds,
            connections: self.connections.swap(0, Ordering::Relaxed),
        }
    }
}

const KIND_TREE: &str = "tuf/tree objects";
const KIND_META: &str = "tuf/metadata";
const KIND_ROOT_META: &str = "tuf/root-repository/metadata";
const KIND_ROOT_TARGETS: &str = "tuf/root-repository/targets";
const KIND_FILES: &str = "crate files";
const KIND_CONFIG: &str = "config.json";
const KIND_DL: &str = ".crate downloads";

fn kind_of(path: &str) -> &'static str {
    if let Some(rest) = path.strip_prefix("/index/") {
        if rest.starts_with("tuf/tree/") {
            KIND_TREE
        } else if rest.starts_with("tuf/metadata/") {
            KIND_META
        } else if rest.starts_with("tuf/root-repository/metadata/") {
            KIND_ROOT_META
        } else if rest.starts_with("tuf/root-repository/") {
            KIND_ROOT_TARGETS
        } else if rest == "config.json" {
            KIND_CONFIG
        } else {
            KIND_FILES
        }
    } else if path.starts_with("/dl/") {
        KIND_DL
    } else {
        "other"
    }
}

fn is_tuf(kind: &str) -> bool {
    kind.starts_with("tuf/")
}

/// A static file server for the bench: HTTP/1.1, keep-alive, `ETag`.
struct Server {
    addr: SocketAddr,
    stats: Arc<Stats>,
    stop: Arc<AtomicBool>,
    accept: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(root: PathBuf) -> Server {
        let listener = must(TcpListener::bind("127.0.0.1:0"), "bind");
        let addr = must(listener.local_addr(), "local addr");
        let stats = Arc::new(Stats::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (stats.clone(), stop.clone());
        let accept = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if sp.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                st.connections.fetch_add(1, Ordering::Relaxed);
                let (root, st) = (root.clone(), st.clone());
                std::thread::spawn(move || {
                    let _ = serve(conn, &root, &st);
                });
            }
        });
        Server {
            addr,
            stats,
            stop,
            accept: Some(accept),
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn serve(conn: TcpStream, root: &Path, stats: &Stats) -> std::io::Result<()> {
    conn.set_nodelay(true)?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut out = conn;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let request = line.trim_end().to_string();
        if request.is_empty() {
            continue;
        }
        let mut if_none_match = None;
        let mut close = request.ends_with("HTTP/1.0");
        let mut body_len = 0usize;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h)? == 0 {
                return Ok(());
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((name, value)) = h.split_once(':') {
                let value = value.trim();
                if name.eq_ignore_ascii_case("if-none-match") {
                    if_none_match = Some(value.to_string());
                } else if name.eq_ignore_ascii_case("connection") {
                    close = value.eq_ignore_ascii_case("close");
                } else if name.eq_ignore_ascii_case("content-length") {
                    body_len = value.parse().unwrap_or(0);
                }
            }
        }
        if body_len > 0 {
            let mut sink = vec![0; body_len];
            reader.read_exact(&mut sink)?;
        }
        let mut parts = request.split(' ');
        let method = parts.next().unwrap_or("");
        let target = parts.next().unwrap_or("/");
        let path = target.split(['?', '#']).next().unwrap_or("/");
        let path = percent_decode(path).unwrap_or_default();
        let kind = kind_of(&path);
        let safe = path.starts_with('/')
            && !path[1..]
                .split('/')
                .any(|p| p.is_empty() || p == "." || p == "..");
        let file = root.join(path.trim_start_matches('/'));
        let meta = std::fs::metadata(&file)
            .ok()
            .filter(|m| safe && m.is_file());
        let mut head = Vec::new();
        let mut body = Vec::new();
        let (mut not_modified, mut not_found) = (false, false);
        match meta {
            None => {
                not_found = true;
                body.extend_from_slice(b"not found\n");
                let _ = write!(
                    head,
                    "HTTP/1.1 404 Not Found\r\nContent-Length: {}\r\nContent-Type: text/plain\r\n",
                    body.len()
                );
            }
            Some(m) => {
                let mtime = m
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos());
                let etag = format!("\"{:x}-{:x}\"", m.len(), mtime);
                if if_none_match.as_deref() == Some(etag.as_str()) {
                    not_modified = true;
                    let _ = write!(head, "HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\n");
                } else {
                    body = std::fs::read(&file)?;
                    let _ = write!(
                        head,
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nETag: {etag}\r\nContent-Type: application/octet-stream\r\n",
                        body.len()
                    );
                }
            }
        }
        if method == "HEAD" {
            body.clear();
        }
        let _ = write!(
            head,
            "Connection: {}\r\n\r\n",
            if close { "close" } else { "keep-alive" }
        );
        {
            let mut kinds = stats.kinds.lock().expect("stats");
            let k = kinds.entry(kind).or_default();
            k.requests += 1;
            k.bytes += body.len() as u64;
            k.not_modified += u64::from(not_modified);
            k.not_found += u64::from(not_found);
        }
        head.extend_from_slice(&body);
        out.write_all(&head)?;
        if close {
            return Ok(());
        }
    }
}

// ---------------------------------------------------------------- part 4

fn cargo_bin() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn run(cmd: &mut Command, what: &str) -> (Output, Duration) {
    let start = Instant::now();
    let out = must(cmd.output(), what);
    let el = start.elapsed();
    (out, el)
}

fn check(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

struct LibRun {
    report: RegistryReport,
    time: Duration,
    chain: Duration,
    traffic: (u64, u64),
}

struct World {
    server: Server,
    home: PathBuf,
    project: PathBuf,
    base: String,
}

impl World {
    fn cargo(&self, args: &[&str]) -> Command {
        let mut c = Command::new(cargo_bin());
        c.args(args)
            .current_dir(&self.project)
            .env("CARGO_HOME", &self.home)
            .env("CARGO_TERM_COLOR", "never")
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("CARGO_BUILD_TARGET_DIR")
            .env_remove("CARGO_REGISTRIES_CRATES_IO_PROTOCOL")
            .env_remove("CARGO_NET_OFFLINE");
        c
    }

    fn verifier(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_cargo-index-verify"));
        c.args(["index-verify", "--format", "json"])
            .current_dir(&self.project)
            .env("CARGO_HOME", &self.home)
            .env("CARGO", cargo_bin())
            .env(pins::SYSTEM_PINS_ENV, self.home.join("no-system-pins.json"))
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("CARGO_NET_OFFLINE");
        c
    }

    /// Forgets everything the verifier keeps (trusted state, object and
    /// HTTP caches), keeping the pins.
    fn reset_verifier(&self) {
        let tuf = self.home.join("tuf");
        for e in must(std::fs::read_dir(&tuf), "read tuf").flatten() {
            let n = e.file_name();
            if n == "pins" || n == "pins.json" {
                continue;
            }
            let p = e.path();
            if p.is_dir() {
                must(std::fs::remove_dir_all(&p), "rm state");
            } else {
                must(std::fs::remove_file(&p), "rm state");
            }
        }
    }

    /// Forgets cargo's registry caches (index, .crate files, sources).
    fn reset_cargo(&self) {
        let _ = std::fs::remove_dir_all(self.home.join("registry"));
        let _ = std::fs::remove_dir_all(self.project.join("target"));
    }

    /// The library's verification: report, wall time, time until the
    /// first package (pin, TUF chain, commitment), the verifier's own
    /// (requests, bytes).
    fn verify_lib(&self, crates: &[CrateFile]) -> LibRun {
        let start = Instant::now();
        let first_package = std::cell::Cell::new(None);
        let traffic = Arc::new(Traffic::default());
        let http = || CurlFetcher {
            user_agent: Some("cargo-index-verify-bench".into()),
            ..Default::default()
        };
        let access = IndexAccess::Http {
            base: self.base.clone(),
            cache: HttpCache::new(
                self.home.join("tuf").join("http-cache"),
                http(),
                traffic.clone(),
            ),
            fetcher: http(),
            traffic: traffic.clone(),
        };
        let spec = RegistrySpec {
            name: "crates-io".into(),
            registry_urls: vec![CRATES_IO.into(), format!("sparse+{CRATES_IO_SPARSE}")],
            mirror: Some(format!("sparse+{}", self.base)),
            access,
            cargo_cache_host: Some("127.0.0.1".into()),
            vendor_dir: None,
        };
        let pins = must(PinSet::load(&pin_locations(&self.home)), "pins");
        let packages: Vec<Package> = crates
            .iter()
            .map(|c| Package {
                name: c.name.clone(),
                version: c.version.clone(),
                checksum: Some(c.cksum.clone()),
            })
            .collect();
        let opts = Options {
            cargo_home: self.home.clone(),
            now: now_unix(),
            offline: false,
            refresh: false,
        };
        let r = must(
            verify::verify_registry(&spec, &packages, &pins, &opts, &|_| {
                if first_package.get().is_none() {
                    first_package.set(Some(start.elapsed()));
                }
            }),
            "verify_registry",
        );
        let el = start.elapsed();
        assert!(
            r.failures.is_empty() && r.verified == crates.len(),
            "library verification failed: {:#?}",
            r.failures
        );
        LibRun {
            report: r,
            time: el,
            chain: first_package.get().unwrap_or(el),
            traffic: traffic.get(),
        }
    }
}

/// The binary's JSON: (verified packages, requests, bytes), or why not.
fn binary_result(out: &Output) -> Result<(u64, u64, u64), String> {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| {
        format!(
            "exit {}, output is not JSON ({e}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    if !out.status.success() || v["result"] != "verified" {
        return Err(format!("exit {}: {v:#}", out.status));
    }
    let verified = v["registries"]
        .as_array()
        .map_or(0, |r| r.iter().filter_map(|r| r["verified"].as_u64()).sum());
    Ok((
        verified,
        v["requests"].as_u64().unwrap_or(0),
        v["bytes"].as_u64().unwrap_or(0),
    ))
}

fn lockfile(t: &mut Table, s: &Signed, syn: &Synthetic) {
    t.section(&format!(
        "4. {DEPS}-dependency lockfile against today's size, over HTTP"
    ));
    let root = s.dir.parent().expect("served root").to_path_buf();
    let server = Server::start(root.clone());
    let url = server.url();
    let base = format!("{url}/index/");
    must(
        std::fs::write(
            s.dir.join("config.json"),
            format!("{{\"dl\":\"{url}/dl/{{crate}}-{{version}}.crate\"}}\n"),
        ),
        "config.json",
    );
    let dl = root.join("dl");
    must(std::fs::create_dir_all(&dl), "mkdir dl");
    for c in &syn.crates {
        must(
            std::fs::write(dl.join(format!("{}-{}.crate", c.name, c.version)), &c.bytes),
            "write .crate",
        );
    }
    let work = root.parent().expect("work dir");
    let home = work.join("home-lockfile");
    pinned_home(&home, &s.pin_root);
    must(
        std::fs::write(
            home.join("config.toml"),
            format!(
                "[source.crates-io]\nreplace-with = \"m\"\n\n[source.m]\nregistry = \"sparse+{base}\"\n"
            ),
        ),
        "config.toml",
    );
    let project = work.join("project");
    must(
        std::fs::create_dir_all(project.join("src")),
        "mkdir project",
    );
    let mut manifest = String::from(
        "[package]\nname = \"lockfile-bench\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n",
    );
    for c in &syn.crates {
        manifest.push_str(&format!("{} = \"={}\"\n", c.name, c.version));
    }
    must(
        std::fs::write(project.join("Cargo.toml"), manifest),
        "manifest",
    );
    must(std::fs::write(project.join("src/lib.rs"), ""), "lib.rs");
    let w = World {
        server,
        home,
        project,
        base,
    };

    // Cargo, cold, resolving (writes Cargo.lock).
    w.reset_cargo();
    let (out, el) = run(&mut w.cargo(&["fetch"]), "cargo fetch");
    check(&out, "cargo fetch (no Cargo.lock)");
    let wire = w.server.stats.take();
    t.add(
        "cargo fetch, cold, resolving (no Cargo.lock)",
        secs(el),
        "s",
        format!("{} requests: {}", wire.requests(), wire.summary()),
    );
    let lock = must(
        std::fs::read_to_string(w.project.join("Cargo.lock")),
        "Cargo.lock",
    );
    let locked = lock.matches("[[package]]").count();
    assert_eq!(
        locked,
        DEPS + 1,
        "Cargo.lock lists the {DEPS} crates and the project"
    );

    // Cold runs, interleaved so that load from elsewhere hits all three
    // alike: cargo (the baseline, with Cargo.lock), the binary, the library.
    let mut cargo_times = Vec::new();
    let mut cargo_wire = None;
    let mut bin_times = Vec::new();
    let mut bin_wire = None;
    let mut bin_error = None;
    let mut lib_times = Vec::new();
    let mut lib_wire = None;
    let mut lib_last = None;
    let mut chains = Vec::new();
    for _ in 0..REPEAT {
        w.reset_cargo();
        let (out, el) = run(&mut w.cargo(&["fetch"]), "cargo fetch");
        check(&out, "cargo fetch (Cargo.lock)");
        cargo_times.push(el);
        cargo_wire = Some(w.server.stats.take());

        if bin_error.is_none() {
            w.reset_verifier();
            let (out, el) = run(&mut w.verifier(), "cargo-index-verify");
            let wire = w.server.stats.take();
            match binary_result(&out) {
                Ok((verified, _, _)) if verified == DEPS as u64 => {
                    bin_times.push(el);
                    bin_wire = Some(wire);
                }
                Ok((verified, _, _)) => {
                    bin_error = Some(format!("verified {verified} of {DEPS} packages"));
                }
                Err(e) => bin_error = Some(e),
            }
        }

        w.reset_verifier();
        let run = w.verify_lib(&syn.crates);
        lib_times.push(run.time);
        chains.push(run.chain);
        lib_wire = Some(w.server.stats.take());
        lib_last = Some(run);
    }
    let cargo_wire = cargo_wire.expect("a cargo run");
    let cargo_cold = median(&cargo_times);
    t.add(
        "cargo fetch, cold, with Cargo.lock (baseline), median",
        secs(cargo_cold),
        "s",
        format!(
            "{}; {} requests on {} connections: {}",
            all_runs(&cargo_times),
            cargo_wire.requests(),
            cargo_wire.connections,
            cargo_wire.summary()
        ),
    );
    let (out, el) = run(&mut w.cargo(&["fetch"]), "cargo fetch");
    check(&out, "cargo fetch (warm)");
    let wire = w.server.stats.take();
    t.add(
        "cargo fetch, warm, for reference",
        secs(el),
        "s",
        format!("{} requests {}", wire.requests(), wire.summary()),
    );

    // The binary, in project mode.
    if let Some(e) = &bin_error {
        eprintln!("cargo index-verify (binary) did not verify the project: {e}");
        t.add(
            "cargo index-verify (binary): not measured",
            "-".into(),
            "",
            "did not verify the project; see stderr",
        );
    } else if let Some(wire) = bin_wire {
        lockfile_rows(
            t,
            "cargo index-verify (binary)",
            &bin_times,
            &wire,
            cargo_cold,
        );
        let (out, el) = run(&mut w.verifier(), "cargo-index-verify");
        let warm = binary_result(&out);
        let wire = w.server.stats.take();
        match warm {
            Ok(_) => warm_rows(t, "cargo index-verify (binary)", el, &wire),
            Err(e) => {
                eprintln!("warm run of the binary failed: {e}");
                t.add("  warm run: failed", "-".into(), "", "see stderr");
            }
        }
    }

    // The library, HTTP access.
    let wire = lib_wire.expect("a library run");
    let last = lib_last.expect("a library run");
    assert_eq!(
        last.traffic.0,
        wire.requests(),
        "the verifier's own request count agrees with the server's"
    );
    lockfile_rows(
        t,
        "verify::verify_registry (library)",
        &lib_times,
        &wire,
        cargo_cold,
    );
    t.add(
        "  of which: pin, TUF chain, commitment, median",
        secs(median(&chains)),
        "s",
        format!(
            "then {} packages: {} cached .crate files and {} cached index entries checked",
            last.report.verified,
            last.report.cached_crates_checked,
            last.report.cached_index_entries_checked
        ),
    );
    let run = w.verify_lib(&syn.crates);
    let wire = w.server.stats.take();
    warm_rows(t, "verify::verify_registry (library)", run.time, &wire);
}

fn lockfile_rows(t: &mut Table, who: &str, times: &[Duration], wire: &Wire, cargo: Duration) {
    let v = median(times);
    t.add(
        format!("{who}, cold, median"),
        secs(v),
        "s",
        format!(
            "goal <= cargo fetch ({} s): {}; {}",
            secs(cargo),
            verdict(v <= cargo),
            all_runs(times)
        ),
    );
    t.add(
        "  requests, cold",
        thousands(wire.requests()),
        "",
        format!("on {} connections: {}", wire.connections, wire.summary()),
    );
    let meta = wire.bytes_of(is_tuf);
    let tree = wire.bytes_of(|k| k == KIND_TREE);
    let files = wire.bytes_of(|k| k == KIND_FILES);
    let per_dep = meta as f64 / DEPS as f64;
    t.add(
        "  metadata bytes per dependency (TUF + tree)",
        format!("{per_dep:.0}"),
        "B",
        format!(
            "goal <= 2 KB: {}; tree {} KB + TUF metadata {} KB; crate files {} KB",
            verdict(per_dep <= PER_DEP_GOAL),
            format_args!("{:.1}", tree as f64 / 1e3),
            format_args!("{:.1}", (meta - tree) as f64 / 1e3),
            format_args!("{:.1}", files as f64 / 1e3)
        ),
    );
}

fn warm_rows(t: &mut Table, who: &str, el: Duration, wire: &Wire) {
    t.add(format!("{who}, warm, nothing published"), secs(el), "s", "");
    t.add(
        "  requests, warm",
        thousands(wire.requests()),
        "",
        format!(
            "goal 1: {}; on {} connections: {}",
            verdict(wire.requests() == 1),
            wire.connections,
            wire.summary()
        ),
    );
}

// ---------------------------------------------------------------- main

fn main() {
    // `cargo bench` passes `--bench`; nothing to parse.
    let start = Instant::now();
    let work = must(tempfile::tempdir(), "tempdir");
    let mut t = Table::default();
    let real = real_index(&mut t, work.path());
    if let Some(d) = real.as_ref().map(|_| work.path().join("index-2019")) {
        // Part 1's files are no longer needed.
        remove_tree(&d);
    }
    let from_real = real.is_some();
    let shape = real.unwrap_or_else(fallback_shape);
    let syn = synthetic(&mut t, &shape, from_real, work.path());
    drop(shape);
    let signed = sign_index(
        &mut t,
        &syn.dir,
        &work.path().join("sign-today"),
        SIGN_TODAY_GOAL,
    );
    floor_and_verify(
        &mut t,
        &signed,
        &work.path().join("home-today"),
        Some(TODAY_VERIFY_GOAL),
    );
    publish(&mut t, &signed, &syn);
    lockfile(&mut t, &signed, &syn);
    t.print();
    let measured = start.elapsed();
    let cleanup = Instant::now();
    remove_tree(&syn.dir);
    remove_tree(&signed.dir);
    must(work.close(), "removing the temporary directory");
    println!(
        "\n({} threads; whole run {} s, of which removing the temporary files {} s)",
        threads(),
        secs(measured + cleanup.elapsed()),
        secs(cleanup.elapsed())
    );
}
