//! The root ceremony: offline threshold signing of root and top-level
//! targets metadata by several key holders.
//!
//! A ceremony works on a repository directory `DIR`:
//!
//! ```text
//! DIR/staged/root.json      the next root version, collecting signatures
//! DIR/staged/targets.json   the next top-level targets version, likewise
//! DIR/metadata/             what clients fetch (N.root.json, root.json,
//!                           V.targets.json, V.snapshot.json, timestamp.json)
//! ```
//!
//! 1. [`init`] stages root v1 (root, timestamp, snapshot and targets keys and
//!    thresholds) and targets v1 (with the `releases` delegation when its
//!    keys are given).
//! 2. Each holder runs [`sign`] with their key file on the same directory;
//!    it adds their signature to every staged file their key may sign and
//!    never changes the signed content.
//! 3. [`status`] shows, for each staged file, every threshold it must meet
//!    (a new root: its own and the previous root's), who signed, whose
//!    signature does not verify (the file changed after signing), and who
//!    is missing.
//! 4. [`publish`] writes the staged files into `metadata/` only when every
//!    threshold is met, and with the online snapshot and timestamp keys
//!    (when given) signs a new snapshot and timestamp so the repository is
//!    servable. Nothing is written when any check fails.
//! 5. Later versions: [`stage_root`] (rotate or revoke keys, change
//!    thresholds, renew the expiry) and [`stage_targets`] (change a
//!    delegation, revoke or replace a delegated key, publish a target such
//!    as the crates repository's root, renew).

use shared_trust::crypto::{Ed25519Signer, HashAlgorithm, Key, Signer};
use shared_trust::metadata::{
    DelegatedRole, Delegations, Metadata, Role, RoleKeys, Root, TargetFile, Targets, SPEC_VERSION,
    TOP_LEVEL_ROLES,
};
use shared_trust::repository::{self, RepoError, Repository};
use shared_trust::{store, time};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why a ceremony step failed. No step writes anything when it fails.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CeremonyError {
    /// File access failed.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// A file holds invalid metadata.
    #[error("{path}: {source}")]
    Metadata {
        /// File.
        path: PathBuf,
        /// Cause.
        #[source]
        source: shared_trust::MetadataError,
    },
    /// A repository operation failed.
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// Thresholds are not met.
    #[error("not publishing: {0}")]
    ThresholdsNotMet(String),
    /// The key may not sign anything staged.
    #[error("key {keyid} is not authorized to sign any staged file ({detail})")]
    NotAuthorized {
        /// keyid.
        keyid: String,
        /// What was checked.
        detail: String,
    },
    /// Wrong use of the ceremony (nothing staged, already initialized, unknown role...).
    #[error("{0}")]
    Usage(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CeremonyError + '_ {
    move |source| CeremonyError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn staged_dir(dir: &Path) -> PathBuf {
    dir.join("staged")
}

fn staged_path(dir: &Path, role: &str) -> PathBuf {
    staged_dir(dir).join(format!("{role}.json"))
}

fn read_opt(path: &Path) -> Result<Option<Vec<u8>>, CeremonyError> {
    store::read_optional(path).map_err(|e| CeremonyError::Io {
        path: e.path,
        source: e.source,
    })
}

fn parse<T: Role>(role: &str, path: &Path, bytes: &[u8]) -> Result<Metadata<T>, CeremonyError> {
    Metadata::<T>::from_bytes(role, bytes).map_err(|source| CeremonyError::Metadata {
        path: path.to_path_buf(),
        source,
    })
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), CeremonyError> {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).map_err(io(p))?;
    }
    store::write_atomic(path, bytes).map_err(|e| CeremonyError::Io {
        path: e.path,
        source: e.source,
    })
}

/// Keys and threshold for one role, for [`init`] and [`stage_root`].
#[derive(Clone, Debug)]
pub struct RoleSpec {
    /// Public keys.
    pub keys: Vec<Key>,
    /// Threshold.
    pub threshold: u64,
}

impl RoleSpec {
    fn keyids(&self) -> Vec<String> {
        self.keys.iter().map(Key::keyid).collect()
    }
}

/// What [`init`] creates.
#[derive(Clone, Debug)]
pub struct InitSpec {
    /// root, timestamp, snapshot, targets (all four required).
    pub roles: BTreeMap<String, RoleSpec>,
    /// The `releases` delegation (keys, threshold, path patterns), if any.
    pub releases: Option<(RoleSpec, Vec<String>)>,
    /// Root lifetime in days.
    pub root_days: i64,
    /// Targets lifetime in days.
    pub targets_days: i64,
    /// Signing time, Unix seconds.
    pub now: i64,
}

/// Default path patterns of the `releases` role: channel manifests (also
/// dated), their `.sha256` files, and rustup releases.
pub const RELEASES_PATHS: [&str; 5] = [
    "dist/*",
    "dist/*/*",
    "rustup/*",
    "rustup/archive/*/*/*",
    "rustup/dist/*/*",
];

fn role_keys(spec: &RoleSpec) -> RoleKeys {
    RoleKeys {
        keyids: spec.keyids(),
        threshold: spec.threshold,
        unknown_fields: BTreeMap::new(),
    }
}

/// Stages root v1 and targets v1 of a new repository in `dir`.
pub fn init(dir: &Path, spec: &InitSpec) -> Result<(), CeremonyError> {
    if dir.join("metadata").exists() || staged_dir(dir).exists() {
        return Err(CeremonyError::Usage(format!(
            "{} already holds a repository or a staged ceremony",
            dir.display()
        )));
    }
    let mut keys = BTreeMap::new();
    let mut roles = BTreeMap::new();
    for name in TOP_LEVEL_ROLES {
        let r = spec
            .roles
            .get(name)
            .ok_or_else(|| CeremonyError::Usage(format!("no keys given for the {name} role")))?;
        check_spec(name, r)?;
        for k in &r.keys {
            keys.insert(k.keyid(), k.clone());
        }
        roles.insert(name.to_string(), role_keys(r));
    }
    let root = Root {
        type_: "root".into(),
        spec_version: SPEC_VERSION.into(),
        version: 1,
        expires: time::format_utc(spec.now + spec.root_days * 86_400),
        consistent_snapshot: Some(true),
        keys,
        roles,
        unknown_fields: BTreeMap::new(),
    };
    let mut targets = Targets::new(1, spec.now + spec.targets_days * 86_400);
    if let Some((r, paths)) = &spec.releases {
        check_spec("releases", r)?;
        targets.delegations = Some(Delegations {
            keys: r.keys.iter().map(|k| (k.keyid(), k.clone())).collect(),
            roles: Some(vec![DelegatedRole {
                name: "releases".into(),
                keyids: r.keyids(),
                threshold: r.threshold,
                terminating: true,
                paths: Some(paths.clone()),
                path_hash_prefixes: None,
                unknown_fields: BTreeMap::new(),
            }]),
            succinct_roles: None,
            unknown_fields: BTreeMap::new(),
        });
    }
    let root_bytes = repository::stage(root)?;
    let targets_bytes = repository::stage(targets)?;
    write(&staged_path(dir, "root"), &root_bytes)?;
    write(&staged_path(dir, "targets"), &targets_bytes)?;
    Ok(())
}

fn check_spec(role: &str, r: &RoleSpec) -> Result<(), CeremonyError> {
    if r.keys.is_empty() {
        return Err(CeremonyError::Usage(format!(
            "the {role} role needs at least one key"
        )));
    }
    if r.threshold == 0 || r.threshold > r.keys.len() as u64 {
        return Err(CeremonyError::Usage(format!(
            "the {role} threshold must be 1 to {} (the number of its keys), not {}",
            r.keys.len(),
            r.threshold
        )));
    }
    let mut ids: Vec<String> = r.keyids();
    ids.sort();
    ids.dedup();
    if ids.len() != r.keys.len() {
        return Err(CeremonyError::Usage(format!(
            "the {role} role lists a key twice"
        )));
    }
    Ok(())
}

/// The newest published root (bytes), if any.
fn published_root(dir: &Path) -> Result<Option<(PathBuf, Vec<u8>)>, CeremonyError> {
    let meta = dir.join("metadata");
    let mut last = None;
    for v in 1.. {
        let p = meta.join(format!("{v}.root.json"));
        match read_opt(&p)? {
            Some(b) => last = Some((p, b)),
            None => break,
        }
    }
    Ok(last)
}

/// The newest published top-level targets (bytes), if any.
fn published_targets(dir: &Path) -> Result<Option<(PathBuf, Vec<u8>)>, CeremonyError> {
    let meta = dir.join("metadata");
    let mut best: Option<(u64, PathBuf)> = None;
    let entries = match std::fs::read_dir(&meta) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(&meta)(e)),
    };
    for e in entries {
        let e = e.map_err(io(&meta))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(v) = name
            .strip_suffix(".targets.json")
            .and_then(|v| v.parse::<u64>().ok())
        {
            if best.as_ref().is_none_or(|(b, _)| v > *b) {
                best = Some((v, e.path()));
            }
        }
    }
    match best {
        Some((_, p)) => {
            let b = std::fs::read(&p).map_err(io(&p))?;
            Ok(Some((p, b)))
        }
        None => Ok(None),
    }
}

/// One threshold a staged file must meet.
#[derive(Clone, Debug)]
pub struct Requirement {
    /// e.g. `root version 3 (its own root role)`.
    pub what: String,
    /// Signature report.
    pub status: repository::ThresholdStatus,
}

/// The state of one staged file.
#[derive(Clone, Debug)]
pub struct StagedStatus {
    /// `root` or `targets`.
    pub role: String,
    /// Staged version.
    pub version: u64,
    /// Staged expiry.
    pub expires: String,
    /// Thresholds it must meet.
    pub requirements: Vec<Requirement>,
}

impl StagedStatus {
    /// Whether every threshold is met.
    pub fn complete(&self) -> bool {
        self.requirements.iter().all(|r| r.status.met())
    }
}

struct Staged {
    root: Option<(PathBuf, Vec<u8>, Metadata<Root>)>,
    targets: Option<(PathBuf, Vec<u8>, Metadata<Targets>)>,
    previous_root: Option<Metadata<Root>>,
}

fn load_staged(dir: &Path) -> Result<Staged, CeremonyError> {
    let rp = staged_path(dir, "root");
    let tp = staged_path(dir, "targets");
    let root = match read_opt(&rp)? {
        Some(b) => {
            let md = parse::<Root>("root", &rp, &b)?;
            Some((rp, b, md))
        }
        None => None,
    };
    let targets = match read_opt(&tp)? {
        Some(b) => {
            let md = parse::<Targets>("targets", &tp, &b)?;
            Some((tp, b, md))
        }
        None => None,
    };
    let previous_root = match published_root(dir)? {
        Some((p, b)) => Some(parse::<Root>("root", &p, &b)?),
        None => None,
    };
    // Anything else in staged/ is an unknown role.
    if let Ok(entries) = std::fs::read_dir(staged_dir(dir)) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name != "root.json"
                && name != "targets.json"
                && name != "content"
                && !name.starts_with('.')
            {
                return Err(CeremonyError::Usage(format!(
                    "{}: unknown staged role; a ceremony stages only root.json and targets.json",
                    e.path().display()
                )));
            }
        }
    }
    Ok(Staged {
        root,
        targets,
        previous_root,
    })
}

fn requirements(staged: &Staged) -> Vec<StagedStatus> {
    let mut out = Vec::new();
    if let Some((_, _, md)) = &staged.root {
        let new = &md.signed;
        let mut reqs = vec![Requirement {
            what: format!("root version {} (its own root keys)", new.version),
            status: repository::signature_status(md, &new.keys, &new.roles["root"]),
        }];
        if let Some(prev) = &staged.previous_root {
            reqs.push(Requirement {
                what: format!(
                    "root version {} (the previous root's keys)",
                    prev.signed.version
                ),
                status: repository::signature_status(
                    md,
                    &prev.signed.keys,
                    &prev.signed.roles["root"],
                ),
            });
        }
        out.push(StagedStatus {
            role: "root".into(),
            version: new.version,
            expires: new.expires.clone(),
            requirements: reqs,
        });
    }
    if let Some((_, _, md)) = &staged.targets {
        let authority = staged
            .root
            .as_ref()
            .map(|(_, _, r)| &r.signed)
            .or(staged.previous_root.as_ref().map(|r| &r.signed));
        let reqs = match authority {
            Some(root) => vec![Requirement {
                what: format!("targets keys of root version {}", root.version),
                status: repository::signature_status(md, &root.keys, &root.roles["targets"]),
            }],
            None => Vec::new(),
        };
        out.push(StagedStatus {
            role: "targets".into(),
            version: md.signed.version,
            expires: md.signed.expires.clone(),
            requirements: reqs,
        });
    }
    out
}

/// Reports every staged file's signatures against its thresholds.
pub fn status(dir: &Path) -> Result<Vec<StagedStatus>, CeremonyError> {
    let staged = load_staged(dir)?;
    if staged.root.is_none() && staged.targets.is_none() {
        return Err(CeremonyError::Usage(format!(
            "nothing is staged in {}",
            staged_dir(dir).display()
        )));
    }
    Ok(requirements(&staged))
}

/// Adds `signer`'s signature to every staged file its key may sign
/// (listed in a threshold the file must meet). Returns the roles signed.
pub fn sign(dir: &Path, signer: &Ed25519Signer) -> Result<Vec<String>, CeremonyError> {
    let staged = load_staged(dir)?;
    let statuses = requirements(&staged);
    let keyid = signer.keyid().to_string();
    let may_sign = |role: &str| {
        statuses.iter().filter(|s| s.role == role).any(|s| {
            s.requirements.iter().any(|r| {
                let rep = &r.status.report;
                rep.valid.contains(&keyid)
                    || rep.invalid.contains(&keyid)
                    || rep.missing.contains(&keyid)
            })
        })
    };
    // Prepare everything first, then write: a failure writes nothing.
    let mut writes = Vec::new();
    if let Some((path, bytes, _)) = &staged.root {
        if may_sign("root") {
            writes.push((
                "root",
                path.clone(),
                repository::add_signature::<Root>("root", bytes, signer)?,
            ));
        }
    }
    if let Some((path, bytes, _)) = &staged.targets {
        if may_sign("targets") {
            writes.push((
                "targets",
                path.clone(),
                repository::add_signature::<Targets>("targets", bytes, signer)?,
            ));
        }
    }
    if writes.is_empty() {
        let staged_roles: Vec<String> = statuses
            .iter()
            .map(|s| format!("{} version {}", s.role, s.version))
            .collect();
        return Err(CeremonyError::NotAuthorized {
            keyid,
            detail: if staged_roles.is_empty() {
                "nothing is staged".into()
            } else {
                format!("staged: {}", staged_roles.join(", "))
            },
        });
    }
    let mut signed = Vec::new();
    for (role, path, bytes) in writes {
        write(&path, &bytes)?;
        signed.push(role.to_string());
    }
    Ok(signed)
}

/// What [`publish`] wrote.
#[derive(Clone, Debug, Default)]
pub struct PublishReport {
    /// Files written under `metadata/`.
    pub files: Vec<String>,
}

fn unmet(statuses: &[StagedStatus]) -> Option<String> {
    let mut lines = Vec::new();
    for s in statuses {
        for r in &s.requirements {
            if !r.status.met() {
                let rep = &r.status.report;
                let mut line = format!(
                    "{} {}: {} of {} valid signature(s) for {}",
                    s.role,
                    s.version,
                    rep.valid.len(),
                    r.status.threshold,
                    r.what
                );
                if !rep.invalid.is_empty() {
                    line.push_str(&format!(
                        "; signature(s) that do not verify (file changed after signing?): {}",
                        rep.invalid.join(", ")
                    ));
                }
                if !rep.missing.is_empty() {
                    line.push_str(&format!("; not yet signed by: {}", rep.missing.join(", ")));
                }
                lines.push(line);
            }
        }
        if s.requirements.is_empty() {
            lines.push(format!(
                "{} {}: no root defines its keys yet",
                s.role, s.version
            ));
        }
    }
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// Publishes the staged files once every threshold is met, and signs a new
/// snapshot and timestamp with `online` keys (required when targets change
/// or the repository has no timestamp yet; a root-only publish needs none).
pub fn publish(
    dir: &Path,
    online: &[Ed25519Signer],
    now: i64,
) -> Result<PublishReport, CeremonyError> {
    let staged = load_staged(dir)?;
    let statuses = requirements(&staged);
    if let Some(msg) = unmet(&statuses) {
        return Err(CeremonyError::ThresholdsNotMet(msg));
    }
    let meta = dir.join("metadata");
    let has_timestamp = meta.join("timestamp.json").exists();
    let needs_online = staged.targets.is_some() || !has_timestamp || staged.root.is_none();
    if staged.root.is_none() && staged.targets.is_none() && online.is_empty() {
        return Err(CeremonyError::Usage(
            "nothing is staged; give the online snapshot and timestamp keys to renew them".into(),
        ));
    }
    if needs_online && online.is_empty() {
        return Err(CeremonyError::Usage(
            "publishing targets (or a new repository) needs the online snapshot and timestamp keys (--online-key)".into(),
        ));
    }

    let mut repo = if has_timestamp {
        Repository::load(dir, now)?
    } else {
        Repository::new(now, true)
    };
    if !has_timestamp {
        // A new repository: take root history from disk if published already.
        for v in 1.. {
            match read_opt(&meta.join(format!("{v}.root.json")))? {
                Some(b) => repo.install_root(&b)?,
                None => break,
            }
        }
    }
    let mut files = Vec::new();
    let mut content_writes: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    if let Some((_, bytes, md)) = &staged.root {
        repo.install_root(bytes)?;
        files.push(format!("{}.root.json", md.signed.version));
    }
    if let Some((_, bytes, md)) = &staged.targets {
        repo.install_targets(bytes)?;
        files.push(format!("{}.targets.json", md.signed.version));
        // Target contents staged with it, under every hash (consistent snapshots).
        for (tpath, info) in &md.signed.targets {
            let Some(sha) = info.hashes.get("sha256") else {
                continue;
            };
            let Some(content) = read_opt(&staged_dir(dir).join("content").join(sha))? else {
                continue;
            };
            for hash in info.hashes.values() {
                let rel = store::hash_prefixed_target_path(tpath, hash);
                content_writes.push((dir.join("targets").join(rel), content.clone()));
            }
            files.push(format!("targets/{tpath}"));
        }
    }
    let write_contents = |writes: &[(PathBuf, Vec<u8>)]| -> Result<(), CeremonyError> {
        for (p, c) in writes {
            write(p, c)?;
        }
        Ok(())
    };
    if online.is_empty() {
        // Root only: write the root files, leave snapshot and timestamp.
        let bytes = repo.root_bytes().expect("root installed").to_vec();
        write(
            &meta.join(format!("{}.root.json", repo.root.version)),
            &bytes,
        )?;
        write(&meta.join("root.json"), &bytes)?;
    } else {
        for key in online {
            let mut used = false;
            for role in ["snapshot", "timestamp"] {
                if repo.root.roles[role]
                    .keyids
                    .iter()
                    .any(|k| k == key.keyid())
                {
                    repo.add_signer(role, Arc::new(Ed25519Signer::from_seed(&key.seed())));
                    used = true;
                }
            }
            if !used {
                return Err(CeremonyError::NotAuthorized {
                    keyid: key.keyid().to_string(),
                    detail: format!(
                        "an online key must be a snapshot or timestamp key of root version {}",
                        repo.root.version
                    ),
                });
            }
        }
        repo.set_time(now);
        repo.touch("snapshot");
        // Contents before the metadata that lists them.
        write_contents(&content_writes)?;
        repo.publish(dir)?;
        files.push("snapshot".into());
        files.push("timestamp.json".into());
    }
    for s in &statuses {
        let p = staged_path(dir, &s.role);
        std::fs::remove_file(&p).map_err(io(&p))?;
    }
    let _ = std::fs::remove_dir_all(staged_dir(dir).join("content"));
    let _ = std::fs::remove_dir(staged_dir(dir));
    Ok(PublishReport { files })
}

/// Changes for the next root version.
#[derive(Clone, Debug, Default)]
pub struct RootChanges {
    /// Keys to add, per role.
    pub add: Vec<(String, Key)>,
    /// keyids to remove, per role.
    pub remove: Vec<(String, String)>,
    /// New thresholds, per role.
    pub thresholds: Vec<(String, u64)>,
    /// New lifetime in days from now (renewal), if any.
    pub days: Option<i64>,
}

fn check_role_name(role: &str) -> Result<(), CeremonyError> {
    if TOP_LEVEL_ROLES.contains(&role) {
        Ok(())
    } else {
        Err(CeremonyError::Usage(format!(
            "unknown role {role:?}: root lists only root, timestamp, snapshot and targets"
        )))
    }
}

/// Stages root version N+1 from the newest published root N: keys added
/// or removed (rotation, revocation), thresholds changed, expiry renewed.
/// Returns the staged version.
pub fn stage_root(dir: &Path, changes: &RootChanges, now: i64) -> Result<u64, CeremonyError> {
    if staged_path(dir, "root").exists() {
        return Err(CeremonyError::Usage(
            "a root version is staged already; publish it or delete staged/root.json first".into(),
        ));
    }
    let (path, bytes) = published_root(dir)?
        .ok_or_else(|| CeremonyError::Usage("no published root to start from; run init".into()))?;
    let mut root = parse::<Root>("root", &path, &bytes)?.signed;
    for (role, keyid) in &changes.remove {
        check_role_name(role)?;
        let rk = root.roles.get_mut(role).expect("top-level role");
        let before = rk.keyids.len();
        rk.keyids.retain(|k| k != keyid);
        if rk.keyids.len() == before {
            return Err(CeremonyError::Usage(format!(
                "the {role} role of root version {} has no key {keyid}",
                root.version
            )));
        }
    }
    for (role, key) in &changes.add {
        check_role_name(role)?;
        let keyid = key.keyid();
        let rk = root.roles.get_mut(role).expect("top-level role");
        if rk.keyids.contains(&keyid) {
            return Err(CeremonyError::Usage(format!(
                "the {role} role already has key {keyid}"
            )));
        }
        rk.keyids.push(keyid.clone());
        root.keys.insert(keyid, key.clone());
    }
    for (role, t) in &changes.thresholds {
        check_role_name(role)?;
        root.roles.get_mut(role).expect("top-level role").threshold = *t;
    }
    // Keys no role uses any more leave the key list.
    let used: Vec<String> = root.roles.values().flat_map(|r| r.keyids.clone()).collect();
    root.keys.retain(|k, _| used.contains(k));
    for (name, rk) in &root.roles {
        if rk.threshold == 0 || rk.threshold > rk.keyids.len() as u64 {
            return Err(CeremonyError::Usage(format!(
                "the {name} role would have {} key(s) and threshold {}",
                rk.keyids.len(),
                rk.threshold
            )));
        }
    }
    root.version += 1;
    let days = changes.days.unwrap_or(365);
    root.expires = time::format_utc(now + days * 86_400);
    let version = root.version;
    let staged = repository::stage(root)?;
    write(&staged_path(dir, "root"), &staged)?;
    Ok(version)
}

/// Changes for the next top-level targets version.
#[derive(Clone, Debug, Default)]
pub struct TargetsChanges {
    /// Delegated role to change (e.g. `releases`), created if absent.
    pub role: Option<String>,
    /// Keys to add to that role.
    pub add_keys: Vec<Key>,
    /// keyids to remove from that role (revocation).
    pub remove_keys: Vec<String>,
    /// New threshold of that role.
    pub threshold: Option<u64>,
    /// New path patterns of that role.
    pub paths: Option<Vec<String>>,
    /// Targets to add: target path and file content.
    pub add_targets: Vec<(String, Vec<u8>)>,
    /// New lifetime in days from now.
    pub days: Option<i64>,
}

/// Stages top-level targets version V+1 from the newest published one.
/// Returns the staged version.
pub fn stage_targets(dir: &Path, changes: &TargetsChanges, now: i64) -> Result<u64, CeremonyError> {
    if staged_path(dir, "targets").exists() {
        return Err(CeremonyError::Usage(
            "a targets version is staged already; publish it or delete staged/targets.json first"
                .into(),
        ));
    }
    let (path, bytes) = published_targets(dir)?.ok_or_else(|| {
        CeremonyError::Usage("no published targets to start from; run init and publish".into())
    })?;
    let mut targets = parse::<Targets>("targets", &path, &bytes)?.signed;
    if let Some(role) = &changes.role {
        let d = targets
            .delegations
            .get_or_insert_with(Delegations::with_no_roles);
        let roles = d.roles.as_mut().ok_or_else(|| {
            CeremonyError::Usage("top-level targets uses succinct delegation".into())
        })?;
        if !roles.iter().any(|r| &r.name == role) {
            if changes.add_keys.is_empty() || changes.paths.is_none() {
                let known: Vec<&str> = roles.iter().map(|r| r.name.as_str()).collect();
                return Err(CeremonyError::Usage(format!(
                    "unknown role {role:?} (delegated roles: {}); to create it give --add-key and --path",
                    if known.is_empty() { "none".to_string() } else { known.join(", ") }
                )));
            }
            if !repository::is_servable_role_name(role) || TOP_LEVEL_ROLES.contains(&role.as_str())
            {
                return Err(CeremonyError::Usage(format!(
                    "{role:?} cannot be a delegated role name"
                )));
            }
            roles.push(DelegatedRole {
                name: role.clone(),
                keyids: Vec::new(),
                threshold: 1,
                terminating: true,
                paths: Some(Vec::new()),
                path_hash_prefixes: None,
                unknown_fields: BTreeMap::new(),
            });
        }
        let r = roles.iter_mut().find(|r| &r.name == role).expect("present");
        for keyid in &changes.remove_keys {
            let before = r.keyids.len();
            r.keyids.retain(|k| k != keyid);
            if r.keyids.len() == before {
                return Err(CeremonyError::Usage(format!(
                    "delegated role {role} has no key {keyid}"
                )));
            }
        }
        for key in &changes.add_keys {
            let keyid = key.keyid();
            if !r.keyids.contains(&keyid) {
                r.keyids.push(keyid.clone());
            }
            d.keys.insert(keyid, key.clone());
        }
        if let Some(t) = changes.threshold {
            r.threshold = t;
        }
        if let Some(p) = &changes.paths {
            r.paths = Some(p.clone());
        }
        if r.threshold == 0 || r.threshold > r.keyids.len() as u64 {
            return Err(CeremonyError::Usage(format!(
                "delegated role {role} would have {} key(s) and threshold {}",
                r.keyids.len(),
                r.threshold
            )));
        }
        let used: Vec<String> = roles.iter().flat_map(|r| r.keyids.clone()).collect();
        d.keys.retain(|k, _| used.contains(k));
    } else if !changes.add_keys.is_empty()
        || !changes.remove_keys.is_empty()
        || changes.threshold.is_some()
        || changes.paths.is_some()
    {
        return Err(CeremonyError::Usage(
            "key, threshold and path changes need --role (the delegated role to change)".into(),
        ));
    }
    for (tpath, content) in &changes.add_targets {
        if tpath.is_empty()
            || tpath.starts_with('/')
            || tpath
                .split('/')
                .any(|p| p == ".." || p == "." || p.is_empty())
        {
            return Err(CeremonyError::Usage(format!(
                "target path {tpath:?} must be relative, without empty, . or .. parts"
            )));
        }
        targets.targets.insert(
            tpath.clone(),
            TargetFile {
                length: content.len() as u64,
                hashes: [
                    (
                        "sha256".to_string(),
                        HashAlgorithm::Sha256.hex_digest(content),
                    ),
                    (
                        "sha512".to_string(),
                        HashAlgorithm::Sha512.hex_digest(content),
                    ),
                ]
                .into(),
                custom: None,
                unknown_fields: BTreeMap::new(),
            },
        );
    }
    targets.version += 1;
    targets.expires = time::format_utc(now + changes.days.unwrap_or(365) * 86_400);
    let version = targets.version;
    let staged = repository::stage(targets)?;
    // Contents wait beside the staged file until publish.
    for (_, content) in &changes.add_targets {
        let name = HashAlgorithm::Sha256.hex_digest(content);
        write(&staged_dir(dir).join("content").join(name), content)?;
    }
    write(&staged_path(dir, "targets"), &staged)?;
    Ok(version)
}
