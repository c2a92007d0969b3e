//! The whole loop on the project's own fixture (a trimmed copy of the real
//! 2025-04-03 stable manifest): root ceremony, release signing, offline
//! check, and the hook answering over loopback HTTP, honest and tampered.

use crate::check::{self, CheckOptions, Trust};
use crate::hook::{Hook, HookConfig};
use crate::layout::Upstream;
use crate::manifest::{ChannelManifest, Compression};
use crate::release::{self, file_url, SignOptions};
use crate::verify::{FailureKind, Verifier};
use shared_trust::crypto::{Ed25519Signer, Signer};
use shared_trust::fetcher::{CurlFetcher, FetchError, Fetcher, FileFetcher};
use shared_trust::time;
use std::collections::BTreeMap;
use std::path::Path;
use trust_roots::ceremony::{self, InitSpec, RoleSpec, RELEASES_PATHS};
use trust_roots::pins::{Pin, PinSource};

const FIXTURE: &str = include_str!("../fixtures/channel-rust-stable-2025-04-03-trimmed.toml");

#[test]
fn fixture_parses_as_the_real_manifest_does() {
    let m = ChannelManifest::parse("fixture", FIXTURE.as_bytes()).unwrap();
    assert_eq!(m.date, "2025-04-03");
    assert_eq!(
        m.rust_version.as_deref(),
        Some("1.86.0 (05f9846f8 2025-03-31)")
    );
    let cargo = &m.downloads["dist/2025-04-03/cargo-1.86.0-x86_64-unknown-linux-gnu.tar.xz"];
    assert_eq!(
        cargo.sha256,
        "c5c1590f7e9246ad9f4f97cfe26ffa92707b52a769726596a9ef81565ebd908b"
    );
    assert_eq!(cargo.compression, Compression::Xz);
    let src = &m.downloads["dist/2025-04-03/rustc-1.86.0-src.tar.xz"];
    assert_eq!(src.compression, Compression::Artifact);
    assert!(
        !m.downloads.keys().any(|k| k.contains("i686-apple-darwin")),
        "unavailable targets list nothing"
    );
}

struct Signed {
    _tmp: tempfile::TempDir,
    tree: std::path::PathBuf,
    home: std::path::PathBuf,
    root: Vec<u8>,
}

fn signed_tree() -> Signed {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    for p in [
        "dist/channel-rust-stable.toml",
        "dist/2025-04-03/channel-rust-stable.toml",
    ] {
        let f = tree.join(p);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, FIXTURE).unwrap();
    }
    let key = |_: &str| Ed25519Signer::generate();
    let keys: BTreeMap<&str, Ed25519Signer> = ["root", "ts", "snap", "tgt", "rel"]
        .into_iter()
        .map(|n| (n, key(n)))
        .collect();
    let spec = |n: &str| RoleSpec {
        keys: vec![keys[n].public_key().clone()],
        threshold: 1,
    };
    let now = time::now_unix();
    let dir = tree.join("tuf");
    ceremony::init(
        &dir,
        &InitSpec {
            roles: [
                ("root".to_string(), spec("root")),
                ("timestamp".to_string(), spec("ts")),
                ("snapshot".to_string(), spec("snap")),
                ("targets".to_string(), spec("tgt")),
            ]
            .into(),
            releases: Some((
                spec("rel"),
                RELEASES_PATHS.iter().map(|s| s.to_string()).collect(),
            )),
            root_days: 365,
            targets_days: 365,
            now,
        },
    )
    .unwrap();
    ceremony::sign(&dir, &keys["root"]).unwrap();
    ceremony::sign(&dir, &keys["tgt"]).unwrap();
    let online = |n: &str| Ed25519Signer::from_seed(&keys[n].seed());
    ceremony::publish(&dir, &[online("ts"), online("snap")], now).unwrap();
    let report = release::sign(&SignOptions {
        tree: tree.clone(),
        keys: vec![online("rel")],
        online: vec![online("ts"), online("snap")],
        now,
        ..Default::default()
    })
    .unwrap();
    assert_eq!(report.signed.len(), 2, "{report:?}");
    let root = std::fs::read(dir.join("metadata/1.root.json")).unwrap();
    Signed {
        home: tmp.path().join("cargo-home"),
        _tmp: tmp,
        tree,
        root,
    }
}

fn pin(root: &[u8]) -> Pin {
    Pin {
        name: "fixture".into(),
        urls: Vec::new(),
        root: root.to_vec(),
        source: PinSource::User,
        override_builtin: false,
    }
}

#[test]
fn fixture_signed_then_checked_offline() {
    let s = signed_tree();
    let opts = |path: &Path| CheckOptions {
        path: path.to_path_buf(),
        metadata: None,
        target_path: None,
        trust: Trust::Root(s.root.clone()),
        now: time::now_unix(),
    };
    let report = check::check(&opts(&s.tree)).unwrap();
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.findings.len(), 2);
    let report = check::check(&opts(&s.tree.join("dist/channel-rust-stable.toml"))).unwrap();
    assert!(report.ok(), "{report:?}");

    // One changed byte in a hash the manifest lists.
    let tampered = FIXTURE.replacen("c5c1590f", "c5c1590e", 1);
    std::fs::write(
        s.tree.join("dist/2025-04-03/channel-rust-stable.toml"),
        tampered,
    )
    .unwrap();
    let report = check::check(&opts(&s.tree)).unwrap();
    assert!(!report.ok());
    let failed: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.result.is_err())
        .map(|f| f.file.as_str())
        .collect();
    assert_eq!(failed, ["dist/2025-04-03/channel-rust-stable.toml"]);
}

#[test]
fn hook_serves_the_verified_fixture_and_refuses_a_tampered_one() {
    let s = signed_tree();
    let upstream = Upstream::new(&file_url(&s.tree), &file_url(&s.tree.join("rustup")));
    let verifier = Verifier::new(pin(&s.root), &s.home, upstream, FileFetcher);
    let config = HookConfig {
        progress: false,
        ..Default::default()
    };
    let hook = Hook::bind(verifier, config, ([127, 0, 0, 1], 0).into())
        .unwrap()
        .spawn()
        .unwrap();
    let url = hook.url();
    let get = |p: &str| CurlFetcher::default().fetch(&format!("{url}/{p}"), 1 << 20);
    let sha = String::from_utf8(get("dist/channel-rust-stable.toml.sha256").unwrap()).unwrap();
    assert_eq!(
        sha,
        format!(
            "{}  channel-rust-stable.toml\n",
            shared_trust::crypto::sha256_hex(FIXTURE.as_bytes())
        )
    );
    assert_eq!(
        get("dist/channel-rust-stable.toml").unwrap(),
        FIXTURE.as_bytes()
    );
    // Not signed, not served: legacy manifests and unknown toolchains.
    for p in [
        "dist/channel-rust-stable",
        "dist/channel-rust-1.99.0.toml.sha256",
    ] {
        assert!(matches!(get(p), Err(FetchError::NotFound { .. })), "{p}");
    }
    // An artifact no signed manifest lists.
    assert!(matches!(
        get("dist/2025-04-03/evil.tar.gz"),
        Err(FetchError::NotFound { .. })
    ));
    // Listed, but the mirror lacks it.
    assert!(matches!(
        get("dist/2025-04-03/cargo-1.86.0-x86_64-unknown-linux-gnu.tar.xz"),
        Err(FetchError::Status { status: 502, .. })
    ));

    // The mirror now serves a tampered manifest. A hook that verified the
    // genuine bytes under the same signed hash keeps serving those.
    std::fs::write(
        s.tree.join("dist/channel-rust-stable.toml"),
        FIXTURE.replacen("c5c1590f", "c5c1590e", 1),
    )
    .unwrap();
    assert_eq!(
        String::from_utf8(get("dist/channel-rust-stable.toml.sha256").unwrap()).unwrap(),
        sha
    );
    assert_eq!(
        get("dist/channel-rust-stable.toml").unwrap(),
        FIXTURE.as_bytes()
    );
    let report = hook.stop();
    assert_eq!(report.served, 4);
    let kinds: Vec<(String, FailureKind)> = report
        .refusals
        .iter()
        .map(|r| (r.file.clone(), r.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            (
                "dist/channel-rust-1.99.0.toml.sha256".to_string(),
                FailureKind::NotSigned
            ),
            (
                "dist/2025-04-03/evil.tar.gz".to_string(),
                FailureKind::NotSigned
            ),
            (
                "dist/2025-04-03/cargo-1.86.0-x86_64-unknown-linux-gnu.tar.xz".to_string(),
                FailureKind::Unavailable
            ),
        ]
    );

    // A new hook fetches the tampered bytes, and refuses them.
    let upstream = Upstream::new(&file_url(&s.tree), &file_url(&s.tree.join("rustup")));
    let verifier = Verifier::new(pin(&s.root), &s.home, upstream, FileFetcher);
    let config = HookConfig {
        progress: false,
        ..Default::default()
    };
    let hook = Hook::bind(verifier, config, ([127, 0, 0, 1], 0).into())
        .unwrap()
        .spawn()
        .unwrap();
    let url = hook.url();
    let got = CurlFetcher::default().fetch(
        &format!("{url}/dist/channel-rust-stable.toml.sha256"),
        1 << 20,
    );
    assert!(
        matches!(got, Err(FetchError::Status { status: 502, .. })),
        "{got:?}"
    );
    let report = hook.stop();
    assert_eq!(report.served, 0);
    assert_eq!(report.refusals.len(), 1);
    assert_eq!(report.refusals[0].kind, FailureKind::Verification);
    assert!(
        report.refusals[0]
            .message
            .starts_with("dist/channel-rust-stable.toml: sha256 mismatch: expected"),
        "{}",
        report.refusals[0].message
    );
}
