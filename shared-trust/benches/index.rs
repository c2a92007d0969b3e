//! Cost of the index commitment (`shared_trust::index`) on this machine,
//! printed as a table.
//!
//! ```text
//! cargo bench -p shared-trust --bench index
//! INDEX_BENCH_DATA=DIR cargo bench -p shared-trust --bench index
//! ```
//!
//! 1. The real crates.io index of 2019-11-10 (`crates-io-index-2019-11-10.tar.xz`
//!    from `../shared/data` relative to the workspace root, or from the
//!    directory `INDEX_BENCH_DATA`), unpacked once to a temporary directory:
//!    (a) a floor: read every crate file, SHA-256 of every byte and parse
//!    every line with serde_json into a small typed struct; (b) canonical
//!    hashing of every file (`crate_file_hash`, file read included); (c)
//!    `Tree::build` at `depth_for(files)`. (a) and (b) on 2 threads, after
//!    one untimed read of every file (page cache warm); (b') is (b) with
//!    the files already in memory, comparable with part 2.
//! 2. A synthetic index of today's size, 190,000 crate files and ~1.9M
//!    lines, generated in memory (deterministic xorshift) from the 2019
//!    distribution of line lengths and of lines per file (scaled to ~10
//!    lines per file), or from a fallback distribution without the data:
//!    canonical hashing (2 threads) and `Tree::build`.
//! 3. Publish: `Tree::update` of one random crate file, 1,000 times: median
//!    time, new objects and bytes per update.
//! 4. Per dependency: `Lookup` of 300 distinct random paths against a map of
//!    every object; distinct objects fetched and bytes per dependency.

use serde::Deserialize;
use sha2::{Digest, Sha256};
use shared_trust::index::{crate_file_hash, depth_for, index_path, Hash, Lookup, Object, Tree};
use std::collections::{HashMap, HashSet};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const TARBALL: &str = "crates-io-index-2019-11-10.tar.xz";
const THREADS: usize = 2;
const TODAY_FILES: usize = 190_000;
const TODAY_LINES: usize = 1_900_000;
const UPDATES: usize = 1_000;
const DEPS: usize = 300;
const PUBLISH_BUDGET: usize = 64 * 1024;

#[path = "common/table.rs"]
mod table;
use table::Table;

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
}

/// The fields of an index line the floor parses.
#[derive(Deserialize)]
struct IndexLine {
    name: String,
    vers: String,
    cksum: String,
    yanked: bool,
}

fn secs(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64())
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

/// Runs `f` on every item, split over `THREADS` threads (interleaved), and
/// returns the results in item order.
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let f = &f;
    let parts: Vec<Vec<R>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                s.spawn(move || {
                    items
                        .iter()
                        .skip(t)
                        .step_by(THREADS)
                        .map(f)
                        .collect::<Vec<R>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("worker panicked"))
            .collect()
    });
    let mut iters: Vec<_> = parts.into_iter().map(Vec::into_iter).collect();
    (0..items.len())
        .map(|i| iters[i % THREADS].next().expect("result"))
        .collect()
}

fn data_dir() -> PathBuf {
    match std::env::var_os("INDEX_BENCH_DATA") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data")),
    }
}

/// Every crate file under `root`: (index path, file path).
fn walk(root: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("read_dir") {
            let e = e.expect("dir entry");
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let p = e.path();
            let ft = e.file_type().expect("file type");
            if ft.is_dir() {
                stack.push(p);
            } else if ft.is_file() {
                let rel = p.strip_prefix(root).expect("under root");
                let rel = rel.to_string_lossy().replace('\\', "/");
                if rel == "config.json" {
                    continue;
                }
                out.push((rel, p));
            }
        }
    }
    out.sort();
    out
}

/// Line shape of an index: lines per file and line lengths, as samples.
struct Shape {
    lines_per_file: Vec<usize>,
    line_lengths: Vec<usize>,
}

struct Built {
    tree: Tree,
    objects: Vec<Object>,
    depth: u8,
}

fn build_tree(t: &mut Table, entries: Vec<(String, Hash)>) -> Built {
    let depth = depth_for(entries.len() as u64);
    let start = Instant::now();
    let (tree, objects) = Tree::build(depth, entries).expect("build");
    let el = start.elapsed();
    let bytes: u64 = objects.iter().map(|(_, b)| b.len() as u64).sum();
    t.add(format!("Tree::build, depth {depth}"), secs(el), "s", "");
    t.add("  objects", thousands(objects.len() as u64), "", "");
    t.add("  bytes of all objects", mb(bytes), "MB", "");
    Built {
        tree,
        objects,
        depth,
    }
}

fn real_index(t: &mut Table) -> Option<Shape> {
    let tarball = data_dir().join(TARBALL);
    t.section("1. crates.io index 2019-11-10 (real)");
    if !tarball.is_file() {
        eprintln!(
            "SKIP real-index part: {TARBALL} not found in ../shared/data (or INDEX_BENCH_DATA)"
        );
        t.add("skipped: tarball absent", "-".into(), "", "");
        return None;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let start = Instant::now();
    let status = Command::new("tar")
        .arg("-xJf")
        .arg(&tarball)
        .arg("-C")
        .arg(tmp.path())
        .status()
        .expect("run tar");
    assert!(status.success(), "tar -xJf failed: {status}");
    t.add("unpack (tar -xJf, once)", secs(start.elapsed()), "s", "");
    let files = walk(tmp.path());

    // Warm the page cache (tar's writes may still be in flight), untimed.
    for (_, p) in &files {
        black_box(std::fs::read(p).expect("read"));
    }

    // (a) floor.
    let start = Instant::now();
    let stats = par_map(&files, |(_, p)| {
        let bytes = std::fs::read(p).expect("read");
        let digest: Hash = Sha256::digest(&bytes).into();
        let mut lens = Vec::new();
        for line in bytes.split(|&b| b == b'\n') {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let l: IndexLine = serde_json::from_slice(line).expect("index line");
            black_box((&l.name, &l.vers, &l.cksum, l.yanked));
            lens.push(line.len());
        }
        black_box(digest);
        (bytes.len() as u64, lens)
    });
    let floor = start.elapsed();
    let total: u64 = stats.iter().map(|s| s.0).sum();
    let lines: usize = stats.iter().map(|s| s.1.len()).sum();
    t.add("crate files", thousands(files.len() as u64), "", "");
    t.add("lines", thousands(lines as u64), "", "");
    t.add("bytes of crate files", mb(total), "MB", "");
    t.add(
        "(a) floor: read + SHA-256 + typed parse, 2 thr",
        secs(floor),
        "s",
        mbs(total, floor),
    );

    // (b) canonical hashing.
    let start = Instant::now();
    let hashes = par_map(&files, |(path, p)| {
        let bytes = std::fs::read(p).expect("read");
        crate_file_hash(path, &bytes).expect("canonical")
    });
    let canon = start.elapsed();
    t.add(
        "(b) read + crate_file_hash, 2 threads",
        secs(canon),
        "s",
        format!(
            "{}, {:.1}x floor",
            mbs(total, canon),
            canon.as_secs_f64() / floor.as_secs_f64()
        ),
    );

    // (b') the same, files already in memory (comparable with part 2).
    let contents: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|(path, p)| (path.clone(), std::fs::read(p).expect("read")))
        .collect();
    let start = Instant::now();
    let again = par_map(&contents, |(path, c)| {
        crate_file_hash(path, c).expect("canonical")
    });
    let canon_mem = start.elapsed();
    assert_eq!(again, hashes);
    drop(contents);
    t.add(
        "(b') crate_file_hash in memory, 2 threads",
        secs(canon_mem),
        "s",
        mbs(total, canon_mem),
    );

    // (c) tree.
    let entries: Vec<(String, Hash)> = files.into_iter().map(|(p, _)| p).zip(hashes).collect();
    build_tree(t, entries);

    let lines_per_file = stats.iter().map(|s| s.1.len()).filter(|&n| n > 0).collect();
    let line_lengths = stats.into_iter().flat_map(|s| s.1).collect();
    Some(Shape {
        lines_per_file,
        line_lengths,
    })
}

fn fallback_shape() -> Shape {
    // Geometric lines per file (mean ~10) and line lengths 200..1200 bytes.
    let mut rng = Rng::new(7);
    let lines_per_file = (0..10_000)
        .map(|_| 1 + (rng.unit().ln() / (0.9f64).ln()) as usize)
        .collect();
    let line_lengths = (0..10_000).map(|_| 200 + rng.below(1000)).collect();
    Shape {
        lines_per_file,
        line_lengths,
    }
}

/// One index line of about `len` bytes, shaped like a real one.
fn synth_line(rng: &mut Rng, name: &str, v: usize, len: usize, out: &mut Vec<u8>) {
    let start = out.len();
    let mut cksum = String::with_capacity(64);
    for _ in 0..4 {
        cksum.push_str(&format!("{:016x}", rng.next()));
    }
    out.extend_from_slice(
        format!(
            r#"{{"name":"{name}","vers":"0.{v}.{}","deps":["#,
            rng.below(20)
        )
        .as_bytes(),
    );
    let tail = format!(
        r#"],"cksum":"{cksum}","features":{{}},"yanked":{}}}"#,
        rng.below(30) == 0
    );
    let mut first = true;
    // ~130 bytes per dependency.
    while out.len() - start + tail.len() + 140 < len {
        if !first {
            out.push(b',');
        }
        first = false;
        out.extend_from_slice(
            format!(
                r#"{{"name":"dep{}","req":"^{}.{}","features":[],"optional":{},"default_features":true,"target":null,"kind":"normal"}}"#,
                rng.below(100_000),
                rng.below(5),
                rng.below(30),
                rng.below(4) == 0
            )
            .as_bytes(),
        );
    }
    out.extend_from_slice(tail.as_bytes());
    out.push(b'\n');
}

fn synthetic(t: &mut Table, shape: &Shape, from_real: bool) -> (Built, Vec<String>) {
    t.section(&format!(
        "2. synthetic index of today's size ({} distribution)",
        if from_real { "2019" } else { "fallback" }
    ));
    let mean =
        shape.lines_per_file.iter().sum::<usize>() as f64 / shape.lines_per_file.len() as f64;
    let scale = (TODAY_LINES as f64 / TODAY_FILES as f64) / mean;
    let mut rng = Rng::new(2024);
    let start = Instant::now();
    let files: Vec<(String, Vec<u8>)> = (0..TODAY_FILES)
        .map(|i| {
            let name = format!("crate-{i}");
            let base = shape.lines_per_file[rng.below(shape.lines_per_file.len())] as f64 * scale;
            let n = (base.floor() as usize + usize::from(rng.unit() < base.fract())).max(1);
            let mut content = Vec::new();
            for v in 0..n {
                let len = shape.line_lengths[rng.below(shape.line_lengths.len())];
                synth_line(&mut rng, &name, v, len, &mut content);
            }
            (index_path(&name), content)
        })
        .collect();
    let gen = start.elapsed();
    let lines: usize = files
        .iter()
        .map(|(_, c)| c.iter().filter(|&&b| b == b'\n').count())
        .sum();
    let total: u64 = files.iter().map(|(_, c)| c.len() as u64).sum();
    t.add("crate files", thousands(files.len() as u64), "", "");
    t.add("lines", thousands(lines as u64), "", "");
    t.add(
        "bytes of crate files",
        mb(total),
        "MB",
        format!("generated in {} s", secs(gen)),
    );

    let start = Instant::now();
    let hashes = par_map(&files, |(p, c)| crate_file_hash(p, c).expect("canonical"));
    let canon = start.elapsed();
    t.add(
        "crate_file_hash, 2 threads (in memory)",
        secs(canon),
        "s",
        mbs(total, canon),
    );
    let paths: Vec<String> = files.iter().map(|(p, _)| p.clone()).collect();
    drop(files);
    let built = build_tree(t, paths.iter().cloned().zip(hashes).collect());
    (built, paths)
}

fn per_dependency(
    t: &mut Table,
    built: &Built,
    objects: &HashMap<Hash, Vec<u8>>,
    paths: &[String],
) {
    t.section(&format!(
        "4. per dependency: {DEPS}-dependency lockfile, Lookup"
    ));
    let mut rng = Rng::new(300);
    let mut chosen = HashSet::new();
    while chosen.len() < DEPS {
        chosen.insert(paths[rng.below(paths.len())].clone());
    }
    let c = built.tree.commitment();
    let mut fetched: HashSet<Hash> = HashSet::new();
    let mut per_level = vec![HashSet::new(); usize::from(built.depth) + 1];
    let mut bucket_bytes = 0u64;
    let start = Instant::now();
    for p in &chosen {
        let mut l = Lookup::new(&c, p).expect("lookup");
        let mut level = 0;
        while let Some(h) = l.next_object() {
            let bytes = &objects[&h];
            l.feed(bytes).expect("feed");
            if level == usize::from(built.depth) {
                bucket_bytes += bytes.len() as u64;
            }
            per_level[level].insert(h);
            fetched.insert(h);
            level += 1;
        }
        assert_eq!(l.result(), Some(built.tree.get(p).copied()));
    }
    let el = start.elapsed();
    let bytes: u64 = fetched.iter().map(|h| objects[h].len() as u64).sum();
    let per_dep = bytes as f64 / DEPS as f64;
    t.add(
        format!("lookups of {DEPS} distinct paths"),
        format!("{:.1}", el.as_secs_f64() * 1e3),
        "ms",
        "verification only",
    );
    t.add(
        "distinct objects fetched",
        thousands(fetched.len() as u64),
        "",
        {
            let counts: Vec<String> = per_level.iter().map(|s| s.len().to_string()).collect();
            format!("per level root..bucket: {}", counts.join(" + "))
        },
    );
    t.add(
        "bytes of distinct objects",
        format!("{:.1}", bytes as f64 / 1e3),
        "KB",
        "",
    );
    t.add(
        "bytes per dependency",
        format!("{per_dep:.0}"),
        "B",
        format!(
            "goal ~1 KB, budget 2 KB: {}; mean bucket {:.0} B",
            if per_dep <= 2048.0 {
                "within"
            } else {
                "OVER BUDGET"
            },
            bucket_bytes as f64 / DEPS as f64
        ),
    );
}

fn publish(
    t: &mut Table,
    built: &mut Built,
    objects: &mut HashMap<Hash, Vec<u8>>,
    paths: &[String],
) {
    t.section(&format!(
        "3. publish: Tree::update of one file, {UPDATES} updates"
    ));
    let mut rng = Rng::new(99);
    let mut times = Vec::with_capacity(UPDATES);
    let mut counts = Vec::with_capacity(UPDATES);
    let mut sizes = Vec::with_capacity(UPDATES);
    for i in 0..UPDATES {
        let p = paths[rng.below(paths.len())].clone();
        let h: Hash = Sha256::digest(format!("update {i}")).into();
        let start = Instant::now();
        let new = built.tree.update([(p, Some(h))]).expect("update");
        times.push(start.elapsed());
        assert_eq!(
            new.len(),
            usize::from(built.depth) + 1,
            "update must yield depth+1 objects"
        );
        counts.push(new.len());
        sizes.push(new.iter().map(|(_, b)| b.len()).sum::<usize>());
        objects.extend(new);
    }
    times.sort();
    sizes.sort();
    let median = times[UPDATES / 2];
    t.add(
        "time per update, median",
        format!("{:.1}", median.as_secs_f64() * 1e6),
        "µs",
        format!(
            "p99 {:.1} µs",
            times[UPDATES * 99 / 100].as_secs_f64() * 1e6
        ),
    );
    t.add(
        "new objects per update",
        counts[0].to_string(),
        "",
        format!("depth {} + 1, every update", built.depth),
    );
    let max = *sizes.last().expect("sizes");
    t.add(
        "new object bytes per update, median",
        thousands(sizes[UPDATES / 2] as u64),
        "B",
        format!(
            "max {} B; 64 KB budget: {:.1}% (max)",
            thousands(max as u64),
            100.0 * max as f64 / PUBLISH_BUDGET as f64
        ),
    );
    // The map stays consistent: a fresh lookup of the last updated path.
    let c = built.tree.commitment();
    let p = &paths[0];
    let mut l = Lookup::new(&c, p).expect("lookup");
    while let Some(h) = l.next_object() {
        l.feed(&objects[&h]).expect("feed after updates");
    }
    assert_eq!(l.result(), Some(built.tree.get(p).copied()));
}

fn main() {
    // `cargo bench` passes `--bench`; nothing to parse.
    let start = Instant::now();
    let mut t = Table::default();
    let real = real_index(&mut t);
    let from_real = real.is_some();
    let shape = real.unwrap_or_else(fallback_shape);
    let (mut built, paths) = synthetic(&mut t, &shape, from_real);
    drop(shape);
    let mut objects: HashMap<Hash, Vec<u8>> =
        std::mem::take(&mut built.objects).into_iter().collect();
    publish(&mut t, &mut built, &mut objects, &paths);
    per_dependency(&mut t, &built, &objects, &paths);
    t.print();
    println!(
        "\n(2 threads where noted; whole run {} s)",
        secs(start.elapsed())
    );
}
