//! The repository side: create, edit, sign and publish TUF metadata.
//!
//! [`Repository`] holds the current `signed` content of every role plus the
//! signers available to this process, and [`Repository::publish`] writes a
//! static directory any web server or mirror can serve:
//!
//! ```text
//! metadata/1.root.json ... N.root.json   every root version (clients walk them)
//! metadata/root.json                     the newest root (for bootstrapping)
//! metadata/timestamp.json
//! metadata/V.snapshot.json, V.ROLE.json  with consistent snapshots
//! metadata/snapshot.json, ROLE.json      without
//! targets/DIR/HASH.NAME                  with consistent snapshots (one per hash)
//! targets/DIR/NAME                       without
//! ```
//!
//! Publishing bumps the version of every role that changed since the last
//! publish, re-pins it in snapshot, and always issues a new timestamp. A new
//! root version is signed by the signers of both the previous and the new
//! root (the client checks both thresholds).
//!
//! Roles whose keys are held offline by several people are signed through
//! staged files: [`stage`] writes the unsigned next version, each holder runs
//! [`add_signature`] on the same file, [`signature_status`] reports who has
//! signed and what is missing, and [`Repository::install_root`] accepts the
//! result only when both thresholds are met.

use crate::crypto::{self, Key, KeyError, Signer};
use crate::metadata::{
    DelegatedRole, Delegations, MetaFile, Metadata, MetadataError, Role, RoleKeys, Root, Signature,
    SignatureReport, Snapshot, SuccinctRoles, TargetFile, Targets, Timestamp, SPEC_VERSION,
    TOP_LEVEL_ROLES,
};
use crate::store::{self, StoreError};
use crate::time;
use crate::trusted::{verify_role, TrustError};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

/// Whether `name` can be a role name in a repository this module writes:
/// non-empty ASCII letters, digits and `_.~-`, not starting with `.`. Such
/// a name is the same in a URL and on disk, so any static web server or
/// `file://` mirror serves it; the TUF client percent-encodes other names
/// in URLs, which static servers would decode to a file name that differs
/// from the one written.
pub fn is_servable_role_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.~-".contains(&b))
}

fn check_role_name(name: &str) -> Result<(), RepoError> {
    if is_servable_role_name(name) {
        Ok(())
    } else {
        Err(RepoError::Usage(format!(
            "role name {name:?} must be ASCII letters, digits and _.~- (not starting with .) so static mirrors can serve it"
        )))
    }
}

/// Why a repository operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RepoError {
    /// Metadata could not be built or parsed.
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    /// A signature check failed.
    #[error(transparent)]
    Trust(#[from] TrustError),
    /// Signing failed.
    #[error("signing {role}: {source}")]
    Sign {
        /// Role being signed.
        role: String,
        /// Cause.
        #[source]
        source: KeyError,
    },
    /// Writing the repository failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The operation does not make sense for this repository (caller misuse).
    #[error("{0}")]
    Usage(String),
}

/// How long each role stays valid after it is signed, in seconds.
#[derive(Clone, Copy, Debug)]
pub struct Lifetimes {
    /// Root.
    pub root: i64,
    /// Targets and delegated targets.
    pub targets: i64,
    /// Snapshot.
    pub snapshot: i64,
    /// Timestamp.
    pub timestamp: i64,
}

impl Default for Lifetimes {
    fn default() -> Self {
        const DAY: i64 = 86_400;
        Lifetimes {
            root: 365 * DAY,
            targets: 90 * DAY,
            snapshot: 7 * DAY,
            timestamp: DAY,
        }
    }
}

/// A TUF repository being built or edited.
pub struct Repository {
    /// Root content (next version to publish when `root` is dirty).
    pub root: Root,
    /// Timestamp content.
    pub timestamp: Timestamp,
    /// Snapshot content.
    pub snapshot: Snapshot,
    /// Targets roles by name (`targets` and delegated roles).
    pub targets: BTreeMap<String, Targets>,
    /// Lifetimes used when a role is (re)signed.
    pub lifetimes: Lifetimes,
    /// Whether snapshot meta pins length and hashes (else version only).
    pub pin_hashes: bool,
    signers: BTreeMap<String, Vec<Arc<dyn Signer>>>,
    // Root signers removed since the last publish: the next root version
    // still needs the previous root's threshold.
    retired_root_signers: Vec<Arc<dyn Signer>>,
    // Files signed elsewhere (installed), written by the next publish.
    pending_files: BTreeMap<String, Vec<u8>>,
    target_content: BTreeMap<String, Vec<u8>>,
    root_history: Vec<Vec<u8>>,
    published: BTreeMap<String, Vec<u8>>,
    dirty: BTreeSet<String>,
    now: i64,
}

impl std::fmt::Debug for Repository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repository")
            .field("root_version", &self.root.version)
            .field("targets_roles", &self.targets.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

fn role_keys() -> RoleKeys {
    RoleKeys {
        keyids: Vec::new(),
        threshold: 1,
        unknown_fields: BTreeMap::new(),
    }
}

impl Repository {
    /// A new, empty repository: root v1 with no keys yet (add them with
    /// [`Repository::add_key`]), empty targets, snapshot and timestamp.
    /// `now` is the signing time in Unix seconds.
    pub fn new(now: i64, consistent_snapshot: bool) -> Self {
        let lifetimes = Lifetimes::default();
        let root = Root {
            type_: "root".into(),
            spec_version: SPEC_VERSION.into(),
            version: 1,
            expires: time::format_utc(now + lifetimes.root),
            consistent_snapshot: Some(consistent_snapshot),
            keys: BTreeMap::new(),
            roles: TOP_LEVEL_ROLES
                .iter()
                .map(|r| (r.to_string(), role_keys()))
                .collect(),
            unknown_fields: BTreeMap::new(),
        };
        let snapshot = Snapshot {
            type_: "snapshot".into(),
            spec_version: SPEC_VERSION.into(),
            version: 1,
            expires: time::format_utc(now + lifetimes.snapshot),
            meta: BTreeMap::new(),
            unknown_fields: BTreeMap::new(),
        };
        let timestamp = Timestamp {
            type_: "timestamp".into(),
            spec_version: SPEC_VERSION.into(),
            version: 1,
            expires: time::format_utc(now + lifetimes.timestamp),
            meta: [("snapshot.json".to_string(), MetaFile::new(1))].into(),
            unknown_fields: BTreeMap::new(),
        };
        let mut targets = BTreeMap::new();
        targets.insert(
            "targets".to_string(),
            Targets::new(1, now + lifetimes.targets),
        );
        Repository {
            root,
            timestamp,
            snapshot,
            targets,
            lifetimes,
            pin_hashes: true,
            signers: BTreeMap::new(),
            retired_root_signers: Vec::new(),
            pending_files: BTreeMap::new(),
            target_content: BTreeMap::new(),
            root_history: Vec::new(),
            published: BTreeMap::new(),
            dirty: TOP_LEVEL_ROLES.iter().map(|s| s.to_string()).collect(),
            now,
        }
    }

    /// Opens a repository previously written by [`Repository::publish`]
    /// (or any TUF repository with the same layout) under `dir` for
    /// editing. Every root version is read from `metadata/N.root.json`;
    /// timestamp, snapshot and every targets role listed in snapshot are
    /// read and parsed (not re-verified: this is the repository's own
    /// output). Target contents are not loaded: targets already published
    /// stay where they are. Signers must be added with
    /// [`Repository::add_signer`] before the next publish.
    pub fn load(dir: &Path, now: i64) -> Result<Self, RepoError> {
        let meta_dir = dir.join("metadata");
        let read = |name: &str| -> Result<Vec<u8>, RepoError> {
            let p = meta_dir.join(name);
            std::fs::read(&p).map_err(|source| RepoError::Store(StoreError { path: p, source }))
        };
        let mut root_history = Vec::new();
        loop {
            let p = meta_dir.join(format!("{}.root.json", root_history.len() + 1));
            match store::read_optional(&p)? {
                Some(b) => root_history.push(b),
                None => break,
            }
        }
        let root_bytes = match root_history.last() {
            Some(b) => b.clone(),
            None => read("root.json")?,
        };
        let root = Metadata::<Root>::from_bytes("root", &root_bytes)?.signed;
        if root_history.is_empty() {
            root_history.push(root_bytes);
        }
        let consistent = root.consistent_snapshot();
        let ts_bytes = read("timestamp.json")?;
        let timestamp = Metadata::<Timestamp>::from_bytes("timestamp", &ts_bytes)?.signed;
        let snap_name =
            store::metadata_file_name("snapshot", timestamp.snapshot_meta().version, consistent);
        let snap_bytes = read(&snap_name)?;
        let snapshot = Metadata::<Snapshot>::from_bytes("snapshot", &snap_bytes)?.signed;
        let mut published = BTreeMap::new();
        let mut targets = BTreeMap::new();
        for (file, meta) in &snapshot.meta {
            let role = file.strip_suffix(".json").unwrap_or(file);
            let bytes = read(&store::metadata_file_name(role, meta.version, consistent))?;
            targets.insert(
                role.to_string(),
                Metadata::<Targets>::from_bytes(role, &bytes)?.signed,
            );
            published.insert(role.to_string(), bytes);
        }
        published.insert("snapshot".into(), snap_bytes);
        published.insert("timestamp".into(), ts_bytes);
        Ok(Repository {
            root,
            timestamp,
            snapshot,
            targets,
            lifetimes: Lifetimes::default(),
            pin_hashes: true,
            signers: BTreeMap::new(),
            retired_root_signers: Vec::new(),
            pending_files: BTreeMap::new(),
            target_content: BTreeMap::new(),
            root_history,
            published,
            dirty: BTreeSet::new(),
            now,
        })
    }

    /// Sets the signing time used by the next [`Repository::publish`].
    pub fn set_time(&mut self, now: i64) {
        self.now = now;
    }

    /// Marks a role as changed, so the next publish re-signs it with a new
    /// version (and, for root, a new expiry).
    pub fn touch(&mut self, role: &str) {
        self.dirty.insert(role.to_string());
    }

    /// Registers a signer for a role without changing any metadata (e.g. a
    /// key already listed, loaded from a key file).
    pub fn add_signer(&mut self, role: &str, signer: Arc<dyn Signer>) {
        let list = self.signers.entry(role.to_string()).or_default();
        list.retain(|s| s.keyid() != signer.keyid());
        list.push(signer);
    }

    /// Adds a key to a top-level role in root, and its signer if given.
    pub fn add_key(&mut self, role: &str, signer: Arc<dyn Signer>) -> Result<(), RepoError> {
        let rk = self
            .root
            .roles
            .get_mut(role)
            .ok_or_else(|| RepoError::Usage(format!("{role} is not a top-level role")))?;
        let keyid = signer.keyid().to_string();
        if !rk.keyids.contains(&keyid) {
            rk.keyids.push(keyid.clone());
        }
        self.root.keys.insert(keyid, signer.public_key().clone());
        self.add_signer(role, signer);
        self.dirty.insert("root".into());
        Ok(())
    }

    /// Removes a key from a top-level role (revocation or rotation). The
    /// key leaves root's key list once no role uses it.
    pub fn remove_key(&mut self, role: &str, keyid: &str) -> Result<(), RepoError> {
        let rk = self
            .root
            .roles
            .get_mut(role)
            .ok_or_else(|| RepoError::Usage(format!("{role} is not a top-level role")))?;
        let before = rk.keyids.len();
        rk.keyids.retain(|k| k != keyid);
        if rk.keyids.len() == before {
            return Err(RepoError::Usage(format!("{role} has no key {keyid}")));
        }
        if !self
            .root
            .roles
            .values()
            .any(|r| r.keyids.iter().any(|k| k == keyid))
        {
            self.root.keys.remove(keyid);
        }
        if let Some(list) = self.signers.get_mut(role) {
            if role == "root" {
                let (gone, kept) = list.drain(..).partition(|s| s.keyid() == keyid);
                *list = kept;
                let gone: Vec<Arc<dyn Signer>> = gone;
                self.retired_root_signers.extend(gone);
            } else {
                list.retain(|s| s.keyid() != keyid);
            }
        }
        self.dirty.insert("root".into());
        Ok(())
    }

    /// Sets a top-level role's threshold.
    pub fn set_threshold(&mut self, role: &str, threshold: u64) -> Result<(), RepoError> {
        if threshold == 0 {
            return Err(RepoError::Usage("threshold must be at least 1".into()));
        }
        self.root
            .roles
            .get_mut(role)
            .ok_or_else(|| RepoError::Usage(format!("{role} is not a top-level role")))?
            .threshold = threshold;
        self.dirty.insert("root".into());
        Ok(())
    }

    fn targets_mut(&mut self, role: &str) -> Result<&mut Targets, RepoError> {
        self.dirty.insert(role.to_string());
        self.targets
            .get_mut(role)
            .ok_or_else(|| RepoError::Usage(format!("no targets role {role}")))
    }

    /// Adds (or replaces) a target in `role`, hashing `content` with
    /// sha256 (and sha512 if `both_hashes`). The content is published
    /// under `targets/`.
    pub fn add_target(
        &mut self,
        role: &str,
        path: &str,
        content: &[u8],
        custom: Option<Value>,
    ) -> Result<TargetFile, RepoError> {
        let info = TargetFile {
            length: content.len() as u64,
            hashes: [("sha256".to_string(), crypto::sha256_hex(content))].into(),
            custom,
            unknown_fields: BTreeMap::new(),
        };
        self.targets_mut(role)?
            .targets
            .insert(path.to_string(), info.clone());
        self.target_content
            .insert(path.to_string(), content.to_vec());
        Ok(info)
    }

    /// Adds a target with an explicit description (content hosted elsewhere).
    pub fn add_target_info(
        &mut self,
        role: &str,
        path: &str,
        info: TargetFile,
    ) -> Result<(), RepoError> {
        self.targets_mut(role)?
            .targets
            .insert(path.to_string(), info);
        Ok(())
    }

    /// Removes a target from `role`.
    pub fn remove_target(&mut self, role: &str, path: &str) -> Result<(), RepoError> {
        self.targets_mut(role)?.targets.remove(path);
        self.target_content.remove(path);
        Ok(())
    }

    /// The role responsible for `path`, following delegations as a client
    /// would (first match in pre-order, the deepest delegated role).
    pub fn responsible_role(&self, path: &str) -> String {
        let mut role = "targets".to_string();
        loop {
            let Some(d) = self.targets.get(&role).and_then(|t| t.delegations.as_ref()) else {
                return role;
            };
            match d
                .roles_for_target(path)
                .into_iter()
                .find(|(name, _)| self.targets.contains_key(name))
            {
                Some((child, _)) => role = child,
                None => return role,
            }
        }
    }

    /// Delegates from `delegator` to a new role, with its signers' keys.
    pub fn delegate(
        &mut self,
        delegator: &str,
        role: DelegatedRole,
        signers: Vec<Arc<dyn Signer>>,
    ) -> Result<(), RepoError> {
        check_role_name(&role.name)?;
        if self.targets.contains_key(&role.name) || TOP_LEVEL_ROLES.contains(&role.name.as_str()) {
            return Err(RepoError::Usage(format!(
                "role {} already exists",
                role.name
            )));
        }
        let name = role.name.clone();
        let expires = self.now + self.lifetimes.targets;
        let parent = self.targets_mut(delegator)?;
        let d = parent
            .delegations
            .get_or_insert_with(Delegations::with_no_roles);
        let roles = d.roles.as_mut().ok_or_else(|| {
            RepoError::Usage(format!("{delegator} already uses succinct delegation"))
        })?;
        roles.push(role);
        for s in &signers {
            d.keys.insert(s.keyid().to_string(), s.public_key().clone());
        }
        self.targets.insert(name.clone(), Targets::new(1, expires));
        self.dirty.insert(name.clone());
        for s in signers {
            self.add_signer(&name, s);
        }
        Ok(())
    }

    /// Delegates all of `delegator`'s targets to 2^`bit_length` succinct
    /// hashed bins (TAP 15) named `NAME_PREFIX-HEX`, each signed by
    /// `signers` (threshold `threshold`). Creates every bin, empty.
    pub fn delegate_succinct(
        &mut self,
        delegator: &str,
        bit_length: u32,
        name_prefix: &str,
        threshold: u64,
        signers: Vec<Arc<dyn Signer>>,
    ) -> Result<(), RepoError> {
        if !(1..=32).contains(&bit_length) {
            return Err(RepoError::Usage("bit_length must be 1 to 32".into()));
        }
        check_role_name(name_prefix)?;
        let succinct = SuccinctRoles {
            keyids: signers.iter().map(|s| s.keyid().to_string()).collect(),
            threshold,
            bit_length,
            name_prefix: name_prefix.to_string(),
            unknown_fields: BTreeMap::new(),
        };
        let names: Vec<String> = succinct.bin_names().collect();
        let expires = self.now + self.lifetimes.targets;
        let parent = self.targets_mut(delegator)?;
        if parent.delegations.is_some() {
            return Err(RepoError::Usage(format!("{delegator} already delegates")));
        }
        parent.delegations = Some(Delegations {
            keys: signers
                .iter()
                .map(|s| (s.keyid().to_string(), s.public_key().clone()))
                .collect(),
            roles: None,
            succinct_roles: Some(succinct),
            unknown_fields: BTreeMap::new(),
        });
        for name in names {
            self.targets.insert(name.clone(), Targets::new(1, expires));
            self.dirty.insert(name.clone());
            for s in &signers {
                self.add_signer(&name, s.clone());
            }
        }
        Ok(())
    }

    /// Delegates `delegator`'s targets to `2^(4*prefix_len)` classic hashed
    /// bins using `path_hash_prefixes` (one hex prefix of `prefix_len` digits
    /// each), named `NAME_PREFIX-PREFIX`.
    pub fn delegate_hashed_bins(
        &mut self,
        delegator: &str,
        prefix_len: u32,
        name_prefix: &str,
        signers: Vec<Arc<dyn Signer>>,
    ) -> Result<(), RepoError> {
        if !(1..=4).contains(&prefix_len) {
            return Err(RepoError::Usage(
                "prefix length must be 1 to 4 hex digits".into(),
            ));
        }
        let count = 1u32 << (4 * prefix_len);
        for bin in 0..count {
            let prefix = format!("{bin:0width$x}", width = prefix_len as usize);
            let role = DelegatedRole {
                name: format!("{name_prefix}-{prefix}"),
                keyids: signers.iter().map(|s| s.keyid().to_string()).collect(),
                threshold: 1,
                terminating: true,
                paths: None,
                path_hash_prefixes: Some(vec![prefix]),
                unknown_fields: BTreeMap::new(),
            };
            self.delegate(delegator, role, signers.clone())?;
        }
        Ok(())
    }

    fn sign<T: Role>(&self, role: &str, signed: T) -> Result<Metadata<T>, RepoError> {
        let mut md = Metadata::new(signed)?;
        let signers = self.signers.get(role).map(Vec::as_slice).unwrap_or(&[]);
        if signers.is_empty() {
            return Err(RepoError::Usage(format!("no signer available for {role}")));
        }
        for s in signers {
            md.sign(s.as_ref()).map_err(|source| RepoError::Sign {
                role: role.to_string(),
                source,
            })?;
        }
        Ok(md)
    }

    fn meta_for(&self, bytes: &[u8], version: u64) -> MetaFile {
        let mut m = MetaFile::new(version);
        if self.pin_hashes {
            m.length = Some(bytes.len() as u64);
            m.hashes = Some([("sha256".to_string(), crypto::sha256_hex(bytes))].into());
        }
        m
    }

    /// Signs what changed and returns the new files (name to bytes) of the
    /// metadata directory, without writing them. Root signatures come from
    /// the signers of the previous root's `root` role and the new one's.
    pub fn sign_changes(&mut self) -> Result<BTreeMap<String, Vec<u8>>, RepoError> {
        let mut out = std::mem::take(&mut self.pending_files);
        let consistent = self.root.consistent_snapshot();
        let first_publish = self.root_history.is_empty();

        if self.dirty.remove("root") || first_publish {
            if !first_publish {
                self.root.version += 1;
            }
            self.root.expires = time::format_utc(self.now + self.lifetimes.root);
            let mut md = self.sign("root", self.root.clone())?;
            for s in &self.retired_root_signers {
                md.sign(s.as_ref()).map_err(|source| RepoError::Sign {
                    role: "root".into(),
                    source,
                })?;
            }
            self.check_root_signatures(&md)?;
            self.retired_root_signers.clear();
            let bytes = md.to_bytes();
            out.insert(format!("{}.root.json", self.root.version), bytes.clone());
            out.insert("root.json".into(), bytes.clone());
            self.root_history.push(bytes);
        }

        let dirty_targets: Vec<String> = self
            .targets
            .keys()
            .filter(|r| self.dirty.contains(*r) || !self.published.contains_key(*r))
            .cloned()
            .collect();
        for role in &dirty_targets {
            let expires = time::format_utc(self.now + self.lifetimes.targets);
            let published = self.published.contains_key(role);
            let t = self.targets.get_mut(role).expect("listed above");
            if published {
                t.version += 1;
            }
            t.expires = expires;
            let t = t.clone();
            let md = self.sign(role, t)?;
            let bytes = md.to_bytes();
            let meta = self.meta_for(&bytes, md.signed.version);
            self.snapshot.meta.insert(format!("{role}.json"), meta);
            let name = store::metadata_file_name(role, md.signed.version, consistent);
            out.insert(name, bytes.clone());
            self.published.insert(role.clone(), bytes);
            self.dirty.remove(role);
        }

        let snapshot_touched = self.dirty.remove("snapshot");
        if !dirty_targets.is_empty() || snapshot_touched || !self.published.contains_key("snapshot")
        {
            if self.published.contains_key("snapshot") {
                self.snapshot.version += 1;
            }
            self.snapshot.expires = time::format_utc(self.now + self.lifetimes.snapshot);
            let md = self.sign("snapshot", self.snapshot.clone())?;
            let bytes = md.to_bytes();
            let meta = self.meta_for(&bytes, md.signed.version);
            self.timestamp.meta.insert("snapshot.json".into(), meta);
            let name = store::metadata_file_name("snapshot", md.signed.version, consistent);
            out.insert(name, bytes.clone());
            self.published.insert("snapshot".into(), bytes);
        }

        if self.published.contains_key("timestamp") {
            self.timestamp.version += 1;
        }
        self.timestamp.expires = time::format_utc(self.now + self.lifetimes.timestamp);
        self.dirty.remove("timestamp");
        let md = self.sign("timestamp", self.timestamp.clone())?;
        let bytes = md.to_bytes();
        out.insert("timestamp.json".into(), bytes.clone());
        self.published.insert("timestamp".into(), bytes);
        Ok(out)
    }

    fn check_root_signatures(&self, md: &Metadata<Root>) -> Result<(), RepoError> {
        let new = &md.signed;
        let nk = &new.roles["root"];
        verify_role("root", md, &new.keys, &nk.keyids, nk.threshold, || {
            format!("root version {}", new.version)
        })?;
        if let Some(prev) = self.root_history.last() {
            let prev = Metadata::<Root>::from_bytes("root", prev)?;
            let pk = &prev.signed.roles["root"];
            verify_role(
                "root",
                md,
                &prev.signed.keys,
                &pk.keyids,
                pk.threshold,
                || format!("root version {}", prev.signed.version),
            )?;
        }
        Ok(())
    }

    /// Accepts root metadata signed elsewhere (a key ceremony): it must be
    /// the next version (or version 1 of a new repository) and meet the
    /// thresholds of the previous root and of itself.
    pub fn install_root(&mut self, bytes: &[u8]) -> Result<(), RepoError> {
        let md = Metadata::<Root>::from_bytes("root", bytes)?;
        let expected = self.root_history.len() as u64 + 1;
        if md.signed.version != expected {
            return Err(RepoError::Usage(format!(
                "root version {} is not the next version {expected}",
                md.signed.version
            )));
        }
        self.check_root_signatures(&md)?;
        self.root = md.signed;
        self.root_history.push(bytes.to_vec());
        self.dirty.remove("root");
        Ok(())
    }

    /// Accepts top-level targets metadata signed elsewhere (offline keys):
    /// it must meet root's targets threshold and be newer than the current
    /// targets. The next publish writes it as is and pins it in snapshot.
    pub fn install_targets(&mut self, bytes: &[u8]) -> Result<(), RepoError> {
        let md = Metadata::<Targets>::from_bytes("targets", bytes)?;
        let rk = &self.root.roles["targets"];
        verify_role(
            "targets",
            &md,
            &self.root.keys,
            &rk.keyids,
            rk.threshold,
            || format!("root version {}", self.root.version),
        )?;
        if self.published.contains_key("targets") {
            let current = self.targets.get("targets").map_or(0, |t| t.version);
            if md.signed.version <= current {
                return Err(RepoError::Usage(format!(
                    "targets version {} is not newer than published version {current}",
                    md.signed.version
                )));
            }
        }
        let version = md.signed.version;
        // Roles newly delegated here start empty until their own signers publish them.
        let name = store::metadata_file_name("targets", version, self.root.consistent_snapshot());
        let meta = self.meta_for(bytes, version);
        self.snapshot.meta.insert("targets.json".into(), meta);
        self.targets.insert("targets".into(), md.signed);
        self.published.insert("targets".into(), bytes.to_vec());
        self.pending_files.insert(name, bytes.to_vec());
        self.dirty.remove("targets");
        self.dirty.insert("snapshot".into());
        Ok(())
    }

    /// Signs what changed and writes the repository under `dir`
    /// (`dir/metadata/` and `dir/targets/`). Existing files are kept, so
    /// older consistent-snapshot versions stay available to clients.
    pub fn publish(&mut self, dir: &Path) -> Result<(), RepoError> {
        let files = self.sign_changes()?;
        let meta_dir = dir.join("metadata");
        let targets_dir = dir.join("targets");
        mkdir(&meta_dir)?;
        mkdir(&targets_dir)?;
        // Root history first (bootstrap files may come from `install_root`).
        // Files already holding the same bytes are left alone (a publish
        // that changes no root writes no root file).
        let write_if_changed = |path: &Path, bytes: &[u8]| -> Result<(), RepoError> {
            if store::read_optional(path)?.as_deref() != Some(bytes) {
                store::write_atomic(path, bytes)?;
            }
            Ok(())
        };
        for (i, bytes) in self.root_history.iter().enumerate() {
            write_if_changed(&meta_dir.join(format!("{}.root.json", i + 1)), bytes)?;
        }
        if let Some(last) = self.root_history.last() {
            write_if_changed(&meta_dir.join("root.json"), last)?;
        }
        // Targets before metadata, metadata before timestamp: a client that
        // reads mid-publish sees the old timestamp, or a complete new one.
        let consistent = self.root.consistent_snapshot();
        for (path, content) in &self.target_content {
            // Targets list only a sha256 hash (see `add_target`).
            let rel = if consistent {
                store::hash_prefixed_target_path(path, &crypto::sha256_hex(content))
            } else {
                path.clone()
            };
            let p = targets_dir.join(rel);
            if let Some(parent) = p.parent() {
                mkdir(parent)?;
            }
            store::write_atomic(&p, content)?;
        }
        let mut timestamp = None;
        for (name, bytes) in files {
            if name == "timestamp.json" {
                timestamp = Some(bytes);
            } else if !name.ends_with(".root.json") && name != "root.json" {
                store::write_atomic(&meta_dir.join(&name), &bytes)?;
            }
        }
        if let Some(ts) = timestamp {
            store::write_atomic(&meta_dir.join("timestamp.json"), &ts)?;
        }
        Ok(())
    }

    /// The bytes of the newest published root.
    pub fn root_bytes(&self) -> Option<&[u8]> {
        self.root_history.last().map(Vec::as_slice)
    }

    /// The bytes last published for a role (not root).
    pub fn published_bytes(&self, role: &str) -> Option<&[u8]> {
        self.published.get(role).map(Vec::as_slice)
    }
}

fn mkdir(p: &Path) -> Result<(), StoreError> {
    std::fs::create_dir_all(p).map_err(|source| StoreError {
        path: p.to_path_buf(),
        source,
    })
}

/// Writes the unsigned metadata `signed` as a staged file's bytes, ready for
/// key holders to sign one by one.
pub fn stage<T: Role>(signed: T) -> Result<Vec<u8>, RepoError> {
    Ok(Metadata::new(signed)?.to_bytes())
}

/// Adds `signer`'s signature to a staged metadata file, keeping the `signed`
/// object exactly as it is (whatever fields it holds) and every other
/// signature. A holder's earlier signature is replaced.
pub fn add_signature<T: Role>(
    role: &str,
    staged: &[u8],
    signer: &dyn Signer,
) -> Result<Vec<u8>, RepoError> {
    let md = Metadata::<T>::from_bytes(role, staged)?;
    let sig = signer
        .sign(md.canonical_signed())
        .map_err(|source| RepoError::Sign {
            role: role.to_string(),
            source,
        })?;
    let mut envelope: Value =
        serde_json::from_slice(staged).map_err(|source| MetadataError::Json {
            role: role.to_string(),
            source,
        })?;
    let mut sigs: Vec<Signature> = md
        .signatures
        .into_iter()
        .filter(|s| s.keyid != signer.keyid())
        .collect();
    sigs.push(Signature {
        keyid: signer.keyid().to_string(),
        sig: hex::encode(sig),
        unknown_fields: BTreeMap::new(),
    });
    envelope["signatures"] = serde_json::to_value(sigs).expect("signatures serialize");
    let mut out = serde_json::to_vec_pretty(&envelope).expect("JSON value serializes");
    out.push(b'\n');
    Ok(out)
}

/// Who has signed a staged file for a role defined by `keys`/`keyids`/`threshold`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThresholdStatus {
    /// Signature report.
    pub report: SignatureReport,
    /// Threshold.
    pub threshold: u64,
}

impl ThresholdStatus {
    /// Whether enough valid signatures are present.
    pub fn met(&self) -> bool {
        self.report.valid.len() as u64 >= self.threshold
    }
}

/// Reports the signatures on staged metadata against a role definition.
pub fn signature_status<T: Role>(
    md: &Metadata<T>,
    keys: &BTreeMap<String, Key>,
    role: &RoleKeys,
) -> ThresholdStatus {
    ThresholdStatus {
        report: md.signature_report(keys, &role.keyids),
        threshold: role.threshold,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::Ed25519Signer;

    fn signer(n: u8) -> Arc<dyn Signer> {
        Arc::new(Ed25519Signer::from_seed(&[n; 32]))
    }

    #[test]
    fn staged_threshold_signing() {
        let (a, b, c) = (signer(1), signer(2), signer(3));
        let mut repo = Repository::new(1_700_000_000, true);
        for s in [&a, &b, &c] {
            repo.add_key("root", s.clone()).unwrap();
        }
        repo.set_threshold("root", 2).unwrap();
        let staged = stage(repo.root.clone()).unwrap();
        let one = add_signature::<Root>("root", &staged, a.as_ref()).unwrap();
        let md = Metadata::<Root>::from_bytes("root", &one).unwrap();
        let st = signature_status(&md, &repo.root.keys, &repo.root.roles["root"]);
        assert!(!st.met());
        assert_eq!(st.report.missing.len(), 2);
        let two = add_signature::<Root>("root", &one, c.as_ref()).unwrap();
        let md = Metadata::<Root>::from_bytes("root", &two).unwrap();
        let st = signature_status(&md, &repo.root.keys, &repo.root.roles["root"]);
        assert!(st.met());
        // Signing again replaces, not duplicates.
        let again = add_signature::<Root>("root", &two, c.as_ref()).unwrap();
        let md = Metadata::<Root>::from_bytes("root", &again).unwrap();
        assert_eq!(md.signatures.len(), 2);
    }

    #[test]
    fn load_edit_publish_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let key = signer(9);
        let mut repo = Repository::new(1_700_000_000, true);
        for role in TOP_LEVEL_ROLES {
            repo.add_key(role, key.clone()).unwrap();
        }
        repo.add_target("targets", "a/b.txt", b"hello", None)
            .unwrap();
        repo.publish(dir.path()).unwrap();

        let mut again = Repository::load(dir.path(), 1_700_000_100).unwrap();
        assert_eq!(again.targets["targets"].targets.len(), 1);
        for role in TOP_LEVEL_ROLES {
            again.add_signer(role, key.clone());
        }
        again.add_target("targets", "c.txt", b"bye", None).unwrap();
        again.publish(dir.path()).unwrap();
        let meta = dir.path().join("metadata");
        assert!(meta.join("2.targets.json").exists());
        assert!(meta.join("2.snapshot.json").exists());
        assert!(!meta.join("2.root.json").exists());
        let reloaded = Repository::load(dir.path(), 1_700_000_200).unwrap();
        assert_eq!(reloaded.targets["targets"].targets.len(), 2);
        assert_eq!(reloaded.timestamp.version, 2);
    }
}
