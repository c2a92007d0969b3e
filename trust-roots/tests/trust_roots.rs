//! End-to-end tests of pinned roots and the root ceremony, driving the
//! `trust-roots` binary as key holders would and verifying the result with
//! the shared client (the verification paths both tools use).

use shared_trust::crypto::{Ed25519Signer, Signer};
use shared_trust::keyfile;
use shared_trust::metadata::{Metadata, Root, Targets};
use shared_trust::repository::Repository;
use shared_trust::{time, FileFetcher, Updater};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use trust_roots::chain;
use trust_roots::pins::{self, Pin, PinLocations, PinSet, PinSource};

fn cli(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trust-roots"))
        .args(args)
        .current_dir(cwd)
        .env("CARGO_TUF_SYSTEM_PINS", cwd.join("no-system-pins.json"))
        .env_remove("CARGO_HOME")
        .output()
        .expect("trust-roots runs")
}

fn ok(args: &[&str], cwd: &Path) -> String {
    let out = cli(args, cwd);
    assert!(
        out.status.success(),
        "trust-roots {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn fails(args: &[&str], cwd: &Path) -> String {
    let out = cli(args, cwd);
    assert_eq!(
        out.status.code(),
        Some(1),
        "trust-roots {args:?} should fail with 1:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stderr).unwrap()
}

fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.insert(
                    p.strip_prefix(base).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    walk(dir, dir, &mut out);
    out
}

fn keyid(work: &Path, name: &str) -> String {
    keyfile::read_public_key(&work.join(format!("{name}.pub.json")))
        .unwrap()
        .0
}

/// A 5-of-9 root repository: keys k1..k9 (root), ts, snap, tgt, rel.
struct Ceremony {
    _tmp: tempfile::TempDir,
    work: PathBuf,
}

impl Ceremony {
    fn dir(&self) -> PathBuf {
        self.work.join("repo")
    }
    fn run(&self, args: &[&str]) -> String {
        ok(args, &self.work)
    }
    fn refused(&self, args: &[&str]) -> String {
        fails(args, &self.work)
    }
    fn keygen(&self, names: &[&str]) {
        for n in names {
            self.run(&["ceremony", "keygen", n]);
        }
    }
    fn sign(&self, key: &str) -> String {
        self.run(&["ceremony", "sign", "repo", "--key", &format!("{key}.key")])
    }
    fn publish(&self, online: bool) -> String {
        let mut args = vec!["ceremony", "publish", "repo"];
        if online {
            args.extend(["--online-key", "ts.key", "--online-key", "snap.key"]);
        }
        self.run(&args)
    }
    fn metadata_url(&self) -> String {
        format!("file://{}/metadata", self.dir().display())
    }
    fn targets_url(&self) -> String {
        format!("file://{}/targets", self.dir().display())
    }

    /// Keys generated and root v1 / targets v1 staged (nothing signed).
    fn staged() -> Ceremony {
        let tmp = tempfile::tempdir().unwrap();
        let work = tmp.path().to_path_buf();
        let c = Ceremony { _tmp: tmp, work };
        let names: Vec<String> = (1..=9).map(|i| format!("k{i}")).collect();
        let mut all: Vec<&str> = names.iter().map(String::as_str).collect();
        all.extend(["ts", "snap", "tgt", "rel"]);
        c.keygen(&all);
        let mut args = vec!["ceremony", "init", "repo"];
        let root_keys: Vec<String> = names.iter().map(|n| format!("{n}.pub.json")).collect();
        for k in &root_keys {
            args.extend(["--root-key", k.as_str()]);
        }
        args.extend([
            "--root-threshold",
            "5",
            "--timestamp-key",
            "ts.pub.json",
            "--snapshot-key",
            "snap.pub.json",
            "--targets-key",
            "tgt.pub.json",
            "--releases-key",
            "rel.pub.json",
        ]);
        let out = c.run(&args);
        assert!(out.contains("root version 1"), "{out}");
        c
    }

    /// Root v1 and targets v1 published and servable.
    fn published() -> Ceremony {
        let c = Ceremony::staged();
        for i in 1..=5 {
            c.sign(&format!("k{i}"));
        }
        c.sign("tgt");
        c.publish(true);
        c
    }

    fn root_v1(&self) -> Vec<u8> {
        std::fs::read(self.dir().join("metadata/1.root.json")).unwrap()
    }

    /// A client state directory bootstrapped with root v1.
    fn client(&self) -> PathBuf {
        let state = self.work.join("client-state");
        if !state.join("root.json").exists() {
            shared_trust::updater::bootstrap(&state, &self.root_v1(), time::now_unix()).unwrap();
        }
        state
    }

    fn refresh(&self, state: &Path) -> Result<u64, shared_trust::updater::Error> {
        let mut up = Updater::new(
            state,
            &self.metadata_url(),
            FileFetcher,
            Default::default(),
            time::now_unix(),
        )?;
        up.refresh()?;
        Ok(up.trusted().root().version)
    }
}

#[test]
fn ceremony_5_of_9_fifth_signature_completes_it() {
    let c = Ceremony::staged();
    // Private keys are 0600 and never printed.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(c.work.join("k1.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let seed = {
        let s = keyfile::read_private_key(&c.work.join("k1.key")).unwrap();
        hex::encode(s.seed())
    };

    let mut outputs = String::new();
    for i in 1..=4 {
        outputs.push_str(&c.sign(&format!("k{i}")));
    }
    outputs.push_str(&c.sign("tgt"));
    assert!(!outputs.contains(&seed), "a private key was printed");
    let status = c.run(&["ceremony", "status", "repo"]);
    assert!(status.contains("4 of 5 signed"), "{status}");
    assert!(status.contains("needs signatures"), "{status}");

    // Four of nine: refused, and nothing is written or removed.
    let before = tree(&c.dir());
    let err = c.refused(&[
        "ceremony",
        "publish",
        "repo",
        "--online-key",
        "ts.key",
        "--online-key",
        "snap.key",
    ]);
    assert!(err.contains("4 of 5 valid signature(s)"), "{err}");
    assert!(
        err.contains(&keyid(&c.work, "k5")),
        "names a missing holder: {err}"
    );
    assert_eq!(tree(&c.dir()), before);
    assert!(!c.dir().join("metadata").exists());

    // The fifth holder completes it.
    c.sign("k5");
    let status = c.run(&["ceremony", "status", "repo"]);
    assert!(status.contains("5 of 5 signed"), "{status}");
    assert!(status.contains("ready to publish"), "{status}");
    c.publish(true);
    assert!(!c.dir().join("staged").exists());
    for f in [
        "1.root.json",
        "root.json",
        "1.targets.json",
        "1.snapshot.json",
        "timestamp.json",
    ] {
        assert!(c.dir().join("metadata").join(f).exists(), "{f} missing");
    }
    // A client pinned to v1 verifies the published repository.
    let state = c.client();
    assert_eq!(c.refresh(&state).unwrap(), 1);
}

#[test]
fn client_reaches_v4_through_three_rotations_and_rejects_one_sided_v2() {
    let c = Ceremony::published();
    let state = c.client();
    assert_eq!(c.refresh(&state).unwrap(), 1);

    // Rotation 1 (v2): five of the nine keys replaced.
    c.keygen(&["n1", "n2", "n3", "n4", "n5", "ts2"]);
    let mut args: Vec<String> = vec!["ceremony".into(), "stage-root".into(), "repo".into()];
    for i in 1..=5 {
        args.push("--remove-key".into());
        args.push(format!("root={}", keyid(&c.work, &format!("k{i}"))));
        args.push("--add-key".into());
        args.push(format!("root=n{i}.pub.json"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    c.run(&args);
    let staged_v2 = std::fs::read(c.dir().join("staged/root.json")).unwrap();

    // A v2 signed only by the new keys, or only by the old ones, is what a
    // mirror could serve; the client must refuse both.
    let only_new = sign_all(&staged_v2, &c.work, &["n1", "n2", "n3", "n4", "n5"]);
    let only_old = sign_all(&staged_v2, &c.work, &["k1", "k2", "k3", "k4", "k5"]);
    for (what, bytes, needed_from) in [
        ("only new keys", only_new, "root version 1"),
        ("only old keys", only_old, "root version 2"),
    ] {
        let mirror = c.work.join(format!("mirror-{}", what.replace(' ', "-")));
        copy_dir(&c.dir(), &mirror);
        std::fs::write(mirror.join("metadata/2.root.json"), &bytes).unwrap();
        let before = tree(&state);
        let mut up = Updater::new(
            &state,
            &format!("file://{}/metadata", mirror.display()),
            FileFetcher,
            Default::default(),
            time::now_unix(),
        )
        .unwrap();
        let err = up.refresh().unwrap_err().to_string();
        assert!(err.contains("root version 2"), "{what}: {err}");
        assert!(err.contains(needed_from), "{what}: {err}");
        assert!(err.contains("threshold is 5"), "{what}: {err}");
        drop(up);
        assert_eq!(tree(&state), before, "{what}: trusted state changed");
    }

    // The real v2: old threshold and new threshold.
    for k in ["k1", "k2", "k3", "k4", "k5", "n1", "n2", "n3", "n4", "n5"] {
        c.sign(k);
    }
    c.publish(false);

    // Rotation 2 (v3): threshold 6.
    c.run(&["ceremony", "stage-root", "repo", "--threshold", "root=6"]);
    for k in ["n1", "n2", "n3", "n4", "n5", "k6"] {
        c.sign(k);
    }
    c.publish(false);

    // Rotation 3 (v4): the online timestamp key is replaced.
    let old_ts = keyid(&c.work, "ts");
    c.run(&[
        "ceremony",
        "stage-root",
        "repo",
        "--remove-key",
        &format!("timestamp={old_ts}"),
        "--add-key",
        "timestamp=ts2.pub.json",
    ]);
    for k in ["n1", "n2", "n3", "n4", "n5", "k6"] {
        c.sign(k);
    }
    c.run(&[
        "ceremony",
        "publish",
        "repo",
        "--online-key",
        "ts2.key",
        "--online-key",
        "snap.key",
    ]);

    assert_eq!(c.refresh(&state).unwrap(), 4);
    let trusted = std::fs::read(state.join("root.json")).unwrap();
    assert_eq!(
        trusted,
        std::fs::read(c.dir().join("metadata/4.root.json")).unwrap()
    );
}

fn sign_all(staged: &[u8], work: &Path, keys: &[&str]) -> Vec<u8> {
    let mut bytes = staged.to_vec();
    for k in keys {
        let s = keyfile::read_private_key(&work.join(format!("{k}.key"))).unwrap();
        bytes = shared_trust::repository::add_signature::<Root>("root", &bytes, &s).unwrap();
    }
    bytes
}

fn copy_dir(from: &Path, to: &Path) {
    for (rel, bytes) in tree(from) {
        let p = to.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
}

fn pin_for(c: &Ceremony, name: &str) -> Pin {
    Pin {
        name: name.into(),
        urls: vec![c.metadata_url()],
        root: c.root_v1(),
        source: PinSource::User,
        override_builtin: false,
    }
}

#[test]
fn revoked_delegated_key_is_rejected_on_the_releases_path() {
    let c = Ceremony::published();
    // The release team publishes releases signed by `rel`.
    publish_releases(&c, "rel", 1);
    let home = c.work.join("cargo-home");
    let pin = pin_for(&c, "root-repo");
    let mut up = chain::open_pinned(
        &pin,
        &home,
        &c.metadata_url(),
        FileFetcher,
        time::now_unix(),
    )
    .unwrap();
    assert!(up
        .get_targetinfo("dist/channel-rust-stable.toml")
        .unwrap()
        .is_some());
    drop(up);

    // Revoke `rel`, delegate to `rel2` instead (targets v2).
    c.keygen(&["rel2"]);
    let rel = keyid(&c.work, "rel");
    c.run(&[
        "ceremony",
        "stage-targets",
        "repo",
        "--role",
        "releases",
        "--remove-key",
        &rel,
        "--add-key",
        "rel2.pub.json",
    ]);
    c.sign("tgt");
    c.publish(true);
    // Releases still (or again) signed by the revoked key.
    publish_releases(&c, "rel", 2);

    let mut up = chain::open_pinned(
        &pin,
        &home,
        &c.metadata_url(),
        FileFetcher,
        time::now_unix(),
    )
    .unwrap();
    let err = up
        .get_targetinfo("dist/channel-rust-stable.toml")
        .unwrap_err()
        .to_string();
    assert!(err.contains("releases version 2"), "{err}");
    assert!(
        err.contains("no longer or never trusted for releases by targets version 2"),
        "{err}"
    );
    assert!(err.contains(&rel), "{err}");
}

/// Signs and publishes the `releases` role (version `version`) with the
/// key file `key`, plus a new snapshot and timestamp with the online keys.
fn publish_releases(c: &Ceremony, key: &str, version: u64) {
    let now = time::now_unix();
    let mut repo = Repository::load(&c.dir(), now).unwrap();
    let signer = |n: &str| -> Arc<dyn Signer> {
        Arc::new(keyfile::read_private_key(&c.work.join(format!("{n}.key"))).unwrap())
    };
    repo.add_signer("snapshot", signer("snap"));
    let ts = if repo.root.roles["timestamp"]
        .keyids
        .contains(&keyid(&c.work, "ts"))
    {
        "ts"
    } else {
        "ts2"
    };
    repo.add_signer("timestamp", signer(ts));
    repo.add_signer("releases", signer(key));
    let mut releases = Targets::new(version, now + 86_400);
    releases.version = version - 1; // publish bumps a known role
    if !repo.targets.contains_key("releases") {
        releases.version = 1;
    }
    repo.targets.entry("releases".into()).or_insert(releases);
    repo.add_target(
        "releases",
        "dist/channel-rust-stable.toml",
        format!("manifest v{version}").as_bytes(),
        None,
    )
    .unwrap();
    repo.publish(&c.dir()).unwrap();
}

#[test]
fn revoked_key_is_rejected_on_the_crates_path() {
    // The crates repository: its own root, published as a target of the
    // root repository.
    let c = Ceremony::published();
    let crates_dir = c.work.join("crates");
    let now = time::now_unix();
    let (k_root, k_snap, k_snap2) = (
        Arc::new(Ed25519Signer::generate()),
        Arc::new(Ed25519Signer::generate()),
        Arc::new(Ed25519Signer::generate()),
    );
    let mut crates = Repository::new(now, true);
    crates.add_key("root", k_root.clone()).unwrap();
    crates.add_key("timestamp", k_root.clone()).unwrap();
    crates.add_key("targets", k_root.clone()).unwrap();
    crates.add_key("snapshot", k_snap.clone()).unwrap();
    crates
        .add_target("targets", "index/se/rd/serde", b"{}", None)
        .unwrap();
    crates.publish(&crates_dir).unwrap();
    let crates_root = crates.root_bytes().unwrap().to_vec();
    std::fs::write(c.work.join("crates-root.json"), &crates_root).unwrap();

    c.run(&[
        "ceremony",
        "stage-targets",
        "repo",
        "--add-target",
        "crates-repository/root.json=crates-root.json",
    ]);
    c.sign("tgt");
    c.publish(true);

    let home = c.work.join("cargo-home");
    let pin = pin_for(&c, "root-repo");
    let crates_url = format!("file://{}/metadata", crates_dir.display());
    let mut root_repo =
        chain::open_pinned(&pin, &home, &c.metadata_url(), FileFetcher, now).unwrap();
    let fetched =
        chain::crates_repository_root(&mut root_repo, "root-repo", &c.targets_url()).unwrap();
    assert_eq!(fetched, crates_root);
    let mut up =
        chain::open_crates_repository(&pin, &home, &fetched, &crates_url, FileFetcher, now)
            .unwrap();
    assert!(up.get_targetinfo("index/se/rd/serde").unwrap().is_some());
    drop(up);

    // Crates root v2 revokes the snapshot key; a snapshot still signed by
    // it is refused, naming the key and the root version that dropped it.
    crates.remove_key("snapshot", k_snap.keyid()).unwrap();
    crates.add_key("snapshot", k_snap2.clone()).unwrap();
    crates
        .add_target("targets", "index/ra/nd/rand", b"{}", None)
        .unwrap();
    crates.publish(&crates_dir).unwrap();
    let mut md = Metadata::<shared_trust::metadata::Snapshot>::from_bytes(
        "snapshot",
        crates.published_bytes("snapshot").unwrap(),
    )
    .unwrap();
    md.signatures.clear();
    md.sign(k_snap.as_ref()).unwrap();
    let v = md.signed.version;
    std::fs::write(
        crates_dir.join(format!("metadata/{v}.snapshot.json")),
        md.to_bytes(),
    )
    .unwrap();
    // The timestamp pins the hash of the honest snapshot; drop the hash
    // pin by re-signing the timestamp so only the signature check remains.
    let mut ts = Metadata::<shared_trust::metadata::Timestamp>::from_bytes(
        "timestamp",
        crates.published_bytes("timestamp").unwrap(),
    )
    .unwrap();
    let pin_meta = ts.signed.meta.get_mut("snapshot.json").unwrap();
    pin_meta.hashes = None;
    pin_meta.length = None;
    let mut ts = Metadata::new(ts.signed).unwrap();
    ts.sign(k_root.as_ref()).unwrap();
    std::fs::write(crates_dir.join("metadata/timestamp.json"), ts.to_bytes()).unwrap();

    let err = chain::open_crates_repository(&pin, &home, &fetched, &crates_url, FileFetcher, now)
        .unwrap_err()
        .to_string();
    assert!(err.contains("root-repo/crates"), "{err}");
    assert!(
        err.contains("no longer or never trusted for snapshot by root version 2"),
        "{err}"
    );
    assert!(err.contains(k_snap.keyid()), "{err}");
}

#[test]
fn registry_pin_and_company_mirror_pin_side_by_side() {
    // Two repositories: "crates.io" and a private registry.
    let upstream = Ceremony::published();
    let private = Ceremony::published();
    let work = upstream.work.clone();
    let home = work.join("cargo-home");
    std::fs::write(work.join("upstream-root.json"), upstream.root_v1()).unwrap();
    std::fs::write(work.join("private-root.json"), private.root_v1()).unwrap();

    // The company mirror of crates.io serves the same signed files.
    let mirror = work.join("mirror");
    copy_dir(&upstream.dir(), &mirror);
    let mirror_url = format!("file://{}/metadata", mirror.display());

    let h = home.to_str().unwrap();
    ok(
        &[
            "pin",
            "add",
            "crates-io",
            "--root",
            "upstream-root.json",
            "--url",
            "sparse+https://index.crates.io/",
            "--url",
            &mirror_url,
            "--cargo-home",
            h,
        ],
        &work,
    );
    ok(
        &[
            "pin",
            "add",
            "corp",
            "--root",
            "private-root.json",
            "--url",
            "sparse+https://registry.corp.example/index/",
            "--cargo-home",
            h,
        ],
        &work,
    );
    let list = ok(&["pin", "list", "--cargo-home", h], &work);
    assert!(
        list.contains("crates-io") && list.contains("corp"),
        "{list}"
    );
    let shown = ok(&["pin", "show", "corp", "--cargo-home", h], &work);
    assert!(shown.contains("registry.corp.example"), "{shown}");
    // The same URL cannot be pinned twice.
    let err = fails(
        &[
            "pin",
            "add",
            "again",
            "--root",
            "private-root.json",
            "--url",
            "https://index.crates.io",
            "--cargo-home",
            h,
        ],
        &work,
    );
    assert!(err.contains("both cover"), "{err}");

    let loc = PinLocations::new(&home, work.join("no-system-pins.json"));
    let set = PinSet::load(&loc).unwrap();
    let r = set
        .resolve_registry("https://index.crates.io", Some(&mirror_url))
        .unwrap();
    assert_eq!(r.pin.name, "crates-io");
    assert_eq!(
        set.resolve("https://registry.corp.example/index")
            .unwrap()
            .pin
            .name,
        "corp"
    );
    let now = time::now_unix();
    // Through the mirror, against crates.io's pinned root: verifies.
    chain::open_pinned(r.pin, &home, &mirror_url, FileFetcher, now).unwrap();
    // The private registry verifies against its own pin.
    let corp = set
        .resolve("https://registry.corp.example/index")
        .unwrap()
        .pin;
    chain::open_pinned(corp, &home, &private.metadata_url(), FileFetcher, now).unwrap();

    // The mirror now serves its own root for crates.io (re-signed
    // everything with keys it controls): rejected against the pin.
    let evil = Ceremony::published();
    std::fs::remove_dir_all(&mirror).unwrap();
    copy_dir(&evil.dir(), &mirror);
    let state_before = tree(&r.pin.state_dir(&home));
    let err = chain::open_pinned(r.pin, &home, &mirror_url, FileFetcher, now)
        .unwrap_err()
        .to_string();
    assert!(err.contains("crates-io"), "{err}");
    assert!(err.contains("timestamp") || err.contains("root"), "{err}");
    assert_eq!(tree(&r.pin.state_dir(&home)), state_before);

    ok(&["pin", "remove", "corp", "--cargo-home", h], &work);
    assert!(PinSet::load(&loc)
        .unwrap()
        .resolve("https://registry.corp.example/index")
        .is_none());
}

#[test]
fn builtin_roots_are_never_overridden_silently() {
    let c = Ceremony::published();
    let builtin = Pin {
        name: "rust-project".into(),
        urls: vec![pins::normalize_url("https://static.rust-lang.org")],
        root: c.root_v1(),
        source: PinSource::Builtin,
        override_builtin: false,
    };
    let mut user = Pin {
        name: "mine".into(),
        urls: vec![pins::normalize_url("https://static.rust-lang.org/dist")],
        root: c.root_v1(),
        source: PinSource::User,
        override_builtin: false,
    };
    let err = PinSet::from_pins(vec![user.clone(), builtin.clone()]).unwrap_err();
    assert!(err.to_string().contains("--override-builtin"), "{err}");
    user.override_builtin = true;
    let set = PinSet::from_pins(vec![user, builtin]).unwrap();
    let r = set
        .resolve("https://static.rust-lang.org/dist/channel-rust-stable.toml")
        .unwrap();
    assert_eq!(r.pin.name, "mine");
    assert_eq!(r.overrides.as_deref(), Some("rust-project"));
    // Elsewhere on the host the built-in root applies.
    let r = set
        .resolve("https://static.rust-lang.org/rustup/x")
        .unwrap();
    assert_eq!(r.pin.name, "rust-project");
    assert!(r.overrides.is_none());
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let c = Ceremony::staged();
    c.sign("k1");

    // A corrupt key file.
    std::fs::copy(c.work.join("k2.key"), c.work.join("bad.key")).unwrap();
    let text = std::fs::read_to_string(c.work.join("bad.key")).unwrap();
    std::fs::write(c.work.join("bad.key"), &text[..text.len() / 2]).unwrap();
    let before = tree(&c.dir());
    let err = c.refused(&["ceremony", "sign", "repo", "--key", "bad.key"]);
    assert!(
        err.contains("bad.key") && err.contains("not a valid private key file"),
        "{err}"
    );
    assert_eq!(tree(&c.dir()), before);

    // A key file others can read.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            c.work.join("k3.key"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        let err = c.refused(&["ceremony", "sign", "repo", "--key", "k3.key"]);
        assert!(
            err.contains("open permissions 0644") && err.contains("chmod 600"),
            "{err}"
        );
        assert_eq!(tree(&c.dir()), before);
        std::fs::set_permissions(
            c.work.join("k3.key"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
    }

    // A key nobody authorized.
    c.keygen(&["stranger"]);
    let err = c.refused(&["ceremony", "sign", "repo", "--key", "stranger.key"]);
    assert!(err.contains("not authorized"), "{err}");
    assert_eq!(tree(&c.dir()), before);

    // A staged file edited after signing: the signatures no longer verify.
    for k in ["k2", "k3", "k4", "k5", "tgt"] {
        c.sign(k);
    }
    let staged = c.dir().join("staged/root.json");
    let edited = std::fs::read_to_string(&staged).unwrap().replacen(
        "\"threshold\": 5",
        "\"threshold\": 1",
        1,
    );
    std::fs::write(&staged, edited).unwrap();
    let before = tree(&c.dir());
    let status = c.run(&["ceremony", "status", "repo"]);
    assert!(status.contains("INVALID"), "{status}");
    let err = c.refused(&[
        "ceremony",
        "publish",
        "repo",
        "--online-key",
        "ts.key",
        "--online-key",
        "snap.key",
    ]);
    assert!(err.contains("do not verify"), "{err}");
    assert!(err.contains(&keyid(&c.work, "k1")), "{err}");
    assert_eq!(tree(&c.dir()), before);

    // Unknown roles.
    let p = Ceremony::published();
    let before = tree(&p.dir());
    let err = p.refused(&["ceremony", "stage-root", "repo", "--threshold", "mirror=2"]);
    assert!(err.contains("unknown role \"mirror\""), "{err}");
    let err = p.refused(&[
        "ceremony",
        "stage-targets",
        "repo",
        "--role",
        "nightly",
        "--threshold",
        "1",
    ]);
    assert!(
        err.contains("unknown role \"nightly\"") && err.contains("releases"),
        "{err}"
    );
    assert_eq!(tree(&p.dir()), before);
    std::fs::create_dir_all(p.dir().join("staged")).unwrap();
    std::fs::write(p.dir().join("staged/mirror.json"), b"{}").unwrap();
    let err = p.refused(&["ceremony", "status", "repo"]);
    assert!(err.contains("unknown staged role"), "{err}");
}

#[test]
fn help_is_complete() {
    let tmp = tempfile::tempdir().unwrap();
    let top = ok(&["--help"], tmp.path());
    for word in ["pin", "ceremony", "Exit status"] {
        assert!(top.contains(word), "{top}");
    }
    let cer = ok(&["ceremony", "--help"], tmp.path());
    for word in [
        "keygen",
        "init",
        "sign",
        "status",
        "publish",
        "stage-root",
        "stage-targets",
    ] {
        assert!(cer.contains(word), "{cer}");
    }
    let pin = ok(&["pin", "--help"], tmp.path());
    for word in ["add", "list", "show", "remove", "resolve"] {
        assert!(pin.contains(word), "{pin}");
    }
    let out = cli(&["ceremony", "frobnicate"], tmp.path());
    assert_eq!(out.status.code(), Some(2));
}
