//! `cargo index-verify` and `index-sign` end to end, with real cargo.
//!
//! Each test builds a world: the project's real index sample (seven crates
//! from the crates.io index of 2019-11-10, with their real `.crate`
//! files) signed by `index-sign`, a root repository publishing the crates
//! repository's root, a mirror directory served over HTTP on 127.0.0.1, a
//! temporary `CARGO_HOME` whose config replaces crates-io with the mirror
//! and whose pins trust the root repository, and a project locked and
//! fetched by real cargo through the mirror. Then it tampers with
//! something and runs the verifier.

use crate::static_server::StaticServer;
use crate::support::copy_dir;
use serde_json::Value;
use shared_trust::crypto::{Ed25519Signer, Signer};
use shared_trust::repository::Repository;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

const CRATES_IO: &str = "https://github.com/rust-lang/crates.io-index";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("fixtures")
        .join("registry-sample")
}

/// A workspace binary, built by `cargo nextest run --workspace`.
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let p = dir.join(name);
    assert!(
        p.exists(),
        "{} is not built: run the tests of the whole workspace",
        p.display()
    );
    p
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
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

/// Files under a directory, by relative path (lock files aside).
fn dir_bytes(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                let rel = p.strip_prefix(base).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The outcome of one `cargo index-verify` run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", self.stdout, self.stderr))
    }
    /// Every failure message of a JSON run, one per line.
    fn failures(&self) -> String {
        let v = self.json();
        let mut out = Vec::new();
        for r in v["registries"].as_array().unwrap() {
            for f in r["failures"].as_array().unwrap() {
                out.push(f["message"].as_str().unwrap().to_string());
            }
        }
        out.join("\n")
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Mirror,
    Git,
    Registry,
}

fn replace_crates_io(source: &str) -> String {
    format!(
        "[source.crates-io]\nreplace-with = \"company-mirror\"\n\n\
         [source.company-mirror]\n{source}\n"
    )
}

pub struct World {
    pub tmp: tempfile::TempDir,
    pub server: StaticServer,
    pub registry: PathBuf,
    pub keys: PathBuf,
    pub mirror: PathBuf,
    pub cargo_home: PathBuf,
    pub project: PathBuf,
    /// The root repository (its keys live only here).
    root_repo: std::cell::RefCell<Option<Repository>>,
}

impl World {
    /// Everything signed and served; the project locked and fetched.
    pub fn new() -> World {
        Self::build(Mode::Mirror)
    }

    /// The same, with the mirror a git index (a repository cargo and the
    /// verifier fetch over `file://`); `.crate` files still over HTTP.
    pub fn new_git() -> World {
        Self::build(Mode::Git)
    }

    /// The same index as a registry of its own (`[registries.internal]`),
    /// no source replacement.
    pub fn new_registry() -> World {
        Self::build(Mode::Registry)
    }

    fn build(mode: Mode) -> World {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        let mirror = root.join("mirror");
        std::fs::create_dir_all(&mirror).unwrap();
        let server = StaticServer::start(&mirror);
        let registry = root.join("registry");
        copy_dir(&fixtures().join("index"), &registry);
        std::fs::write(
            registry.join("config.json"),
            format!(
                "{{\"dl\": \"{}/dl/{{crate}}-{{version}}.crate\"}}\n",
                server.url()
            ),
        )
        .unwrap();
        let keys = root.join("keys");
        let w = World {
            server,
            registry,
            keys,
            mirror,
            cargo_home: root.join("cargo-home"),
            project: root.join("project"),
            root_repo: Default::default(),
            tmp,
        };
        w.index_sign(&["init"], &[]);
        w.make_root_repository();
        w.sync_mirror();
        copy_dir(&fixtures().join("crates"), &w.mirror.join("dl"));
        let config = match mode {
            Mode::Git => {
                w.git_commit_mirror("registry as signed");
                replace_crates_io(&format!("registry = \"{}\"", w.git_url()))
            }
            Mode::Mirror => {
                replace_crates_io(&format!("registry = \"sparse+{}/index/\"", w.server.url()))
            }
            Mode::Registry => format!(
                "[registries.internal]\nindex = \"sparse+{}/index/\"\n",
                w.server.url()
            ),
        };
        w.setup_cargo_home(&config, mode);
        w.setup_project(mode);
        w.cargo(&["generate-lockfile"]);
        w.cargo(&["fetch"]);
        w
    }

    fn index_sign(&self, args: &[&str], extra: &[&str]) -> String {
        let mut cmd = Command::new(bin("index-sign"));
        cmd.args(args)
            .arg("--index")
            .arg(&self.registry)
            .arg("--keys")
            .arg(&self.keys)
            .args(extra);
        let out = cmd.output().unwrap();
        check(&out, &format!("index-sign {args:?}"));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Registry side: sign what changed for these crates.
    pub fn publish(&self, crates: &[&str]) -> String {
        let mut extra = Vec::new();
        for c in crates {
            extra.push("--crate");
            extra.push(c);
        }
        self.index_sign(&["update"], &extra)
    }

    fn make_root_repository(&self) {
        let now = shared_trust::time::now_unix();
        let mut repo = Repository::new(now, true);
        for role in ["root", "targets", "snapshot", "timestamp"] {
            let k: Arc<dyn Signer> = Arc::new(Ed25519Signer::generate());
            repo.add_key(role, k).unwrap();
        }
        let crates_root = std::fs::read(self.keys.join("crates-root.json")).unwrap();
        repo.add_target(
            "targets",
            trust_roots::chain::CRATES_ROOT_TARGET,
            &crates_root,
            None,
        )
        .unwrap();
        let dir = self.tmp.path().join("root-repository");
        repo.publish(&dir).unwrap();
        *self.root_repo.borrow_mut() = Some(repo);
        self.attach_root_repository();
    }

    /// The root repository signs a new timestamp living `seconds`; the
    /// registry attaches it and the mirror syncs.
    pub fn renew_root_repository(&self, seconds: i64) {
        let mut guard = self.root_repo.borrow_mut();
        let repo = guard.as_mut().unwrap();
        repo.lifetimes.timestamp = seconds;
        repo.set_time(shared_trust::time::now_unix());
        repo.touch("timestamp");
        repo.publish(&self.tmp.path().join("root-repository"))
            .unwrap();
        drop(guard);
        self.attach_root_repository();
        self.sync_mirror();
    }

    fn attach_root_repository(&self) {
        let dir = self.tmp.path().join("root-repository");
        let out = Command::new(bin("index-sign"))
            .args(["attach-root-repository", "--index"])
            .arg(&self.registry)
            .arg("--from")
            .arg(&dir)
            .output()
            .unwrap();
        check(&out, "index-sign attach-root-repository");
    }

    /// The mirror syncs: a fresh copy of the registry's index and `tuf/`
    /// (a git mirror keeps its history and commits the sync).
    pub fn sync_mirror(&self) {
        let dst = self.mirror.join("index");
        let git = dst.join(".git");
        let saved = self.tmp.path().join("saved-git");
        if git.exists() {
            std::fs::rename(&git, &saved).unwrap();
        }
        let _ = std::fs::remove_dir_all(&dst);
        copy_dir(&self.registry, &dst);
        if saved.exists() {
            std::fs::rename(&saved, &git).unwrap();
            self.git_commit_mirror("sync");
        }
    }

    /// The served copy of a crate file.
    pub fn mirror_file(&self, index_path: &str) -> PathBuf {
        self.mirror.join("index").join(index_path)
    }

    /// The mirror as a git index: `mirror/index` committed (a work tree
    /// whose repository cargo and the verifier fetch).
    pub fn git_commit_mirror(&self, message: &str) {
        let dir = self.mirror.join("index");
        let git = |args: &[&str]| {
            let out = Command::new("git")
                .args([
                    "-c",
                    "user.name=mirror",
                    "-c",
                    "user.email=mirror@example.com",
                ])
                .args(args)
                .current_dir(&dir)
                .output()
                .unwrap();
            check(&out, &format!("git {args:?}"));
        };
        if !dir.join(".git").exists() {
            git(&["init", "-q", "-b", "master"]);
        }
        git(&["add", "-A"]);
        git(&["commit", "-q", "--allow-empty", "-m", message]);
    }

    fn git_url(&self) -> String {
        crate::support::file_url(&self.mirror.join("index"))
    }

    fn setup_cargo_home(&self, config: &str, mode: Mode) {
        std::fs::create_dir_all(&self.cargo_home).unwrap();
        std::fs::write(self.cargo_home.join("config.toml"), config).unwrap();
        let internal = format!("{}/index/", self.server.url());
        let (name, urls) = match mode {
            Mode::Registry => ("internal", vec![internal.as_str()]),
            _ => ("crates-io", vec![CRATES_IO, "https://index.crates.io/"]),
        };
        let mut cmd = Command::new(bin("trust-roots"));
        cmd.args(["pin", "add", name, "--root"])
            .arg(self.tmp.path().join("root-repository/metadata/1.root.json"));
        for u in urls {
            cmd.args(["--url", u]);
        }
        let out = cmd
            .arg("--cargo-home")
            .arg(&self.cargo_home)
            .output()
            .unwrap();
        check(&out, "trust-roots pin add");
    }

    fn setup_project(&self, mode: Mode) {
        std::fs::create_dir_all(self.project.join("src")).unwrap();
        let registry = match mode {
            Mode::Registry => ", registry = \"internal\"",
            _ => "",
        };
        std::fs::write(
            self.project.join("Cargo.toml"),
            format!(
                "[package]\nname = \"demo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
                 [dependencies]\nserde_json = {{ version = \"1\"{registry} }}\n\
                 log = {{ version = \"0.4\"{registry} }}\nlazy_static = {{ version = \"1\"{registry} }}\n"
            ),
        )
        .unwrap();
        std::fs::write(self.project.join("src/lib.rs"), "").unwrap();
    }

    /// Runs real cargo in the project with the world's CARGO_HOME.
    pub fn cargo(&self, args: &[&str]) -> Output {
        let out = Command::new(cargo())
            .args(args)
            .current_dir(&self.project)
            .env("CARGO_HOME", &self.cargo_home)
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("CARGO_REGISTRIES_CRATES_IO_PROTOCOL")
            .env("CARGO_TERM_COLOR", "never")
            .output()
            .unwrap();
        check(&out, &format!("cargo {args:?}"));
        out
    }

    /// `cargo index-verify ARGS --format json`, as cargo runs it.
    pub fn verify(&self, args: &[&str]) -> Run {
        let out = Command::new(bin("cargo-index-verify"))
            .arg("index-verify")
            .args(args)
            .args(["--format", "json"])
            .current_dir(&self.project)
            .env("CARGO_HOME", &self.cargo_home)
            .env("CARGO", cargo())
            .env_remove("CARGO_TARGET_DIR")
            .output()
            .unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Verifies and expects success.
    pub fn verify_ok(&self) -> Value {
        let r = self.verify(&[]);
        assert_eq!(r.code, 0, "expected success:\n{}\n{}", r.stdout, r.stderr);
        r.json()
    }

    /// The client's trusted state.
    pub fn state(&self) -> BTreeMap<String, Vec<u8>> {
        dir_bytes(&self.cargo_home.join("tuf").join("state"))
    }

    /// Verifies, expects exit 1 with every `needles` in the failures, and
    /// the trusted state unchanged.
    pub fn verify_fails(&self, needles: &[&str]) -> Run {
        self.verify_fails_with(&[], needles)
    }

    /// [`World::verify_fails`] with extra arguments.
    pub fn verify_fails_with(&self, args: &[&str], needles: &[&str]) -> Run {
        let before = self.state();
        let r = self.verify(args);
        assert_eq!(r.code, 1, "expected exit 1:\n{}\n{}", r.stdout, r.stderr);
        let failures = r.failures();
        eprintln!("cargo index-verify reported:\n{failures}");
        for n in needles {
            assert!(
                failures.contains(n),
                "failures do not mention {n:?}:\n{failures}"
            );
        }
        assert!(
            self.state() == before,
            "trusted state changed after a failure"
        );
        r
    }
}

/// Rewrites every line of a crate file with `edit`.
fn edit_lines(path: &Path, mut edit: impl FnMut(&mut serde_json::Map<String, Value>)) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = String::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut v: serde_json::Map<String, Value> = serde_json::from_str(line).unwrap();
        edit(&mut v);
        out.push_str(&serde_json::to_string(&v).unwrap());
        out.push('\n');
    }
    std::fs::write(path, out).unwrap();
}

fn locked_versions(w: &World) -> BTreeMap<String, String> {
    let lock = std::fs::read_to_string(w.project.join("Cargo.lock")).unwrap();
    let v: toml::Value = toml::from_str(&lock).unwrap();
    v["package"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["version"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn honest_mirror_verifies() {
    let w = World::new();
    let v = w.verify_ok();
    let reg = &v["registries"][0];
    assert_eq!(v["result"], "verified");
    assert_eq!(reg["registry"], "crates-io");
    assert_eq!(reg["packages"], 7, "{v:#}");
    assert_eq!(reg["verified"], 7);
    assert_eq!(reg["cached_crates_checked"], 7);
    assert!(
        reg["cached_index_entries_checked"].as_u64().unwrap() > 7,
        "{v:#}"
    );
    assert_eq!(reg["commitment"]["generation"], 1);
    assert_eq!(reg["commitment"]["files"], 7);
    assert!(reg["mirror"].as_str().unwrap().contains("company-mirror"));
    assert_eq!(reg["full_refresh"], true, "{v:#}");
    assert_eq!(reg["index_files_fetched"], 7, "{v:#}");
    // Warm, nothing published since: one request, the crates repository's
    // timestamp.
    w.server.clear_log();
    let v = w.verify_ok();
    let requests = w.server.requests();
    eprintln!("warm run requests:\n{}", requests.join("\n"));
    assert_eq!(
        requests,
        ["GET /index/tuf/metadata/timestamp.json 200"],
        "{requests:?}"
    );
    let reg = &v["registries"][0];
    assert_eq!(reg["full_refresh"], false, "{v:#}");
    assert_eq!(reg["index_files_reused"], 7, "{v:#}");
    assert_eq!(reg["verified"], 7, "{v:#}");
    assert_eq!(v["requests"], 1, "{v:#}");
    // --refresh asks for both repositories' next roots and every crate
    // file again (answered 304), but fetches no tree object.
    w.server.clear_log();
    let r = w.verify(&["--refresh"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let requests = w.server.requests();
    assert!(
        !requests.iter().any(|r| r.contains("/tuf/tree/")),
        "{requests:?}"
    );
    for probe in [
        "GET /index/tuf/metadata/2.root.json 404",
        "GET /index/tuf/root-repository/metadata/2.root.json 404",
    ] {
        assert_requested(&w, probe);
    }
    assert_eq!(
        requests
            .iter()
            .filter(|r| !r.contains("/tuf/"))
            .filter(|r| r.ends_with(" 304"))
            .count(),
        7,
        "{requests:?}"
    );
    assert_eq!(r.json()["registries"][0]["index_files_fetched"], 7);
    // Human output names the registry, the mirror, the snapshot and expiry.
    let out = Command::new(bin("cargo-index-verify"))
        .arg("index-verify")
        .current_dir(&w.project)
        .env("CARGO_HOME", &w.cargo_home)
        .env("CARGO", cargo())
        .output()
        .unwrap();
    check(&out, "human output");
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "registry crates-io",
        "company-mirror",
        "signed snapshot version",
        "expires",
        "packages verified: 7 of 7",
        "verified",
    ] {
        assert!(text.contains(needle), "{needle:?} missing:\n{text}");
    }
}

#[test]
fn reserialized_json_verifies() {
    let w = World::new();
    w.verify_ok();
    // The mirror re-serializes every line: spaces, reversed key order.
    for path in ["se/rd/serde", "3/l/log", "se/rd/serde_json"] {
        let p = w.mirror_file(path);
        let text = std::fs::read_to_string(&p).unwrap();
        let mut out = String::new();
        for line in text.lines() {
            let v: serde_json::Map<String, Value> = serde_json::from_str(line).unwrap();
            let parts: Vec<String> = v
                .iter()
                .rev()
                .map(|(k, x)| format!("{}: {}", serde_json::to_string(k).unwrap(), x))
                .collect();
            out.push_str(&format!("{{ {} }}\n", parts.join(", ")));
        }
        std::fs::write(&p, out).unwrap();
    }
    // Cargo reads the re-serialized files too.
    std::fs::remove_dir_all(w.cargo_home.join("registry")).unwrap();
    w.cargo(&["fetch"]);
    w.verify_ok();
}

#[test]
fn changed_cksum_with_malicious_crate_fails() {
    let w = World::new();
    w.verify_ok();
    // The mirror serves its own serde 1.0.102 and the matching cksum.
    let evil = b"not the real serde".to_vec();
    let evil_sum = shared_trust::crypto::sha256_hex(&evil);
    std::fs::write(w.mirror.join("dl/serde-1.0.102.crate"), &evil).unwrap();
    edit_lines(&w.mirror_file("se/rd/serde"), |v| {
        if v["vers"] == "1.0.102" {
            v.insert("cksum".into(), Value::String(evil_sum.clone()));
        }
    });
    // A warm run does not ask for serde's file again (the copy verified
    // before is still the signed one); --refresh does, and names it.
    w.verify_ok();
    w.verify_fails_with(&["--refresh"], &["serde", "version 1.0.102", "cksum"]);
    // Cargo, resolving afresh, takes the mirror's word for it: the lockfile
    // and cargo's cached index carry the malicious checksum, and each is
    // named (checked against the copy verified before).
    std::fs::remove_dir_all(w.cargo_home.join("registry")).unwrap();
    std::fs::remove_file(w.project.join("Cargo.lock")).unwrap();
    w.cargo(&["generate-lockfile"]);
    let r = w.verify_fails(&["Cargo.lock checksum", "cargo's cached index file"]);
    assert!(r.failures().contains(&evil_sum), "{}", r.failures());
}

#[test]
fn removed_version_fails() {
    let w = World::new();
    w.verify_ok();
    let p = w.mirror_file("3/l/log");
    let text = std::fs::read_to_string(&p).unwrap();
    let kept: Vec<&str> = text.lines().filter(|l| !l.contains("\"0.4.8\"")).collect();
    std::fs::write(&p, kept.join("\n") + "\n").unwrap();
    w.verify_fails_with(&["--refresh"], &["log", "version 0.4.8 removed"]);
}

#[test]
fn yank_flipped_fails() {
    let w = World::new();
    w.verify_ok();
    edit_lines(&w.mirror_file("la/zy/lazy_static"), |v| {
        if v["vers"] == "1.4.0" {
            v.insert("yanked".into(), Value::Bool(true));
        }
    });
    w.verify_fails_with(
        &["--refresh"],
        &["lazy_static", "version 1.4.0: yanked false -> true"],
    );
}

/// Registry side: appends a new (pre-release, so never resolved by the
/// project) version of `krate` whose `.crate` is `crate_file`'s bytes.
fn append_version(w: &World, index_path: &str, vers: &str, crate_file: &str) {
    let crate_bytes = std::fs::read(fixtures().join("crates").join(crate_file)).unwrap();
    let p = w.registry.join(index_path);
    let text = std::fs::read_to_string(&p).unwrap();
    let mut new: serde_json::Map<String, Value> =
        serde_json::from_str(text.lines().last().unwrap()).unwrap();
    new.insert("vers".into(), Value::String(vers.into()));
    new.insert(
        "cksum".into(),
        Value::String(shared_trust::crypto::sha256_hex(&crate_bytes)),
    );
    std::fs::write(
        &p,
        format!("{text}{}\n", serde_json::to_string(&new).unwrap()),
    )
    .unwrap();
}

#[test]
fn crate_file_rolled_back_to_older_signed_copy_fails() {
    let w = World::new();
    let old_copy = std::fs::read(w.mirror_file("3/r/ryu")).unwrap();
    append_version(&w, "3/r/ryu", "1.0.3-test", "ryu-1.0.2.crate");
    let out = w.publish(&["ryu"]);
    assert!(out.contains("generation 2"), "{out}");
    w.sync_mirror();
    w.verify_ok();
    // The mirror serves generation 2's metadata with ryu's older (signed)
    // file.
    std::fs::write(w.mirror_file("3/r/ryu"), old_copy).unwrap();
    w.verify_fails_with(&["--refresh"], &["ryu", "version 1.0.3-test removed"]);
}

#[test]
fn whole_snapshot_rollback_fails() {
    let w = World::new();
    let old = w.tmp.path().join("old-mirror");
    copy_dir(&w.mirror.join("index"), &old);
    edit_lines(&w.registry.join("3/l/log"), |v| {
        if v["vers"] == "0.4.0" {
            v.insert("yanked".into(), Value::Bool(true));
        }
    });
    w.publish(&["log"]);
    w.sync_mirror();
    w.verify_ok();
    // The mirror goes back to the whole of generation 1.
    std::fs::remove_dir_all(w.mirror.join("index")).unwrap();
    copy_dir(&old, &w.mirror.join("index"));
    w.verify_fails(&["rollback", "timestamp"]);
}

#[test]
fn expired_timestamp_fails() {
    let w = World::new();
    // The registry renews with a short lifetime; the mirror then freezes.
    let mut tries = 0;
    loop {
        w.index_sign(&["renew"], &["--timestamp-expiry", "4s"]);
        w.sync_mirror();
        let r = w.verify(&[]);
        if r.code == 0 {
            break;
        }
        tries += 1;
        assert!(tries < 3, "fresh timestamp did not verify:\n{}", r.stdout);
    }
    std::thread::sleep(std::time::Duration::from_secs(5));
    w.verify_fails(&["timestamp", "expired"]);
}

#[test]
fn files_mixed_from_two_snapshots_fail() {
    let w = World::new();
    let gen1_itoa = std::fs::read(w.mirror_file("it/oa/itoa")).unwrap();
    for (path, vers) in [("it/oa/itoa", "0.4.0"), ("3/l/log", "0.4.1")] {
        edit_lines(&w.registry.join(path), |v| {
            if v["vers"] == vers {
                v.insert("yanked".into(), Value::Bool(true));
            }
        });
    }
    w.publish(&["itoa", "log"]);
    w.sync_mirror();
    // Generation 2's metadata and log, generation 1's itoa.
    std::fs::write(w.mirror_file("it/oa/itoa"), gen1_itoa).unwrap();
    let r = w.verify(&[]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(r.failures().contains("it/oa/itoa"), "{}", r.failures());
    assert!(!r.failures().contains("3/l/log"), "{}", r.failures());
}

#[test]
fn crate_swapped_in_cargo_cache_fails() {
    let w = World::new();
    w.verify_ok();
    let cache = w.cargo_home.join("registry/cache");
    let dir = std::fs::read_dir(&cache)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::write(dir.join("ryu-1.0.2.crate"), b"swapped").unwrap();
    w.verify_fails(&["ryu 1.0.2", "ryu-1.0.2.crate", "cargo's cache"]);
}

#[test]
fn lockfile_checksum_differing_from_signed_fails() {
    let w = World::new();
    w.verify_ok();
    let p = w.project.join("Cargo.lock");
    let lock = std::fs::read_to_string(&p).unwrap();
    let start = lock.find("name = \"itoa\"").unwrap();
    let at = start + lock[start..].find("checksum = \"").unwrap() + "checksum = \"".len();
    let mut bytes = lock.into_bytes();
    bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
    std::fs::write(&p, bytes).unwrap();
    w.verify_fails(&["itoa 0.4.4", "Cargo.lock checksum"]);
}

#[test]
fn mirror_serving_its_own_root_fails() {
    let w = World::new();
    w.verify_ok();
    // The mirror signs its own root repository (new keys, version 2) and
    // serves it in place of the real one.
    let now = shared_trust::time::now_unix();
    let mut repo = Repository::new(now, true);
    for role in ["root", "targets", "snapshot", "timestamp"] {
        let k: Arc<dyn Signer> = Arc::new(Ed25519Signer::generate());
        repo.add_key(role, k).unwrap();
    }
    repo.publish(&w.tmp.path().join("evil")).unwrap();
    repo.touch("root");
    repo.publish(&w.tmp.path().join("evil")).unwrap();
    let dst = w.mirror.join("index/tuf/root-repository/metadata");
    std::fs::remove_dir_all(&dst).unwrap();
    copy_dir(&w.tmp.path().join("evil/metadata"), &dst);
    // A warm run asks the root repository nothing while its verified
    // metadata is unexpired; --refresh asks for its next root.
    w.verify_fails_with(&["--refresh"], &["root version 2", "threshold"]);
    // A client with no trusted state yet but the pin is refused too.
    std::fs::remove_dir_all(w.cargo_home.join("tuf/state")).unwrap();
    let r = w.verify(&[]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(r.failures().contains("root version 2"), "{}", r.failures());
}

/// Asserts the mirror saw `request` (`METHOD PATH STATUS`) since the log
/// was last cleared.
#[track_caller]
fn assert_requested(w: &World, request: &str) {
    let requests = w.server.requests();
    assert!(
        requests.iter().any(|r| r == request),
        "{request} not in {requests:?}"
    );
}

#[test]
fn warm_run_picks_up_a_rotated_timestamp_key() {
    let w = World::new();
    w.verify_ok();
    // The registry's root v2 (signed with the root key) replaces the
    // timestamp key; the mirror syncs.
    let tuf = w.registry.join("tuf");
    let mut repo = Repository::load(&tuf, shared_trust::time::now_unix()).unwrap();
    let key = |role: &str| -> Arc<dyn Signer> {
        Arc::new(
            shared_trust::keyfile::read_private_key(&w.keys.join(format!("{role}.key"))).unwrap(),
        )
    };
    for role in ["root", "targets", "snapshot", "index"] {
        repo.add_signer(role, key(role));
    }
    repo.remove_key("timestamp", key("timestamp").keyid())
        .unwrap();
    let new = Ed25519Signer::generate();
    std::fs::remove_file(w.keys.join("timestamp.key")).unwrap();
    shared_trust::keyfile::write_private_key(&w.keys.join("timestamp.key"), &new).unwrap();
    repo.add_key("timestamp", Arc::new(new)).unwrap();
    repo.publish(&tuf).unwrap();
    w.sync_mirror();
    // The warm path's timestamp no longer verifies against root v1; the
    // full refresh behind it fetches root v2 and verifies.
    w.server.clear_log();
    let v = w.verify_ok();
    assert_eq!(v["registries"][0]["full_refresh"], true, "{v:#}");
    assert_requested(&w, "GET /index/tuf/metadata/2.root.json 200");
    // The next run is warm again, and the registry keeps signing with the
    // new key.
    w.server.clear_log();
    w.verify_ok();
    assert_eq!(w.server.requests().len(), 1, "{:?}", w.server.requests());
    append_version(&w, "3/r/ryu", "1.0.3-test", "ryu-1.0.2.crate");
    w.publish(&["ryu"]);
    w.sync_mirror();
    let v = w.verify_ok();
    assert_eq!(v["registries"][0]["full_refresh"], false, "{v:#}");
    assert_eq!(v["registries"][0]["commitment"]["generation"], 2);
    assert_eq!(v["registries"][0]["index_files_fetched"], 1, "{v:#}");
}

#[test]
fn warm_run_asks_the_root_repository_again_once_its_timestamp_expires() {
    let w = World::new();
    // The root repository's timestamp lives 5 seconds; a full run, then a
    // warm one that asks only for the crates repository's timestamp.
    let mut tries = 0;
    loop {
        w.renew_root_repository(5);
        let full = w.verify(&[]);
        w.server.clear_log();
        let warm = w.verify(&[]);
        let requests = w.server.requests();
        if full.code == 0 && warm.code == 0 && requests.len() == 1 {
            assert_eq!(warm.json()["registries"][0]["full_refresh"], false);
            break;
        }
        tries += 1;
        assert!(
            tries < 3,
            "no warm run within the timestamp's life:\n{}\n{requests:?}",
            warm.stdout
        );
    }
    // The mirror freezes the root repository. Once the verified copy has
    // expired the warm path is not taken, and the full refresh refuses
    // the frozen timestamp.
    std::thread::sleep(std::time::Duration::from_secs(6));
    w.verify_fails(&["timestamp", "expired"]);
    // Renewed, the root repository verifies again (full path).
    w.renew_root_repository(86_400);
    let v = w.verify_ok();
    assert_eq!(v["registries"][0]["full_refresh"], true, "{v:#}");
}

#[test]
fn offline_roles_renewed_by_the_registry_reach_clients() {
    let w = World::new();
    w.verify_ok();
    let out = w.index_sign(&["renew", "--offline-roles"], &[]);
    assert!(out.contains("root re-signed"), "{out}");
    w.sync_mirror();
    // A warm run follows the new snapshot and targets with root 1 (still
    // valid, same keys); --refresh asks for root 2 and trusts it from then
    // on.
    let v = w.verify_ok();
    assert_eq!(v["registries"][0]["full_refresh"], false, "{v:#}");
    w.server.clear_log();
    let r = w.verify(&["--refresh"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_requested(&w, "GET /index/tuf/metadata/2.root.json 200");
    let root2 = std::fs::read(w.registry.join("tuf/metadata/2.root.json")).unwrap();
    assert!(
        w.state()
            .iter()
            .any(|(name, bytes)| name.ends_with("/root.json") && *bytes == root2),
        "root 2 is not the crates repository's trusted root"
    );
    w.verify_ok();
}

#[test]
fn registry_without_metadata_fails() {
    let w = World::new();
    let saved = w.tmp.path().join("saved-tuf");
    copy_dir(&w.mirror.join("index/tuf"), &saved);
    std::fs::remove_dir_all(w.mirror.join("index/tuf")).unwrap();
    // A first run (nothing trusted yet but the pin).
    let r = w.verify(&[]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.failures().contains("no signed metadata"),
        "{}",
        r.failures()
    );
    // After a verified run, the metadata disappears.
    copy_dir(&saved, &w.mirror.join("index/tuf"));
    w.verify_ok();
    std::fs::remove_dir_all(w.mirror.join("index/tuf")).unwrap();
    w.verify_fails(&["no signed metadata"]);
}

#[test]
fn publish_yank_and_unyank_are_picked_up() {
    let w = World::new();
    w.verify_ok();
    // Publish a new version of lazy_static.
    append_version(
        &w,
        "la/zy/lazy_static",
        "1.4.1-test",
        "lazy_static-1.4.0.crate",
    );
    let out = w.publish(&["lazy_static"]);
    assert!(out.contains("generation 2"), "{out}");
    w.sync_mirror();
    let v = w.verify_ok();
    assert_eq!(v["registries"][0]["commitment"]["generation"], 2);
    // Yank log 0.4.8 (the locked version): verified, with a note.
    edit_lines(&w.registry.join("3/l/log"), |v| {
        if v["vers"] == "0.4.8" {
            v.insert("yanked".into(), Value::Bool(true));
        }
    });
    w.publish(&["log"]);
    w.sync_mirror();
    let v = w.verify_ok();
    assert_eq!(v["registries"][0]["commitment"]["generation"], 3);
    let notes = v["registries"][0]["notes"].to_string();
    assert!(notes.contains("log 0.4.8: yanked"), "{notes}");
    // Unyank: the note goes away.
    edit_lines(&w.registry.join("3/l/log"), |v| {
        if v["vers"] == "0.4.8" {
            v.insert("yanked".into(), Value::Bool(false));
        }
    });
    w.publish(&["log"]);
    w.sync_mirror();
    let v = w.verify_ok();
    assert_eq!(v["registries"][0]["commitment"]["generation"], 4);
    assert!(!v["registries"][0]["notes"]
        .to_string()
        .contains("log 0.4.8: yanked"));
    assert_eq!(locked_versions(&w)["log"], "0.4.8");
}

#[test]
fn offline_verifies_against_the_last_verified_snapshot() {
    let w = World::new();
    w.verify_ok();
    // Mirror gone: offline still verifies, online cannot run.
    std::fs::remove_dir_all(w.mirror.join("index")).unwrap();
    let r = w.verify(&["--offline"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.json()["offline"], true);
    // And still catches a swapped .crate in cargo's cache.
    let cache = w.cargo_home.join("registry/cache");
    let dir = std::fs::read_dir(&cache)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::write(dir.join("log-0.4.8.crate"), b"swapped").unwrap();
    let r = w.verify(&["--offline"]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(r.failures().contains("log 0.4.8"), "{}", r.failures());
}

#[test]
fn mirror_operator_mode_names_every_difference() {
    let w = World::new();
    let run = |extra: &[&str]| {
        let out = Command::new(bin("cargo-index-verify"))
            .args(["index-verify", "mirror", "--format", "json", "--index"])
            .arg(w.mirror.join("index"))
            .args(["--registry", CRATES_IO, "--crates"])
            .arg(w.mirror.join("dl"))
            .args(extra)
            .env("CARGO_HOME", &w.cargo_home)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    let (code, out) = run(&[]);
    assert_eq!(code, 0, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["registries"][0]["files"], 7);
    assert_eq!(v["registries"][0]["crates"], 7);
    // A changed crate file and a swapped .crate are both named.
    edit_lines(&w.mirror_file("cf/g-/cfg-if"), |v| {
        v.insert("yanked".into(), Value::Bool(true));
    });
    std::fs::write(w.mirror.join("dl/itoa-0.4.4.crate"), b"swapped").unwrap();
    let (code, out) = run(&[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("cf/g-/cfg-if: content differs"), "{out}");
    assert!(out.contains("itoa 0.4.4"), "{out}");
    // A crate file that does not verify is not used to judge its .crate.
    let p = w.mirror_file("3/r/ryu");
    let text = std::fs::read_to_string(&p).unwrap();
    let kept: Vec<&str> = text.lines().filter(|l| !l.contains("\"1.0.2\"")).collect();
    std::fs::write(&p, kept.join("\n") + "\n").unwrap();
    let (code, out) = run(&[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("ryu 1.0.2")
            && out.contains("cannot be checked: its crate file 3/r/ryu is not the signed one"),
        "{out}"
    );
    // Relative paths work as well.
    let out = Command::new(bin("cargo-index-verify"))
        .args([
            "index-verify",
            "mirror",
            "--index",
            "index",
            "--crates",
            "dl",
        ])
        .args(["--registry", CRATES_IO])
        .current_dir(&w.mirror)
        .env("CARGO_HOME", &w.cargo_home)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("registry crates-io"), "{text}");
}

#[test]
fn no_lockfile_cannot_run() {
    let w = World::new();
    std::fs::remove_file(w.project.join("Cargo.lock")).unwrap();
    let r = w.verify(&[]);
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("no Cargo.lock"), "{}", r.stderr);
}

#[test]
fn git_index_mirror_verifies_and_catches_tampering() {
    let w = World::new_git();
    let v = w.verify_ok();
    let reg = &v["registries"][0];
    assert_eq!(reg["verified"], 7, "{v:#}");
    assert_eq!(reg["cached_crates_checked"], 7, "{v:#}");
    assert!(reg["mirror"].as_str().unwrap().contains("file://"), "{v:#}");
    // A publish on the registry, synced by the git mirror, is picked up.
    append_version(&w, "3/r/ryu", "1.0.3-test", "ryu-1.0.2.crate");
    w.publish(&["ryu"]);
    w.sync_mirror();
    let v = w.verify_ok();
    assert_eq!(v["registries"][0]["commitment"]["generation"], 2);
    // The mirror commits a changed cksum and its own .crate.
    let evil = b"not the real serde".to_vec();
    std::fs::write(w.mirror.join("dl/serde-1.0.102.crate"), &evil).unwrap();
    edit_lines(&w.mirror_file("se/rd/serde"), |v| {
        if v["vers"] == "1.0.102" {
            v.insert(
                "cksum".into(),
                Value::String(shared_trust::crypto::sha256_hex(&evil)),
            );
        }
    });
    w.git_commit_mirror("tamper");
    w.verify_fails(&["serde", "version 1.0.102: cksum"]);
}

#[test]
fn own_registry_manifest_path_and_vendored_sources() {
    let w = World::new_registry();
    // From another directory, with --manifest-path.
    let out = Command::new(bin("cargo-index-verify"))
        .arg("index-verify")
        .arg("--manifest-path")
        .arg(w.project.join("Cargo.toml"))
        .args(["--format", "json"])
        .current_dir(w.tmp.path())
        .env("CARGO_HOME", &w.cargo_home)
        .env("CARGO", cargo())
        .output()
        .unwrap();
    check(&out, "verify with --manifest-path");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let reg = &v["registries"][0];
    assert_eq!(reg["registry"], "internal", "{v:#}");
    assert_eq!(reg["pin"], "internal", "{v:#}");
    assert_eq!(reg["verified"], 7, "{v:#}");
    // Vendored: the project's .cargo/config.toml replaces the registry
    // with `cargo vendor`'s directory; each package's recorded checksum is
    // checked against the signed index.
    let out = w.cargo(&["vendor", "--locked", "vendor"]);
    let config = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(config.contains("vendored-sources"), "{config}");
    std::fs::create_dir_all(w.project.join(".cargo")).unwrap();
    std::fs::write(w.project.join(".cargo/config.toml"), &config).unwrap();
    let v = w.verify_ok();
    let reg = &v["registries"][0];
    assert!(
        reg["mirror"].as_str().unwrap().contains("directory"),
        "{v:#}"
    );
    assert_eq!(reg["cached_crates_checked"], 7, "{v:#}");
    let p = w.project.join("vendor/ryu/.cargo-checksum.json");
    let mut sums: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    sums["package"] = Value::String("00".repeat(32));
    std::fs::write(&p, serde_json::to_vec(&sums).unwrap()).unwrap();
    w.verify_fails(&["ryu 1.0.2", ".cargo-checksum.json", "signed cksum"]);
}

#[test]
fn git_index_tamper_battery() {
    let w = World::new_git();
    w.verify_ok();
    // A yank flipped, committed by the mirror.
    edit_lines(&w.mirror_file("la/zy/lazy_static"), |v| {
        if v["vers"] == "1.4.0" {
            v.insert("yanked".into(), Value::Bool(true));
        }
    });
    w.git_commit_mirror("flip a yank");
    w.verify_fails(&["lazy_static", "version 1.4.0: yanked false -> true"]);
    w.sync_mirror();
    w.verify_ok();
    // A version removed.
    let p = w.mirror_file("3/l/log");
    let text = std::fs::read_to_string(&p).unwrap();
    let kept: Vec<&str> = text.lines().filter(|l| !l.contains("\"0.4.8\"")).collect();
    std::fs::write(&p, kept.join("\n") + "\n").unwrap();
    w.git_commit_mirror("drop a version");
    w.verify_fails(&["log", "version 0.4.8 removed"]);
    w.sync_mirror();
    w.verify_ok();
    // The whole index rolled back to generation 1 after generation 2.
    let gen1 = w.tmp.path().join("gen1");
    copy_dir(&w.registry, &gen1);
    append_version(&w, "3/r/ryu", "1.0.3-test", "ryu-1.0.2.crate");
    w.publish(&["ryu"]);
    w.sync_mirror();
    w.verify_ok();
    let git = w.mirror.join("index/.git");
    let saved = w.tmp.path().join("saved-git-2");
    std::fs::rename(&git, &saved).unwrap();
    std::fs::remove_dir_all(w.mirror.join("index")).unwrap();
    copy_dir(&gen1, &w.mirror.join("index"));
    std::fs::rename(&saved, &git).unwrap();
    w.git_commit_mirror("roll back");
    w.verify_fails(&["rollback", "timestamp"]);
    // No metadata at all.
    std::fs::remove_dir_all(w.mirror.join("index/tuf")).unwrap();
    w.git_commit_mirror("drop the metadata");
    w.verify_fails(&["no signed metadata"]);
}
