//! The two binaries' command lines, and the signer on the project's index
//! sample (no network, no cargo). End-to-end runs with real cargo are in
//! the workspace's `tests/` crate.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn verify_bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cargo-index-verify"))
}

fn sign_bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_index-sign"))
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/registry-sample/index")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn verify_help_is_complete_and_cargo_argv_word_is_dropped() {
    // Invoked by cargo as `cargo-index-verify index-verify --help`.
    let o = verify_bin()
        .args(["index-verify", "--help"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    for flag in [
        "Usage: cargo index-verify",
        "--manifest-path",
        "--offline",
        "--locked",
        "--frozen",
        "--config",
        "--format",
        "--color",
        "--quiet",
        "--verbose",
        "mirror",
        "Exit status: 0 verified, 1 verification failed",
        "2 could not run",
    ] {
        assert!(t.contains(flag), "--help lacks {flag:?}:\n{t}");
    }
    let o = verify_bin()
        .args(["index-verify", "mirror", "--help"])
        .output()
        .unwrap();
    let t = text(&o);
    for flag in ["--index", "--registry", "--crates", "--threads"] {
        assert!(t.contains(flag), "mirror --help lacks {flag:?}:\n{t}");
    }
}

/// Compares with `tests/snapshots/NAME`; `UPDATE_SNAPSHOTS=1` rewrites it.
fn snapshot(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_SNAPSHOTS=1 writes it)", path.display()));
    assert_eq!(
        expected, actual,
        "{} differs (UPDATE_SNAPSHOTS=1 rewrites it)",
        name
    );
}

#[test]
fn help_snapshots() {
    for (name, mut cmd, args) in [
        (
            "cargo-index-verify.help",
            verify_bin(),
            vec!["index-verify", "--help"],
        ),
        (
            "cargo-index-verify-mirror.help",
            verify_bin(),
            vec!["index-verify", "mirror", "--help"],
        ),
        ("index-sign.help", sign_bin(), vec!["--help"]),
        ("index-sign-init.help", sign_bin(), vec!["init", "--help"]),
        (
            "index-sign-update.help",
            sign_bin(),
            vec!["update", "--help"],
        ),
        ("index-sign-renew.help", sign_bin(), vec!["renew", "--help"]),
        (
            "index-sign-attach-root-repository.help",
            sign_bin(),
            vec!["attach-root-repository", "--help"],
        ),
    ] {
        let o = cmd.args(args).env("COLUMNS", "100").output().unwrap();
        assert!(o.status.success(), "{}", text(&o));
        snapshot(name, &String::from_utf8_lossy(&o.stdout));
    }
}

#[test]
fn bad_command_lines_exit_2() {
    let o = verify_bin()
        .args(["index-verify", "--bogus"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = verify_bin().args(["--format", "yaml"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    for offline in ["--offline", "--frozen"] {
        let o = verify_bin()
            .args(["index-verify", "--refresh", offline])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains("cannot be used with"), "{}", text(&o));
    }
    let o = sign_bin().args(["init"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = sign_bin()
        .args([
            "renew",
            "--index",
            "x",
            "--keys",
            "y",
            "--timestamp-expiry",
            "5y",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn sign_help_is_complete() {
    let o = sign_bin().arg("--help").output().unwrap();
    let t = text(&o);
    for word in [
        "init",
        "update",
        "renew",
        "attach-root-repository",
        "Exit status",
    ] {
        assert!(t.contains(word), "--help lacks {word:?}:\n{t}");
    }
    let o = sign_bin().args(["update", "--help"]).output().unwrap();
    let t = text(&o);
    for flag in [
        "--index",
        "--keys",
        "--crate",
        "--timestamp-expiry",
        "--time",
    ] {
        assert!(t.contains(flag), "update --help lacks {flag:?}:\n{t}");
    }
}

#[test]
fn signer_init_update_renew_and_refusals() {
    let tmp = tempfile::tempdir().unwrap();
    let index = tmp.path().join("index");
    let keys = tmp.path().join("keys");
    copy_dir(&sample(), &index);
    std::fs::write(index.join("config.json"), "{\"dl\": \"http://x/{crate}\"}").unwrap();
    let run = |args: &[&str]| {
        sign_bin()
            .args(args)
            .arg("--index")
            .arg(&index)
            .arg("--keys")
            .arg(&keys)
            .output()
            .unwrap()
    };
    let o = run(&["init"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("generation 1, 7 crate files"),
        "{}",
        text(&o)
    );
    for role in ["root", "targets", "index", "snapshot", "timestamp"] {
        let p = keys.join(format!("{role}.key"));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", p.display());
    }
    // A second init is refused and changes nothing.
    let before = std::fs::read(index.join("tuf/metadata/timestamp.json")).unwrap();
    let o = run(&["init"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("already holds a crates repository"),
        "{}",
        text(&o)
    );
    // Nothing changed: nothing signed.
    let o = run(&["update"]);
    assert!(text(&o).contains("nothing changed"), "{}", text(&o));
    assert_eq!(
        before,
        std::fs::read(index.join("tuf/metadata/timestamp.json")).unwrap()
    );
    // A yank: one file, depth + 1 objects.
    let p = index.join("3/l/log");
    let t = std::fs::read_to_string(&p).unwrap();
    std::fs::write(&p, t.replacen("\"yanked\":false", "\"yanked\":true", 1)).unwrap();
    let o = run(&["update", "--crate", "log"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("generation 2"), "{}", text(&o));
    assert!(
        text(&o).contains("1 changed, 2 new tree objects"),
        "{}",
        text(&o)
    );
    // A full rescan finds a removed crate.
    std::fs::remove_file(index.join("3/r/ryu")).unwrap();
    let o = run(&["update"]);
    assert!(
        text(&o).contains("generation 3, 6 crate files"),
        "{}",
        text(&o)
    );
    // Renew re-signs the timestamp only.
    let o = run(&["renew"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("generation 3"), "{}", text(&o));
    let meta = index.join("tuf/metadata");
    assert!(!meta.join("2.root.json").exists());
    // With the offline keys, root (version 2) and targets are re-signed;
    // root 2 verifies against root 1, as a client rotating to it checks.
    let o = run(&["renew", "--offline-roles"]);
    assert!(o.status.success(), "{}", text(&o));
    for line in ["root re-signed, expires", "targets re-signed, expires"] {
        assert!(text(&o).contains(line), "{}", text(&o));
    }
    let now = shared_trust::time::now_unix();
    let mut set = shared_trust::trusted::TrustedMetadataSet::new(
        &std::fs::read(meta.join("1.root.json")).unwrap(),
        now,
    )
    .unwrap();
    set.update_root(&std::fs::read(meta.join("2.root.json")).unwrap())
        .unwrap();
    set.update_timestamp(&std::fs::read(meta.join("timestamp.json")).unwrap())
        .unwrap();
    // Without the offline keys it is refused, naming the key.
    let root_key = keys.join("root.key");
    let saved = std::fs::read(&root_key).unwrap();
    std::fs::remove_file(&root_key).unwrap();
    let o = run(&["renew", "--offline-roles"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("key for role root"), "{}", text(&o));
    assert!(!meta.join("3.root.json").exists());
    std::fs::write(&root_key, saved).unwrap();
    // Bad index content is refused, naming the file and line.
    std::fs::write(index.join("it/oa/itoa"), "{\"name\":\"itoa\"}\nnot json\n").unwrap();
    let o = run(&["update", "--crate", "itoa"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("it/oa/itoa: line 2"), "{}", text(&o));
    // A missing online key is named.
    std::fs::remove_file(keys.join("snapshot.key")).unwrap();
    let o = run(&["renew"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("key for role snapshot"), "{}", text(&o));
}

#[test]
fn signer_refuses_a_tree_that_does_not_match_the_signed_root() {
    let tmp = tempfile::tempdir().unwrap();
    let index = tmp.path().join("index");
    let keys = tmp.path().join("keys");
    copy_dir(&sample(), &index);
    let o = sign_bin()
        .args(["init", "--index"])
        .arg(&index)
        .arg("--keys")
        .arg(&keys)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    // Corrupt every tree object (the root among them).
    for sub in std::fs::read_dir(index.join("tuf/tree")).unwrap() {
        for obj in std::fs::read_dir(sub.unwrap().path()).unwrap() {
            let obj = obj.unwrap().path();
            let mut bytes = std::fs::read(&obj).unwrap();
            bytes.push(0);
            std::fs::write(&obj, bytes).unwrap();
        }
    }
    let o = sign_bin()
        .args(["update", "--index"])
        .arg(&index)
        .arg("--keys")
        .arg(&keys)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("content hashes to"), "{}", text(&o));
}
