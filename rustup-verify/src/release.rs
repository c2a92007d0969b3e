//! The release team's side: sign a dist tree as rustup sees it into the
//! root repository's targets.
//!
//! The root repository is the one the root ceremony created
//! (`trust-roots ceremony init/sign/publish`): root and top-level targets
//! signed offline by their holders, a `releases` delegation covering
//! `dist/*`, `dist/*/*` and `rustup/...`, online snapshot and timestamp
//! keys. Its directory is served at `SERVER/tuf/` (by default
//! `TREE/tuf`, so the metadata travels with the dist tree).
//!
//! [`sign`] walks `TREE`:
//!
//! - `dist/channel-rust-*.toml` and `dist/YYYY-MM-DD/channel-rust-*.toml`:
//!   each must parse as a channel manifest whose artifact URLs are all on
//!   the default dist server (what the hook requires), and a dated copy must
//!   carry its directory's date;
//! - `rustup/release-stable.toml` (must parse), and
//!   `rustup/archive/VERSION/TRIPLE/rustup-init[.exe]` /
//!   `rustup/dist/TRIPLE/rustup-init[.exe]`.
//!
//! Each file is signed (length and SHA-256) by the delegated role
//! responsible for its path, following the delegations as a client
//! would: `releases` for stable, beta and rustup; `nightly` for the
//! nightly manifests once the release team delegates them
//! ([`NIGHTLY_PATHS`]) to a single online key, as RFC 3724 proposes,
//! while stable and beta keep needing the `releases` threshold. A file
//! whose signed entry already matches is left alone; every role that
//! changes must be signed by its threshold of the keys given, or nothing
//! is written. The crates repository's root can be published at the same
//! time as target `crates-repository/root.json` (by whichever role covers
//! that path: normally the top-level targets, whose keys must then be
//! given, or use `trust-roots ceremony stage-targets` for offline keys).
//!
//! Then a new snapshot and timestamp are signed with the online keys, and
//! the result is checked by resolving every changed file through a fresh
//! client, as the hook will. Entries are never removed: dated manifests
//! stay signed after a mirror prunes them.

use crate::layout;
use crate::manifest::{ChannelManifest, ManifestError, RustupRelease};
use shared_trust::crypto::{Ed25519Signer, Key, Signer};
use shared_trust::fetcher::FileFetcher;
use shared_trust::metadata::{DelegatedRole, Delegations, TargetFile, Targets, TOP_LEVEL_ROLES};
use shared_trust::repository::{RepoError, Repository};
use shared_trust::updater::{Config, Updater};
use shared_trust::TrustedMetadataSet;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use trust_roots::chain::CRATES_ROOT_TARGET;

/// Path patterns delegated to the `nightly` role.
pub const NIGHTLY_PATHS: [&str; 2] = [
    "dist/channel-rust-nightly.toml",
    "dist/*/channel-rust-nightly.toml",
];

/// Name of the nightly role (delegated by `releases`).
pub const NIGHTLY_ROLE: &str = "nightly";

/// Name of the release team's role (delegated by the top-level targets).
pub const RELEASES_ROLE: &str = "releases";

/// Why signing failed. Nothing is written when it fails, except
/// [`ReleaseError::SelfCheck`], which is reported after publishing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReleaseError {
    /// File access failed.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The root repository has not been published yet, or is unreadable.
    #[error("root repository at {repo}: {source}")]
    Repository {
        /// Directory.
        repo: PathBuf,
        /// Cause.
        #[source]
        source: Box<RepoError>,
    },
    /// A release file is not valid.
    #[error("{path}: {source}")]
    Invalid {
        /// Local file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: Box<ManifestError>,
    },
    /// A dated manifest with another date inside.
    #[error("{path}: dated copy in {dir_date}/ says date = {date:?}")]
    DateMismatch {
        /// Local file.
        path: PathBuf,
        /// Directory's date.
        dir_date: String,
        /// Date in the manifest.
        date: String,
    },
    /// No delegated role covers a file.
    #[error("{target}: no delegated role covers this path (the top-level targets would have to sign it; use trust-roots ceremony stage-targets, or widen the releases paths)")]
    NotCovered {
        /// Target path.
        target: String,
    },
    /// A changed role's threshold is not met by the keys given.
    #[error("role {role} changes ({}) and needs {threshold} signature(s) from its keys [{}]; the keys given provide {given}", .changes.join(", "), .keyids.join(", "))]
    Threshold {
        /// Role.
        role: String,
        /// Its threshold.
        threshold: u64,
        /// Its keyids.
        keyids: Vec<String>,
        /// Matching keys given.
        given: usize,
        /// What changes in it.
        changes: Vec<String>,
    },
    /// A key given signs for no role of the repository.
    #[error("key {keyid} is not a key of any role that signs release files ({roles}) nor an online snapshot/timestamp key")]
    UnknownKey {
        /// keyid.
        keyid: String,
        /// Roles considered.
        roles: String,
    },
    /// Wrong use (no online keys, bad crates root...).
    #[error("{0}")]
    Usage(String),
    /// The published metadata does not resolve a changed file as signed.
    #[error("published, but a fresh client does not resolve {target} as signed: {reason}")]
    SelfCheck {
        /// Target path.
        target: String,
        /// What it found.
        reason: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ReleaseError + '_ {
    move |source| ReleaseError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What to sign and with which keys.
#[derive(Default)]
pub struct SignOptions {
    /// The server tree (holding `dist/` and `rustup/`).
    pub tree: PathBuf,
    /// The root repository directory (`metadata/`, `targets/`); default `TREE/tuf`.
    pub repo: Option<PathBuf>,
    /// Keys of the delegated roles (and of the top-level targets, for the
    /// crates root) that sign.
    pub keys: Vec<Ed25519Signer>,
    /// Online snapshot and timestamp keys.
    pub online: Vec<Ed25519Signer>,
    /// Create or replace the `nightly` delegation with these keys
    /// (threshold 1); needs the `releases` threshold.
    pub nightly_keys: Vec<Key>,
    /// The crates repository's root metadata, published as
    /// `crates-repository/root.json`.
    pub crates_root: Option<Vec<u8>>,
    /// Lifetime of the changed targets roles, in seconds (default 90 days).
    pub role_lifetime: Option<i64>,
    /// Lifetime of the snapshot, in seconds (default 7 days).
    pub snapshot_lifetime: Option<i64>,
    /// Lifetime of the timestamp, in seconds (default 1 day).
    pub timestamp_lifetime: Option<i64>,
    /// Signing time (Unix seconds).
    pub now: i64,
}

/// What [`sign`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignReport {
    /// Files newly signed or re-signed, with the role that signs them.
    pub signed: Vec<(String, String)>,
    /// Files whose signed entry already matched.
    pub unchanged: usize,
    /// Roles re-signed, with their new version.
    pub roles: Vec<(String, u64)>,
    /// New snapshot version.
    pub snapshot_version: u64,
    /// New timestamp version.
    pub timestamp_version: u64,
    /// Expiry of the new timestamp.
    pub timestamp_expires: String,
}

/// A release file found in the tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReleaseFile {
    /// Target path (= path on the server).
    pub target: String,
    /// Local file.
    pub path: PathBuf,
    /// Length and SHA-256 to sign.
    pub info: TargetFile,
}

fn target_info(bytes: &[u8]) -> TargetFile {
    TargetFile {
        length: bytes.len() as u64,
        hashes: [(
            "sha256".to_string(),
            shared_trust::crypto::sha256_hex(bytes),
        )]
        .into(),
        custom: None,
        unknown_fields: BTreeMap::new(),
    }
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<(String, PathBuf, bool)>, ReleaseError> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(io(dir)(e)),
    };
    for e in entries {
        let e = e.map_err(io(dir))?;
        let ft = e.file_type().map_err(io(&e.path()))?;
        out.push((
            e.file_name().to_string_lossy().into_owned(),
            e.path(),
            ft.is_dir(),
        ));
    }
    out.sort();
    Ok(out)
}

/// Finds every release file of a server tree: target path and local path,
/// sorted (not read, not validated).
pub fn find_release_files(tree: &Path) -> Result<Vec<(String, PathBuf)>, ReleaseError> {
    let mut candidates: Vec<(String, PathBuf)> = Vec::new();
    for (name, path, is_dir) in read_dir_sorted(&tree.join("dist"))? {
        if is_dir && layout::is_date(&name) {
            for (inner, p, d) in read_dir_sorted(&path)? {
                let target = format!("dist/{name}/{inner}");
                if !d && layout::is_channel_manifest(&target) {
                    candidates.push((target, p));
                }
            }
        } else if !is_dir {
            let target = format!("dist/{name}");
            if layout::is_channel_manifest(&target) {
                candidates.push((target, path));
            }
        }
    }
    let rustup = tree.join("rustup");
    let release = rustup.join("release-stable.toml");
    if release.is_file() {
        candidates.push(("rustup/release-stable.toml".into(), release));
    }
    for (version, vdir, is_dir) in read_dir_sorted(&rustup.join("archive"))? {
        if !is_dir {
            continue;
        }
        for (triple, tdir, is_dir) in read_dir_sorted(&vdir)? {
            if !is_dir {
                continue;
            }
            for (name, p, d) in read_dir_sorted(&tdir)? {
                let target = format!("rustup/archive/{version}/{triple}/{name}");
                if !d && layout::is_rustup_file(&target) {
                    candidates.push((target, p));
                }
            }
        }
    }
    for (triple, tdir, is_dir) in read_dir_sorted(&rustup.join("dist"))? {
        if !is_dir {
            continue;
        }
        for (name, p, d) in read_dir_sorted(&tdir)? {
            let target = format!("rustup/dist/{triple}/{name}");
            if !d && layout::is_rustup_file(&target) {
                candidates.push((target, p));
            }
        }
    }
    Ok(candidates)
}

/// Finds, reads and validates every release file of a server tree.
pub fn scan_tree(tree: &Path) -> Result<Vec<ReleaseFile>, ReleaseError> {
    let mut out = Vec::new();
    for (target, path) in find_release_files(tree)? {
        layout::check_path(&target)
            .map_err(|e| ReleaseError::Usage(format!("{}: {e}", path.display())))?;
        let bytes = std::fs::read(&path).map_err(io(&path))?;
        validate(&target, &path, &bytes)?;
        out.push(ReleaseFile {
            info: target_info(&bytes),
            target,
            path,
        });
    }
    Ok(out)
}

fn validate(target: &str, path: &Path, bytes: &[u8]) -> Result<(), ReleaseError> {
    let invalid = |source| ReleaseError::Invalid {
        path: path.to_path_buf(),
        source: Box::new(source),
    };
    if layout::is_channel_manifest(target) {
        let m = ChannelManifest::parse(target, bytes).map_err(invalid)?;
        let parts: Vec<&str> = target.split('/').collect();
        if let ["dist", dir_date, _] = parts.as_slice() {
            if *dir_date != m.date {
                return Err(ReleaseError::DateMismatch {
                    path: path.to_path_buf(),
                    dir_date: dir_date.to_string(),
                    date: m.date,
                });
            }
        }
    } else if target == "rustup/release-stable.toml" {
        RustupRelease::parse(target, bytes).map_err(invalid)?;
    } else if bytes.is_empty() {
        return Err(ReleaseError::Usage(format!(
            "{}: empty rustup-init",
            path.display()
        )));
    }
    Ok(())
}

/// The role that signs `path`: the deepest role on the first matching
/// delegation chain from the top-level targets (the first role a client's
/// pre-order search would reach), whether or not it was published yet.
pub fn responsible_role(repo: &Repository, path: &str) -> String {
    let mut role = "targets".to_string();
    for _ in 0..32 {
        let Some(d) = repo.targets.get(&role).and_then(|t| t.delegations.as_ref()) else {
            return role;
        };
        match d.roles_for_target(path).into_iter().next() {
            Some((child, _)) => role = child,
            None => return role,
        }
    }
    role
}

/// keyids and threshold of a role, from its delegator (or root).
fn role_keys(repo: &Repository, role: &str) -> Option<(Vec<String>, u64)> {
    if TOP_LEVEL_ROLES.contains(&role) {
        return repo
            .root
            .roles
            .get(role)
            .map(|r| (r.keyids.clone(), r.threshold));
    }
    repo.targets.values().find_map(|t| {
        t.delegations
            .as_ref()
            .and_then(|d| d.roles.as_ref())
            .and_then(|roles| roles.iter().find(|r| r.name == role))
            .map(|r| (r.keyids.clone(), r.threshold))
    })
}

fn set_nightly_delegation(
    repo: &mut Repository,
    keys: &[Key],
    lifetime: i64,
    now: i64,
) -> Result<(), ReleaseError> {
    let releases = repo.targets.get_mut(RELEASES_ROLE).ok_or_else(|| {
        ReleaseError::Usage(
            "the root repository has no releases role to delegate nightly from".into(),
        )
    })?;
    let d = releases
        .delegations
        .get_or_insert_with(Delegations::with_no_roles);
    let roles = d
        .roles
        .as_mut()
        .ok_or_else(|| ReleaseError::Usage("releases uses succinct delegation".into()))?;
    roles.retain(|r| r.name != NIGHTLY_ROLE);
    roles.push(DelegatedRole {
        name: NIGHTLY_ROLE.into(),
        keyids: keys.iter().map(Key::keyid).collect(),
        threshold: 1,
        terminating: true,
        paths: Some(NIGHTLY_PATHS.iter().map(|s| s.to_string()).collect()),
        path_hash_prefixes: None,
        unknown_fields: BTreeMap::new(),
    });
    for k in keys {
        d.keys.insert(k.keyid(), k.clone());
    }
    let used: BTreeSet<String> = roles.iter().flat_map(|r| r.keyids.clone()).collect();
    d.keys.retain(|k, _| used.contains(k));
    repo.targets
        .entry(NIGHTLY_ROLE.into())
        .or_insert_with(|| Targets::new(1, now + lifetime));
    Ok(())
}

/// Signs the release files of `opts.tree` (see the module docs).
pub fn sign(opts: &SignOptions) -> Result<SignReport, ReleaseError> {
    let repo_dir = opts.repo.clone().unwrap_or_else(|| opts.tree.join("tuf"));
    let repo_err = |source| ReleaseError::Repository {
        repo: repo_dir.clone(),
        source: Box::new(source),
    };
    if !repo_dir.join("metadata").join("timestamp.json").exists() {
        return Err(ReleaseError::Usage(format!(
            "{} holds no published root repository (metadata/timestamp.json); create it with the root ceremony first (trust-roots ceremony init, sign, publish)",
            repo_dir.display()
        )));
    }
    if opts.online.is_empty() {
        return Err(ReleaseError::Usage(
            "the online snapshot and timestamp keys are needed (--online-key)".into(),
        ));
    }
    let files = scan_tree(&opts.tree)?;
    let mut repo = Repository::load(&repo_dir, opts.now).map_err(repo_err)?;
    let role_lifetime = opts.role_lifetime.unwrap_or(90 * 86_400);
    repo.lifetimes.targets = role_lifetime;
    repo.lifetimes.snapshot = opts.snapshot_lifetime.unwrap_or(7 * 86_400);
    repo.lifetimes.timestamp = opts.timestamp_lifetime.unwrap_or(86_400);

    // Roles delegated but never published start empty.
    let delegated: Vec<String> = repo
        .targets
        .values()
        .filter_map(|t| t.delegations.as_ref().and_then(|d| d.roles.clone()))
        .flatten()
        .map(|r| r.name)
        .collect();
    for name in delegated {
        repo.targets
            .entry(name)
            .or_insert_with(|| Targets::new(1, opts.now + role_lifetime));
    }

    let mut changes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if !opts.nightly_keys.is_empty() {
        set_nightly_delegation(&mut repo, &opts.nightly_keys, role_lifetime, opts.now)?;
        changes
            .entry(RELEASES_ROLE.into())
            .or_default()
            .push("nightly delegation".into());
        changes
            .entry(NIGHTLY_ROLE.into())
            .or_default()
            .push("new delegation".into());
    }
    // Roles that were never published must be published now.
    for (name, _) in repo.targets.iter() {
        if repo.published_bytes(name).is_none() {
            changes
                .entry(name.clone())
                .or_default()
                .push("first version".into());
        }
    }

    let mut report = SignReport::default();
    let mut additions: Vec<(String, String, TargetFile)> = Vec::new();
    for f in &files {
        let role = responsible_role(&repo, &f.target);
        if role == "targets" {
            return Err(ReleaseError::NotCovered {
                target: f.target.clone(),
            });
        }
        let current = repo
            .targets
            .get(&role)
            .and_then(|t| t.targets.get(&f.target));
        if current.is_some_and(|c| c.length == f.info.length && c.hashes == f.info.hashes) {
            report.unchanged += 1;
            continue;
        }
        changes
            .entry(role.clone())
            .or_default()
            .push(f.target.clone());
        additions.push((role, f.target.clone(), f.info.clone()));
    }
    let mut crates_root_role = None;
    if let Some(root) = &opts.crates_root {
        TrustedMetadataSet::new(root, 0).map_err(|e| {
            ReleaseError::Usage(format!(
                "the crates repository root is not root metadata signed by its own threshold: {e}"
            ))
        })?;
        let role = responsible_role(&repo, CRATES_ROOT_TARGET);
        let info = shared_trust::crypto::sha256_hex(root);
        let current = repo
            .targets
            .get(&role)
            .and_then(|t| t.targets.get(CRATES_ROOT_TARGET));
        if current.and_then(|c| c.hashes.get("sha256")) == Some(&info) {
            report.unchanged += 1;
        } else {
            changes
                .entry(role.clone())
                .or_default()
                .push(CRATES_ROOT_TARGET.into());
            crates_root_role = Some(role);
        }
    }

    // Signers: every changed role must meet its threshold.
    let mut used_keys = BTreeSet::new();
    for (role, what) in &changes {
        let (keyids, threshold) = role_keys(&repo, role).ok_or_else(|| {
            ReleaseError::Usage(format!("role {role} is not defined by the repository"))
        })?;
        let signers: Vec<&Ed25519Signer> = opts
            .keys
            .iter()
            .filter(|k| keyids.iter().any(|id| id == k.keyid()))
            .collect();
        if (signers.len() as u64) < threshold {
            return Err(ReleaseError::Threshold {
                role: role.clone(),
                threshold,
                keyids,
                given: signers.len(),
                changes: what.clone(),
            });
        }
        for s in signers {
            used_keys.insert(s.keyid().to_string());
            repo.add_signer(role, Arc::new(Ed25519Signer::from_seed(&s.seed())));
        }
    }
    // Keys that belong to no role at all are a mistake worth stopping for.
    let all_roles: Vec<String> = repo.targets.keys().cloned().collect();
    for k in &opts.keys {
        if used_keys.contains(k.keyid()) {
            continue;
        }
        let known = all_roles.iter().any(|r| {
            role_keys(&repo, r).is_some_and(|(ids, _)| ids.iter().any(|id| id == k.keyid()))
        });
        if !known {
            return Err(ReleaseError::UnknownKey {
                keyid: k.keyid().to_string(),
                roles: all_roles.join(", "),
            });
        }
    }
    for role in ["snapshot", "timestamp"] {
        let (keyids, threshold) = role_keys(&repo, role).unwrap_or_default();
        let signers: Vec<&Ed25519Signer> = opts
            .online
            .iter()
            .filter(|k| keyids.iter().any(|id| id == k.keyid()))
            .collect();
        if (signers.len() as u64) < threshold {
            return Err(ReleaseError::Threshold {
                role: role.into(),
                threshold,
                keyids,
                given: signers.len(),
                changes: vec!["new version".into()],
            });
        }
        for s in signers {
            repo.add_signer(role, Arc::new(Ed25519Signer::from_seed(&s.seed())));
        }
    }
    for k in &opts.online {
        let online = ["snapshot", "timestamp"].iter().any(|r| {
            role_keys(&repo, r).is_some_and(|(ids, _)| ids.iter().any(|id| id == k.keyid()))
        });
        if !online {
            return Err(ReleaseError::Usage(format!(
                "online key {} is neither a snapshot nor a timestamp key of root version {}",
                k.keyid(),
                repo.root.version
            )));
        }
    }

    // Apply and publish.
    for (role, target, info) in &additions {
        repo.add_target_info(role, target, info.clone())
            .map_err(repo_err)?;
        report.signed.push((target.clone(), role.clone()));
    }
    if let (Some(role), Some(root)) = (&crates_root_role, &opts.crates_root) {
        repo.add_target(role, CRATES_ROOT_TARGET, root, None)
            .map_err(repo_err)?;
        report
            .signed
            .push((CRATES_ROOT_TARGET.to_string(), role.clone()));
    }
    for role in changes.keys() {
        repo.touch(role);
    }
    repo.set_time(opts.now);
    repo.touch("snapshot");
    repo.publish(&repo_dir).map_err(repo_err)?;
    for role in changes.keys() {
        if let Some(t) = repo.targets.get(role) {
            report.roles.push((role.clone(), t.version));
        }
    }
    report.snapshot_version = repo.snapshot.version;
    report.timestamp_version = repo.timestamp.version;
    report.timestamp_expires = repo.timestamp.expires.clone();
    self_check(&repo_dir, &report, &files, opts)?;
    Ok(report)
}

/// Resolves every changed file through a fresh client of the published
/// metadata (trusting the repository's own first root).
fn self_check(
    repo_dir: &Path,
    report: &SignReport,
    files: &[ReleaseFile],
    opts: &SignOptions,
) -> Result<(), ReleaseError> {
    let meta = repo_dir.join("metadata");
    let root_path = meta.join("1.root.json");
    let root = std::fs::read(&root_path).map_err(io(&root_path))?;
    let tmp = tempfile::tempdir().map_err(io(Path::new("temporary directory")))?;
    let fail = |target: &str, reason: String| ReleaseError::SelfCheck {
        target: target.to_string(),
        reason,
    };
    shared_trust::updater::bootstrap(tmp.path(), &root, opts.now)
        .map_err(|e| fail("root", e.to_string()))?;
    let url = file_url(&meta);
    let mut up = Updater::new(tmp.path(), &url, FileFetcher, Config::default(), opts.now)
        .map_err(|e| fail("root", e.to_string()))?;
    let by_target: BTreeMap<&str, &ReleaseFile> =
        files.iter().map(|f| (f.target.as_str(), f)).collect();
    for (target, _) in &report.signed {
        let found = up
            .get_targetinfo(target)
            .map_err(|e| fail(target, e.to_string()))?;
        let Some(found) = found else {
            return Err(fail(target, "not found".into()));
        };
        if let Some(f) = by_target.get(target.as_str()) {
            if found.hashes.get("sha256") != f.info.hashes.get("sha256") {
                return Err(fail(target, "a different hash is signed".into()));
            }
        }
    }
    Ok(())
}

/// A `file://` URL for a local directory (percent-encoding what needs it).
pub fn file_url(path: &Path) -> String {
    let mut out = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/._-~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_urls_are_encoded() {
        assert_eq!(file_url(Path::new("/a b/c")), "file:///a%20b/c");
    }

    #[test]
    fn scan_finds_release_files_and_validates_them() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        let manifest = "manifest-version = \"2\"\ndate = \"2025-04-03\"\n";
        std::fs::create_dir_all(t.join("dist/2025-04-03")).unwrap();
        std::fs::write(t.join("dist/channel-rust-stable.toml"), manifest).unwrap();
        std::fs::write(t.join("dist/channel-rust-stable.toml.sha256"), "x").unwrap();
        std::fs::write(t.join("dist/2025-04-03/channel-rust-stable.toml"), manifest).unwrap();
        std::fs::write(t.join("dist/2025-04-03/rustc.tar.gz"), "x").unwrap();
        std::fs::create_dir_all(t.join("rustup/archive/1.29.0/x86_64-unknown-linux-gnu")).unwrap();
        std::fs::write(
            t.join("rustup/release-stable.toml"),
            "schema-version = '1'\nversion = '1.29.0'\n",
        )
        .unwrap();
        std::fs::write(
            t.join("rustup/archive/1.29.0/x86_64-unknown-linux-gnu/rustup-init"),
            "#!/bin/sh\n",
        )
        .unwrap();
        let found: Vec<String> = scan_tree(t)
            .unwrap()
            .into_iter()
            .map(|f| f.target)
            .collect();
        assert_eq!(
            found,
            [
                "dist/2025-04-03/channel-rust-stable.toml",
                "dist/channel-rust-stable.toml",
                "rustup/release-stable.toml",
                "rustup/archive/1.29.0/x86_64-unknown-linux-gnu/rustup-init",
            ]
        );
        std::fs::create_dir_all(t.join("dist/2025-04-04")).unwrap();
        std::fs::write(t.join("dist/2025-04-04/channel-rust-stable.toml"), manifest).unwrap();
        assert!(matches!(
            scan_tree(t),
            Err(ReleaseError::DateMismatch { .. })
        ));
        std::fs::remove_dir_all(t.join("dist/2025-04-04")).unwrap();
        std::fs::write(t.join("dist/channel-rust-beta.toml"), "not toml [").unwrap();
        assert!(matches!(scan_tree(t), Err(ReleaseError::Invalid { .. })));
    }
}
