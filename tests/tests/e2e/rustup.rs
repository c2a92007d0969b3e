//! End-to-end tests of `rustup-verify` with real, unmodified rustup.
//!
//! Each test builds a small but real dist tree (rustup-installer tarballs
//! in gz, xz and zst of a fake toolchain whose `rustc` is a shell script),
//! creates the root repository with the root ceremony, signs the tree
//! with `rustup-verify release sign`, serves it from a static server on
//! 127.0.0.1 (the mirror; it stops by itself), pins the root in a
//! temporary `CARGO_HOME`, and runs rustup (a copy inside that
//! `CARGO_HOME`, with a temporary `RUSTUP_HOME`) through
//! `rustup-verify run`. The machine's own rustup, `~/.cargo` and
//! `~/.rustup` are never used for writing.
//!
//! The `rustup-verify` binary is taken from the target directory beside
//! this test executable: workspace runs (`cargo nextest run --workspace`,
//! `cargo test --workspace`) build it, because the `rustup-verify` package
//! has an integration test of its own. A missing or stale binary fails
//! with a message saying so. Tests need `rustup` on PATH; set
//! `RUSTUP_VERIFY_E2E_SKIP=1` to skip them on a machine without it.

#[path = "../../../rustup-verify/benches/support/fakedist.rs"]
mod fakedist;

use fakedist::{
    copy_tree, install_rustup_copy, root_ceremony, rustup_version, tree_bytes, write_rustup_init,
    write_rustup_release, write_toolchain, Keys, StaticServer, Toolchain,
};
use shared_trust::time;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;
use trust_roots::pins::{self, PinLocations};

/// The `rustup-verify` binary built with this workspace.
fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target profile directory");
    let bin = dir.join("rustup-verify");
    assert!(
        bin.is_file(),
        "{} is missing: run the workspace tests (cargo nextest run --workspace) or `cargo build -p rustup-verify` first",
        bin.display()
    );
    let built = std::fs::metadata(&bin).unwrap().modified().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rustup-verify/src");
    for e in std::fs::read_dir(&src).unwrap().flatten() {
        let changed = e.metadata().unwrap().modified().unwrap();
        assert!(
            changed <= built,
            "{} is older than {}: rebuild it (cargo build -p rustup-verify)",
            bin.display(),
            e.path().display()
        );
    }
    bin
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[track_caller]
fn assert_ok(out: &Output) {
    assert!(out.status.success(), "expected success:\n{}", text(out));
}

#[track_caller]
fn assert_refused(out: &Output, needles: &[&str]) {
    let all = text(out);
    assert_eq!(out.status.code(), Some(1), "expected exit 1:\n{all}");
    let err = String::from_utf8_lossy(&out.stderr);
    for n in needles {
        assert!(err.contains(n), "stderr lacks {n:?}:\n{all}");
    }
}

const STABLE: (&str, &str) = ("1.86.0", "2025-04-03");
const NEXT: (&str, &str) = ("1.87.0", "2025-05-15");

/// A signed tree, its mirror, and a client machine (temporary homes).
struct World {
    _tmp: tempfile::TempDir,
    work: PathBuf,
    tree: PathBuf,
    keys: Keys,
    mirror: StaticServer,
    cargo_home: PathBuf,
    rustup: PathBuf,
}

impl World {
    /// `None` (after saying so) when rustup is absent and skipping is allowed.
    fn new() -> Option<World> {
        let tmp = tempfile::tempdir().unwrap();
        let work = tmp.path().to_path_buf();
        let cargo_home = work.join("cargo-home");
        let Some(rustup) = install_rustup_copy(&cargo_home) else {
            if std::env::var_os("RUSTUP_VERIFY_E2E_SKIP").is_some_and(|v| v == "1") {
                eprintln!("SKIPPED: rustup is not on PATH (RUSTUP_VERIFY_E2E_SKIP=1)");
                return None;
            }
            panic!("rustup is not on PATH; these tests need real rustup (set RUSTUP_VERIFY_E2E_SKIP=1 to skip them)");
        };
        let rustup_version = rustup_version(&rustup);
        assert!(!rustup_version.is_empty(), "cannot read rustup's version");
        let tree = work.join("tree");
        write_toolchain(&tree, &Toolchain::new("stable", STABLE.0, STABLE.1));
        write_rustup_release(&tree, &rustup_version);
        write_rustup_init(&tree, &rustup_version);
        let keys = Keys::generate(&work.join("keys"));
        let root = root_ceremony(&tree, &keys, time::now_unix());
        let mirror = StaticServer::start(&tree, Duration::from_secs(300));
        let w = World {
            _tmp: tmp,
            work,
            tree,
            keys,
            mirror,
            cargo_home,
            rustup,
        };
        assert_ok(&w.sign(&["--key", "rel1", "--key", "rel2"]));
        pins::add_user_pin(
            &PinLocations::new(&w.cargo_home, w.no_system_pins()),
            "rust-dist",
            &[w.mirror.url()],
            &root,
            false,
        )
        .unwrap();
        Some(w)
    }

    fn no_system_pins(&self) -> PathBuf {
        self.work.join("no-system-pins.json")
    }

    fn cli(&self) -> Command {
        let mut c = Command::new(binary());
        c.env("CARGO_HOME", &self.cargo_home)
            .env("CARGO_TUF_SYSTEM_PINS", self.no_system_pins())
            .env_remove("RUSTUP_TOOLCHAIN")
            .env_remove("RUST_RECURSION_COUNT")
            .env_remove("RUSTUP_DIST_SERVER")
            .env_remove("RUSTUP_UPDATE_ROOT");
        c
    }

    /// `rustup-verify release sign TREE ...`; `--key NAME` names key files.
    fn sign(&self, args: &[&str]) -> Output {
        let mut c = self.cli();
        c.args(["release", "sign"]).arg(&self.tree);
        let mut it = args.iter();
        while let Some(a) = it.next() {
            c.arg(a);
            if matches!(*a, "--key" | "--nightly-key") {
                let name = it.next().unwrap();
                c.arg(if *a == "--key" {
                    self.keys.key(name)
                } else {
                    self.keys.public(name)
                });
            }
        }
        c.arg("--online-key")
            .arg(self.keys.key("ts"))
            .arg("--online-key")
            .arg(self.keys.key("snap"));
        c.output().unwrap()
    }

    fn rustup_home(&self, name: &str) -> PathBuf {
        self.work.join(format!("rustup-home-{name}"))
    }

    fn rustup_env(&self, c: &mut Command, rustup_home: &Path) {
        c.env("RUSTUP_HOME", rustup_home)
            .env("CARGO_HOME", &self.cargo_home)
            .env("CARGO_TUF_SYSTEM_PINS", self.no_system_pins())
            .env("RUSTUP_DIST_SERVER", self.mirror.url())
            .env(
                "RUSTUP_UPDATE_ROOT",
                format!("{}/rustup", self.mirror.url()),
            )
            .env_remove("RUSTUP_TOOLCHAIN")
            .env_remove("RUST_RECURSION_COUNT")
            // rustup skips its self-update check when `CI` is set; the
            // tests expect the check, wherever they run.
            .env_remove("CI");
    }

    /// `rustup-verify run -- rustup ARGS` (the copy in CARGO_HOME).
    fn via_hook(&self, rustup_home: &Path, args: &[&str]) -> Output {
        let mut c = Command::new(binary());
        self.rustup_env(&mut c, rustup_home);
        c.arg("run").arg("--").arg(&self.rustup).args(args);
        c.output().unwrap()
    }

    /// rustup straight from the mirror, without the hook.
    fn direct(&self, rustup_home: &Path, args: &[&str]) -> Output {
        let mut c = Command::new(&self.rustup);
        self.rustup_env(&mut c, rustup_home);
        c.args(args);
        c.output().unwrap()
    }

    /// What the installed toolchain's rustc prints (no network).
    fn rustc_version(&self, rustup_home: &Path, toolchain: &str) -> String {
        let out = self.direct(rustup_home, &["run", toolchain, "rustc", "--version"]);
        assert_ok(&out);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn installed(&self, rustup_home: &Path) -> String {
        let out = self.direct(rustup_home, &["toolchain", "list"]);
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    /// The trusted state of every pinned repository.
    fn state(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        let s = tree_bytes(&self.cargo_home.join("tuf/state"));
        assert!(!s.is_empty(), "no trusted state yet");
        s
    }

    /// An honest install (so trusted state exists), in its own RUSTUP_HOME.
    fn warm_up(&self) {
        let out = self.via_hook(
            &self.rustup_home("warm"),
            &["toolchain", "install", "stable", "--profile", "minimal"],
        );
        assert_ok(&out);
    }

    /// A copy of the tree at `name` for the mirror to serve, edited by `f`.
    fn variant(&self, name: &str, f: impl FnOnce(&Path)) -> PathBuf {
        let dir = self.work.join(name);
        copy_tree(&self.tree, &dir);
        f(&dir);
        dir
    }
}

#[test]
fn install_and_update_through_the_hook_from_an_honest_mirror() {
    let Some(w) = World::new() else { return };
    let home = w.rustup_home("a");
    let out = w.via_hook(
        &home,
        &["toolchain", "install", "stable", "--profile", "minimal"],
    );
    assert_ok(&out);
    let stable = Toolchain::new("stable", STABLE.0, STABLE.1);
    assert_eq!(w.rustc_version(&home, "stable"), stable.rustc_version());
    let requests = w.mirror.requests();
    for expected in [
        "tuf/metadata/timestamp.json".to_string(),
        "dist/channel-rust-stable.toml".to_string(),
        "rustup/release-stable.toml".to_string(),
        stable.artifact("rustc", "tar.zst"),
        stable.artifact("cargo", "tar.xz"),
        stable.artifact("rust-std", "tar.gz"),
    ] {
        assert!(
            requests.contains(&expected),
            "the hook never fetched {expected}: {requests:?}"
        );
    }
    assert!(
        !requests.iter().any(|r| r.ends_with(".sha256")),
        "the hook must derive .sha256 from the verified manifest, not fetch it: {requests:?}"
    );

    // A new stable release, signed and published.
    let next = Toolchain::new("stable", NEXT.0, NEXT.1);
    write_toolchain(&w.tree, &next);
    let out = w.sign(&["--key", "rel1", "--key", "rel2"]);
    assert_ok(&out);
    let signed = String::from_utf8_lossy(&out.stdout);
    assert!(
        signed.contains("signed  dist/channel-rust-stable.toml (releases)"),
        "{signed}"
    );
    // The old dated manifest and the rustup files stay as signed.
    assert!(signed.contains("3 unchanged"), "{signed}");
    let out = w.via_hook(&home, &["update", "stable"]);
    assert_ok(&out);
    assert_eq!(w.rustc_version(&home, "stable"), next.rustc_version());
    // And again: nothing changed, rustup sees the same verified hash.
    let out = w.via_hook(&home, &["update", "stable"]);
    assert_ok(&out);
    assert!(
        text(&out).contains("unchanged - rustc 1.87.0"),
        "{}",
        text(&out)
    );
}

#[test]
fn tampered_component_tarball_is_refused() {
    let Some(w) = World::new() else { return };
    w.warm_up();
    let stable = Toolchain::new("stable", STABLE.0, STABLE.1);
    let zst = stable.artifact("rustc", "tar.zst");
    let bad = w.variant("tampered-tarball", |dir| {
        fakedist_flip(&dir.join(&zst), 100);
    });
    w.mirror.serve_from(&bad);
    let before = w.state();
    let home = w.rustup_home("victim");
    let out = w.via_hook(
        &home,
        &["toolchain", "install", "stable", "--profile", "minimal"],
    );
    let good = fakedist::sha256_hex(&std::fs::read(w.tree.join(&zst)).unwrap());
    let found = fakedist::sha256_hex(&std::fs::read(bad.join(&zst)).unwrap());
    assert_refused(
        &out,
        &[
            &format!("refused {zst}"),
            "sha256 mismatch",
            &format!("expected {good}"),
            &format!("found {found}"),
            "signed dist/channel-rust-stable.toml",
        ],
    );
    assert!(
        !w.installed(&home).contains("stable"),
        "{}",
        w.installed(&home)
    );
    assert_eq!(w.state(), before, "trusted state changed");
}

#[test]
fn tampered_manifest_with_matching_sha256_is_refused() {
    let Some(w) = World::new() else { return };
    w.warm_up();
    // The mirror swaps rustc for its own build and rewrites the manifest
    // and its .sha256 to match: rustup alone accepts this today.
    // Same length as the honest version: only the hash can tell.
    let evil = Toolchain::new("stable", "6.66.6", STABLE.1);
    let bad = w.variant("tampered-manifest", |dir| write_toolchain(dir, &evil));
    w.mirror.serve_from(&bad);

    let today = w.rustup_home("rustup-alone");
    let out = w.direct(
        &today,
        &["toolchain", "install", "stable", "--profile", "minimal"],
    );
    assert_ok(&out);
    assert_eq!(
        w.rustc_version(&today, "stable"),
        evil.rustc_version(),
        "without the hook rustup installs the mirror's rustc"
    );

    let before = w.state();
    let home = w.rustup_home("victim");
    let out = w.via_hook(
        &home,
        &["toolchain", "install", "stable", "--profile", "minimal"],
    );
    let signed =
        fakedist::sha256_hex(&std::fs::read(w.tree.join("dist/channel-rust-stable.toml")).unwrap());
    let served = std::fs::read_to_string(bad.join("dist/channel-rust-stable.toml.sha256")).unwrap();
    let served = served.split_whitespace().next().unwrap();
    assert_refused(
        &out,
        &[
            "refused dist/channel-rust-stable.toml.sha256",
            "dist/channel-rust-stable.toml: sha256 mismatch",
            &format!("expected {signed}"),
            // What the mirror's own .sha256 vouches for.
            &format!("found {served}"),
        ],
    );
    assert!(
        !w.installed(&home).contains("stable"),
        "{}",
        w.installed(&home)
    );
    assert_eq!(w.state(), before, "trusted state changed");
}

#[test]
fn rollback_to_an_older_stable_is_refused() {
    let Some(w) = World::new() else { return };
    let old = w.variant("old-release", |_| {});
    // 1.87.0 ships; the client updates through the honest mirror.
    write_toolchain(&w.tree, &Toolchain::new("stable", NEXT.0, NEXT.1));
    assert_ok(&w.sign(&["--key", "rel1", "--key", "rel2"]));
    let home = w.rustup_home("a");
    assert_ok(&w.via_hook(
        &home,
        &["toolchain", "install", "stable", "--profile", "minimal"],
    ));
    let before = w.state();

    // The mirror serves the old release as current, with the old (valid,
    // unexpired) metadata.
    w.mirror.serve_from(&old);
    let victim = w.rustup_home("victim");
    let out = w.via_hook(
        &victim,
        &["toolchain", "install", "stable", "--profile", "minimal"],
    );
    assert_refused(
        &out,
        &[
            "refused dist/channel-rust-stable.toml",
            "timestamp rollback",
        ],
    );
    assert!(!w.installed(&victim).contains("stable"));
    assert_eq!(w.state(), before, "trusted state changed");

    // The old manifest as current beside the current metadata.
    let mixed = w.variant("mixed", |dir| {
        for f in [
            "dist/channel-rust-stable.toml",
            "dist/channel-rust-stable.toml.sha256",
        ] {
            std::fs::copy(old.join(f), dir.join(f)).unwrap();
        }
    });
    w.mirror.serve_from(&mixed);
    let out = w.via_hook(
        &victim,
        &["toolchain", "install", "stable", "--profile", "minimal"],
    );
    assert_refused(
        &out,
        &[
            "refused dist/channel-rust-stable.toml",
            "dist/channel-rust-stable.toml: sha256 mismatch",
        ],
    );
    assert_eq!(w.state(), before, "trusted state changed");
    // And the client that has 1.87.0 keeps it.
    assert_eq!(
        w.rustc_version(&home, "stable"),
        Toolchain::new("stable", NEXT.0, NEXT.1).rustc_version()
    );
}

#[test]
fn frozen_mirror_with_an_expired_timestamp_is_refused() {
    let Some(w) = World::new() else { return };
    w.warm_up();
    let before = w.state();
    // A later release whose metadata has expired: signed three days ago
    // with a one-day timestamp, as a mirror frozen since would serve it.
    let stale = w.variant("stale", |dir| {
        write_toolchain(dir, &Toolchain::new("stable", NEXT.0, NEXT.1));
        fakedist::sign_with(
            dir,
            &w.keys,
            &["rel1", "rel2"],
            time::now_unix() - 3 * 86_400,
            86_400,
        );
    });
    w.mirror.serve_from(&stale);
    let home = w.rustup_home("victim");
    let out = w.via_hook(&home, &["update", "stable"]);
    assert_refused(
        &out,
        &[
            "refused dist/channel-rust-stable.toml",
            "rust-dist: timestamp version 3 expired at",
        ],
    );
    assert!(!w.installed(&home).contains("stable"));
    assert_eq!(w.state(), before, "trusted state changed");
}

#[test]
fn tampered_rustup_init_is_refused_on_self_update() {
    let Some(w) = World::new() else { return };
    // rustup 9.9.9 is released: release-stable.toml and rustup-init signed.
    write_rustup_release(&w.tree, "9.9.9");
    write_rustup_init(&w.tree, "9.9.9");
    assert_ok(&w.sign(&["--key", "rel1", "--key", "rel2"]));
    let home = w.rustup_home("a");
    let original = std::fs::read(&w.rustup).unwrap();
    let marker = w.cargo_home.join("self-replaced");

    let init = format!(
        "rustup/archive/9.9.9/{}/rustup-init",
        fakedist::host_triple()
    );
    let bad = w.variant("tampered-init", |dir| {
        std::fs::write(
            dir.join(&init),
            "#!/bin/sh\necho owned > \"$CARGO_HOME/self-replaced\"\n",
        )
        .unwrap();
    });
    w.mirror.serve_from(&bad);
    // Warm the state with the honest metadata the bad mirror still serves.
    let out = w.via_hook(
        &home,
        &[
            "toolchain",
            "install",
            "stable",
            "--profile",
            "minimal",
            "--no-self-update",
        ],
    );
    assert_ok(&out);
    let before = w.state();
    let out = w.via_hook(&home, &["self", "update"]);
    assert_refused(&out, &[&format!("refused {init}"), "mismatch"]);
    assert!(!marker.exists(), "the tampered rustup-init ran");
    assert_eq!(
        std::fs::read(&w.rustup).unwrap(),
        original,
        "rustup was replaced"
    );
    assert_eq!(w.state(), before, "trusted state changed");

    // From the honest mirror, the signed rustup-init is run.
    w.mirror.serve_from(&w.tree);
    let out = w.via_hook(&home, &["self", "update"]);
    assert_ok(&out);
    assert_eq!(
        std::fs::read_to_string(&marker).unwrap().trim(),
        "rustup-init 9.9.9",
        "{}",
        text(&out)
    );
}

#[test]
fn mirror_without_metadata_is_refused() {
    let Some(w) = World::new() else { return };
    w.warm_up();
    let before = w.state();
    let bare = w.variant("bare", |dir| {
        std::fs::remove_dir_all(dir.join("tuf")).unwrap()
    });
    w.mirror.serve_from(&bare);
    let home = w.rustup_home("victim");
    let out = w.via_hook(
        &home,
        &["toolchain", "install", "stable", "--profile", "minimal"],
    );
    assert_refused(
        &out,
        &[
            "refused dist/channel-rust-stable.toml.sha256",
            "serves no signed metadata",
        ],
    );
    assert!(!w.installed(&home).contains("stable"));
    assert_eq!(w.state(), before, "trusted state changed");
    // rustup alone installs from it.
    let alone = w.rustup_home("alone");
    assert_ok(&w.direct(
        &alone,
        &["toolchain", "install", "stable", "--profile", "minimal"],
    ));
}

#[test]
fn nightly_signed_by_its_online_key_while_stable_needs_the_threshold() {
    let Some(w) = World::new() else { return };
    let nightly = Toolchain::new("nightly", "1.88.0-nightly", "2025-04-04");
    write_toolchain(&w.tree, &nightly);
    // The release team delegates nightly to one online key.
    let out = w.sign(&[
        "--key",
        "rel1",
        "--key",
        "rel2",
        "--nightly-key",
        "nightly",
        "--key",
        "nightly",
    ]);
    assert_ok(&out);
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(
        s.contains("signed  dist/channel-rust-nightly.toml (nightly)"),
        "{s}"
    );
    // Next nightly: the online key alone suffices.
    let next = Toolchain::new("nightly", "1.88.0-nightly", "2025-04-05");
    write_toolchain(&w.tree, &next);
    let out = w.sign(&["--key", "nightly"]);
    assert_ok(&out);
    // A new stable with one release key, or the nightly key: refused.
    write_toolchain(&w.tree, &Toolchain::new("stable", NEXT.0, NEXT.1));
    let out = w.sign(&["--key", "rel1", "--key", "nightly"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("role releases changes"), "{err}");
    assert!(err.contains("needs 2 signature(s)"), "{err}");
    assert!(err.contains("provide 1"), "{err}");

    let home = w.rustup_home("n");
    let out = w.via_hook(
        &home,
        &["toolchain", "install", "nightly", "--profile", "minimal"],
    );
    assert_ok(&out);
    assert_eq!(w.rustc_version(&home, "nightly"), next.rustc_version());
}

#[test]
fn crates_repository_root_is_published_for_the_crates_side() {
    let Some(w) = World::new() else { return };
    // A crates repository root, self-signed.
    let key = w.keys.signer("tgt");
    let mut repo = shared_trust::repository::Repository::new(time::now_unix(), true);
    for role in shared_trust::metadata::TOP_LEVEL_ROLES {
        repo.add_key(
            role,
            std::sync::Arc::new(shared_trust::crypto::Ed25519Signer::from_seed(&key.seed())),
        )
        .unwrap();
    }
    let crates = w.work.join("crates-repo");
    repo.publish(&crates).unwrap();
    let crates_root = crates.join("metadata/1.root.json");
    // The release team's keys alone do not cover it.
    let out = w.sign(&[
        "--crates-root",
        crates_root.to_str().unwrap(),
        "--key",
        "rel1",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("role targets changes (crates-repository/root.json)"),
        "{}",
        text(&out)
    );
    let out = w.sign(&[
        "--crates-root",
        crates_root.to_str().unwrap(),
        "--key",
        "tgt",
    ]);
    assert_ok(&out);
    // The crates side reaches it through the pinned root repository.
    let set =
        trust_roots::pins::PinSet::load(&PinLocations::new(&w.cargo_home, w.no_system_pins()))
            .unwrap();
    let pin = set.resolve(&w.mirror.url()).unwrap().pin.clone();
    let mut root_repo = trust_roots::chain::open_pinned(
        &pin,
        &w.cargo_home,
        &rustup_verify::layout::metadata_url(&w.mirror.url()),
        shared_trust::fetcher::AnyFetcher::default(),
        time::now_unix(),
    )
    .unwrap();
    let got = trust_roots::chain::crates_repository_root(
        &mut root_repo,
        "rust-dist",
        &rustup_verify::layout::root_targets_url(&w.mirror.url()),
    )
    .unwrap();
    assert_eq!(got, std::fs::read(&crates_root).unwrap());
}

#[test]
fn real_2025_04_03_stable_manifest_is_signed_and_verified() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/channel-rust-stable-2025-04-03.toml");
    let Ok(real) = std::fs::read(&data) else {
        eprintln!(
            "SKIPPED: {} is absent (the project's trimmed copy in rustup-verify/fixtures/ is tested by the rustup-verify crate)",
            data.display()
        );
        return;
    };
    let Some(w) = World::new() else { return };
    // The real manifest of that date replaces the fake toolchain's.
    std::fs::remove_dir_all(w.tree.join("dist/2025-04-03")).unwrap();
    fakedist::write_with_sha256(&w.tree, "dist/channel-rust-stable.toml", &real);
    fakedist::write_with_sha256(&w.tree, "dist/2025-04-03/channel-rust-stable.toml", &real);
    let out = w.sign(&["--key", "rel1", "--key", "rel2"]);
    assert_ok(&out);

    // Offline: the tree, then the manifest file alone, against the pin.
    let check = |path: &Path| {
        let mut c = w.cli();
        c.args(["check", "--verbose", "--dist-server", &w.mirror.url()])
            .arg(path);
        c.output().unwrap()
    };
    let out = check(&w.tree);
    assert_ok(&out);
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(
        s.contains(
            "ok      dist/channel-rust-stable.toml: signed channel manifest, date 2025-04-03"
        ),
        "{s}"
    );
    let out = check(&w.tree.join("dist/channel-rust-stable.toml"));
    assert_ok(&out);
    let bad = w.variant("real-tampered", |dir| {
        fakedist_flip(
            &dir.join("dist/2025-04-03/channel-rust-stable.toml"),
            450_000,
        )
    });
    let out = check(&bad.join("dist/2025-04-03/channel-rust-stable.toml"));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("sha256 mismatch"),
        "{}",
        text(&out)
    );

    // Through the long-running hook: .sha256 and the manifest, verified.
    let mut serve = w.cli();
    serve
        .args([
            "serve",
            "--idle-exit",
            "30",
            "--dist-server",
            &w.mirror.url(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    let mut child = serve.spawn().unwrap();
    let guard = KillOnDrop(&mut child);
    let mut first = String::new();
    {
        use std::io::BufRead;
        let stdout = guard.0.stdout.as_mut().unwrap();
        std::io::BufReader::new(stdout)
            .read_line(&mut first)
            .unwrap();
    }
    let hook = first
        .trim()
        .strip_prefix("RUSTUP_DIST_SERVER=")
        .expect(&first)
        .to_string();
    let fetch = |p: &str| {
        use shared_trust::fetcher::Fetcher;
        shared_trust::fetcher::CurlFetcher::default()
            .fetch(&format!("{hook}/{p}"), 4 << 20)
            .unwrap()
    };
    let sha = fetch("dist/channel-rust-stable.toml.sha256");
    assert_eq!(
        String::from_utf8(sha).unwrap(),
        format!(
            "{}  channel-rust-stable.toml\n",
            fakedist::sha256_hex(&real)
        )
    );
    assert_eq!(fetch("dist/channel-rust-stable.toml"), real);
    drop(guard);
}

/// Kills a child process (one this test started) when dropped.
struct KillOnDrop<'a>(&'a mut std::process::Child);

impl Drop for KillOnDrop<'_> {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Flips the lowest bit of the byte at `offset`.
fn fakedist_flip(path: &Path, offset: usize) {
    let mut b = std::fs::read(path).unwrap();
    b[offset] ^= 1;
    std::fs::write(path, b).unwrap();
}
