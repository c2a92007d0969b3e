//! What verification costs rustup users.
//!
//! 1. **Verifying the real 894 KB stable manifest end to end**: refresh the
//!    root repository (timestamp fetched, snapshot, targets and releases
//!    re-verified from the trusted state), fetch the manifest, check length
//!    and SHA-256 against the signed target, parse it into the artifact
//!    table. Through the library over `file://`, and through the hook over
//!    loopback HTTP (rustup's `.sha256` request, which does all of that).
//! 2. **A toolchain install through the hook vs straight from the same
//!    loopback server**, with real rustup (`--profile minimal`, fresh
//!    `RUSTUP_HOME` each time): the long-running hook (`serve`) and the
//!    one-shot form (`run`, hook start-up included).
//! 3. **The hook's peak memory while it passes a 300 MB artifact**: VmHWM
//!    of the `rustup-verify serve` process, from `/proc/PID/status`.
//!
//! `harness = false`: each figure goes to stderr as it is measured, the
//! table to stdout at the end. `BENCH_QUICK=1` shrinks everything (a smoke
//! test, not figures). Without `../shared/data` the manifest figures use
//! the project's trimmed copy and say so.

#[path = "support/fakedist.rs"]
mod fakedist;
#[path = "../../shared-trust/benches/common/table.rs"]
mod table;

use fakedist::{
    install_rustup_copy, root_ceremony, sha256_hex, write_rustup_init, write_rustup_release,
    write_toolchain, write_with_sha256, Keys, StaticServer, Toolchain,
};
use rustup_verify::layout::Upstream;
use rustup_verify::release::file_url;
use rustup_verify::verify::Verifier;
use sha2::{Digest, Sha256};
use shared_trust::fetcher::{CurlFetcher, Fetcher, FileFetcher};
use shared_trust::time;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use table::Table;
use trust_roots::pins::{self, Pin, PinLocations, PinSource};

fn quick() -> bool {
    std::env::var_os("BENCH_QUICK").is_some_and(|v| v == "1")
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// A signed tree served on 127.0.0.1, and a client cargo home pinning it.
struct Setup {
    _tmp: tempfile::TempDir,
    work: PathBuf,
    tree: PathBuf,
    root: Vec<u8>,
    mirror: StaticServer,
    cargo_home: PathBuf,
}

impl Setup {
    fn new(fill: impl FnOnce(&Path)) -> Setup {
        let tmp = tempfile::tempdir().unwrap();
        let work = tmp.path().to_path_buf();
        let tree = work.join("tree");
        std::fs::create_dir_all(tree.join("dist")).unwrap();
        fill(&tree);
        let keys = Keys::generate(&work.join("keys"));
        let now = time::now_unix();
        let root = root_ceremony(&tree, &keys, now);
        fakedist::sign_with(&tree, &keys, &["rel1", "rel2"], now, 86_400);
        let mirror = StaticServer::start(&tree, Duration::from_secs(3600));
        let cargo_home = work.join("cargo-home");
        pins::add_user_pin(
            &PinLocations::new(&cargo_home, work.join("no-system-pins.json")),
            "rust-dist",
            &[mirror.url()],
            &root,
            false,
        )
        .unwrap();
        Setup {
            _tmp: tmp,
            work,
            tree,
            root,
            mirror,
            cargo_home,
        }
    }

    /// `rustup-verify serve` on a free port, upstream the mirror.
    fn serve(&self) -> Hook {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rustup-verify"))
            .args(["serve", "--idle-exit", "600", "--dist-server"])
            .arg(self.mirror.url())
            .env("CARGO_HOME", &self.cargo_home)
            .env(
                "CARGO_TUF_SYSTEM_PINS",
                self.work.join("no-system-pins.json"),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("RUSTUP_DIST_SERVER=")
            .unwrap()
            .to_string();
        Hook { child, url }
    }
}

/// A `rustup-verify serve` child, killed (by its own handle) when dropped.
struct Hook {
    child: Child,
    url: String,
}

impl Hook {
    fn vm_hwm_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Hook {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn real_manifest() -> (Vec<u8>, &'static str) {
    let real = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/channel-rust-stable-2025-04-03.toml");
    match std::fs::read(&real) {
        Ok(b) => (b, "real 2025-04-03 stable manifest"),
        Err(_) => (
            include_bytes!("../fixtures/channel-rust-stable-2025-04-03-trimmed.toml").to_vec(),
            "TRIMMED fixture (../shared/data absent)",
        ),
    }
}

fn manifest_verify(t: &mut Table) {
    let (manifest, what) = real_manifest();
    t.section(&format!(
        "Verify a channel manifest end to end ({what}, {} bytes)",
        manifest.len()
    ));
    let s = Setup::new(|tree| {
        write_with_sha256(tree, "dist/channel-rust-stable.toml", &manifest);
        write_with_sha256(tree, "dist/2025-04-03/channel-rust-stable.toml", &manifest);
    });
    let runs = if quick() { 5 } else { 50 };
    let path = "dist/channel-rust-stable.toml";

    // Library, file://: what `check` and the hook do per manifest.
    let pin = Pin {
        name: "bench".into(),
        urls: Vec::new(),
        root: s.root.clone(),
        source: PinSource::User,
        override_builtin: false,
    };
    let upstream = Upstream::new(&file_url(&s.tree), &file_url(&s.tree.join("rustup")));
    let home = s.work.join("lib-home");
    let v = Verifier::new(pin, &home, upstream, FileFetcher);
    v.open().unwrap().verify_manifest(path).unwrap(); // first run: bootstrap + download metadata
    let mut total = Vec::new();
    let mut refresh = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let mut session = v.open().unwrap();
        refresh.push(start.elapsed());
        let m = session.verify_manifest(path).unwrap();
        total.push(start.elapsed());
        assert!(!m.manifest.downloads.is_empty());
    }
    let mut hash = Vec::new();
    let mut parse = Vec::new();
    let mut toml_parse = Vec::new();
    let text = std::str::from_utf8(&manifest).unwrap();
    for _ in 0..runs {
        let start = Instant::now();
        std::hint::black_box(Sha256::digest(&manifest));
        hash.push(start.elapsed());
        let start = Instant::now();
        std::hint::black_box(
            rustup_verify::manifest::ChannelManifest::parse(path, &manifest).unwrap(),
        );
        parse.push(start.elapsed());
        let start = Instant::now();
        std::hint::black_box(toml::from_str::<serde::de::IgnoredAny>(text).unwrap());
        toml_parse.push(start.elapsed());
    }
    t.add(
        "library, file://: refresh + fetch + check + parse",
        ms(median(total)),
        "ms",
        format!("median of {runs}; target < 20 ms"),
    );
    t.add(
        "  of which: refresh the root repository",
        ms(median(refresh)),
        "ms",
        "timestamp fetched, rest re-verified locally",
    );
    t.add(
        "  SHA-256 of the manifest alone",
        ms(median(hash)),
        "ms",
        "",
    );
    t.add(
        "  parse into the artifact table alone",
        ms(median(parse)),
        "ms",
        "line reader for the generated form",
    );
    t.add(
        "  for comparison: the toml crate, parse only",
        ms(median(toml_parse)),
        "ms",
        "the fallback, and what rustup uses",
    );

    // Through the hook over loopback HTTP: rustup's `.sha256` request.
    // Cold: a new hook process each time (its first request fetches,
    // verifies and parses the manifest).
    let cold_runs = if quick() { 3 } else { 15 };
    let curl = CurlFetcher::default();
    let expected = format!("{}  channel-rust-stable.toml\n", sha256_hex(&manifest));
    let mut cold = Vec::new();
    for _ in 0..cold_runs {
        let hook = s.serve();
        let url = format!("{}/dist/channel-rust-stable.toml.sha256", hook.url);
        let start = Instant::now();
        let got = curl.fetch(&url, 1 << 20).unwrap();
        cold.push(start.elapsed());
        assert_eq!(got, expected.as_bytes());
    }
    t.add(
        "hook, HTTP, new hook: GET .sha256 (refresh, fetch, verify, parse)",
        ms(median(cold)),
        "ms",
        format!("median of {cold_runs}; upstream on 127.0.0.1"),
    );
    // Warm: the same hook again (manifest unchanged: refresh only).
    let hook = s.serve();
    let get = |p: &str| curl.fetch(&format!("{}/{p}", hook.url), 4 << 20).unwrap();
    assert_eq!(
        get("dist/channel-rust-stable.toml.sha256"),
        expected.as_bytes()
    );
    let mut sha = Vec::new();
    let mut pair = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        get("dist/channel-rust-stable.toml.sha256");
        sha.push(start.elapsed());
        assert_eq!(get("dist/channel-rust-stable.toml").len(), manifest.len());
        pair.push(start.elapsed());
    }
    t.add(
        "hook, HTTP, same hook: GET .sha256 (refresh only)",
        ms(median(sha)),
        "ms",
        format!("median of {runs}; signed hash unchanged, verified bytes reused"),
    );
    t.add(
        "hook, HTTP, same hook: GET .sha256 then the manifest",
        ms(median(pair)),
        "ms",
        "what `rustup update` does per channel",
    );
}

fn rustup_install(s: &Setup, server: &str, home: &Path, rustup: &Path, run_form: bool) -> Duration {
    let mut c = if run_form {
        let mut c = Command::new(env!("CARGO_BIN_EXE_rustup-verify"));
        c.args(["run", "--"]).arg(rustup);
        c
    } else {
        Command::new(rustup)
    };
    c.args(["toolchain", "install", "stable", "--profile", "minimal"])
        .env("RUSTUP_HOME", home)
        .env("CARGO_HOME", &s.cargo_home)
        .env("CARGO_TUF_SYSTEM_PINS", s.work.join("no-system-pins.json"))
        .env("RUSTUP_DIST_SERVER", server)
        .env("RUSTUP_UPDATE_ROOT", format!("{server}/rustup"))
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("RUST_RECURSION_COUNT")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let start = Instant::now();
    let status = c.status().unwrap();
    let took = start.elapsed();
    assert!(status.success(), "rustup install via {server} failed");
    took
}

fn install(t: &mut Table) {
    let payload = if quick() { 1 << 20 } else { 16 << 20 };
    t.section(&format!(
        "Toolchain install with real rustup (--profile minimal; rustc and rust-std carry {} MiB of incompressible payload each)",
        payload >> 20
    ));
    let tmp_home = tempfile::tempdir().unwrap();
    let Some(rustup) = install_rustup_copy(&tmp_home.path().join("probe")) else {
        t.add("skipped: rustup not on PATH", "-".into(), "", "");
        return;
    };
    let version = fakedist::rustup_version(&rustup);
    let s = Setup::new(|tree| {
        let mut tc = Toolchain::new("stable", "1.86.0", "2025-04-03");
        tc.payload = payload;
        write_toolchain(tree, &tc);
        write_rustup_release(tree, &version);
        write_rustup_init(tree, &version);
    });
    let rustup = install_rustup_copy(&s.cargo_home).unwrap();
    let size: u64 = std::fs::read_dir(s.tree.join("dist/2025-04-03"))
        .unwrap()
        .flatten()
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.contains("rustc-1.86.0") && n.ends_with(".zst")
                || n.contains("cargo-1.86.0") && n.ends_with(".xz")
                || n.contains("rust-std-1.86.0") && n.ends_with(".gz")
        })
        .map(|e| e.metadata().unwrap().len())
        .sum();
    let hook = s.serve();
    let runs = if quick() { 1 } else { 7 };
    let (mut direct, mut served, mut one_shot) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..runs {
        let home = |k: &str| s.work.join(format!("rustup-home-{k}-{i}"));
        // Alternate the order so drift hits all three alike.
        if i % 2 == 0 {
            direct.push(rustup_install(
                &s,
                &s.mirror.url(),
                &home("d"),
                &rustup,
                false,
            ));
            served.push(rustup_install(&s, &hook.url, &home("h"), &rustup, false));
        } else {
            served.push(rustup_install(&s, &hook.url, &home("h"), &rustup, false));
            direct.push(rustup_install(
                &s,
                &s.mirror.url(),
                &home("d"),
                &rustup,
                false,
            ));
        }
        one_shot.push(rustup_install(
            &s,
            &s.mirror.url(),
            &home("r"),
            &rustup,
            true,
        ));
        for k in ["d", "h", "r"] {
            let _ = std::fs::remove_dir_all(home(k));
        }
    }
    let min = |v: &[Duration]| ms(*v.iter().min().unwrap());
    let (dm, hm, rm) = (min(&direct), min(&served), min(&one_shot));
    let (d, h, r) = (median(direct), median(served), median(one_shot));
    let pct = |x: Duration| (x.as_secs_f64() / d.as_secs_f64() - 1.0) * 100.0;
    t.add(
        "straight from the loopback server",
        ms(d),
        "ms",
        format!(
            "median of {runs} (min {dm}); {:.1} MB downloaded",
            size as f64 / 1e6
        ),
    );
    t.add(
        "through the hook (serve)",
        ms(h),
        "ms",
        format!("{:+.1}% (min {hm}); target within 10%", pct(h)),
    );
    t.add(
        "through the hook (run: one-shot, hook start-up included)",
        ms(r),
        "ms",
        format!("{:+.1}% (min {rm})", pct(r)),
    );
}

fn peak_memory(t: &mut Table) {
    let size: u64 = if quick() { 30 << 20 } else { 300 << 20 };
    t.section(&format!(
        "Hook peak memory passing one {} MiB artifact",
        size >> 20
    ));
    let name = format!("dist/2025-04-03/big-1.0-{}.tar.gz", fakedist::host_triple());
    let s = Setup::new(|tree| {
        let path = tree.join(&name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let mut h = Sha256::new();
        let chunk = fakedist::noise(1 << 20, 7);
        for i in 0..(size >> 20) {
            let mut c = chunk.clone();
            c[..8].copy_from_slice(&i.to_le_bytes());
            h.update(&c);
            f.write_all(&c).unwrap();
        }
        f.flush().unwrap();
        let manifest = format!(
            "manifest-version = \"2\"\ndate = \"2025-04-03\"\n[pkg.big]\nversion = \"1.0\"\n[pkg.big.target.{}]\navailable = true\nurl = \"https://static.rust-lang.org/{name}\"\nhash = \"{}\"\n",
            fakedist::host_triple(),
            hex::encode(h.finalize())
        );
        write_with_sha256(tree, "dist/channel-rust-stable.toml", manifest.as_bytes());
        write_with_sha256(
            tree,
            "dist/2025-04-03/channel-rust-stable.toml",
            manifest.as_bytes(),
        );
    });
    let hook = s.serve();
    let curl = CurlFetcher::default();
    curl.fetch(
        &format!("{}/dist/channel-rust-stable.toml.sha256", hook.url),
        1 << 20,
    )
    .unwrap();
    let before = hook.vm_hwm_kb();
    struct Count(u64);
    impl Write for Count {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0 += b.len() as u64;
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut sink = Count(0);
    let start = Instant::now();
    curl.fetch_to(&format!("{}/{name}", hook.url), size + 1, &mut sink)
        .unwrap();
    let took = start.elapsed();
    assert_eq!(sink.0, size);
    let after = hook.vm_hwm_kb();
    t.add(
        "VmHWM of rustup-verify serve after the transfer",
        format!("{:.1}", after as f64 / 1024.0),
        "MiB",
        format!(
            "target < 64 MiB; {:.1} MiB before it",
            before as f64 / 1024.0
        ),
    );
    t.add(
        "artifact fetched, verified on disk, then served",
        format!("{:.0}", size as f64 / 1e6 / took.as_secs_f64()),
        "MB/s",
        format!("{} ms end to end", took.as_millis()),
    );
}

fn main() {
    let mut t = Table::default();
    t.section(&format!(
        "rustup-verify benchmarks (load average {} at start)",
        load_average()
    ));
    manifest_verify(&mut t);
    install(&mut t);
    peak_memory(&mut t);
    t.section(&format!("load average {} at end", load_average()));
    t.print();
}
