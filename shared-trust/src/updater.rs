//! The TUF client updater: owns all I/O around the [`TrustedMetadataSet`].
//!
//! An [`Updater`] serves one repository: a directory of trusted metadata
//! (`root.json`, `timestamp.json`, `snapshot.json`, `targets.json`, and one
//! file per delegated role, its name percent-encoded), a metadata base URL
//! and a [`Fetcher`]. [`Updater::refresh`] runs the TUF 1.0 detailed client
//! workflow once:
//!
//! 1. load `root.json` from the directory (re-verified: it must be signed by
//!    its own threshold), then fetch `N.root.json` for N = current + 1, ...
//!    until the server has no next version (at most
//!    [`Config::max_root_rotations`]), persisting each new root; the final
//!    root must not be expired. If the timestamp or snapshot keys changed,
//!    the local timestamp and snapshot are deleted (fast-forward recovery).
//! 2. load the local timestamp if it still verifies (for rollback checks),
//!    fetch `timestamp.json`, verify and persist it. An equal version keeps
//!    the local timestamp, snapshot and targets.
//! 3. use the local snapshot if it verifies and is the version the timestamp
//!    pins; else fetch (`V.snapshot.json` with consistent snapshots), verify,
//!    persist.
//! 4. likewise for `targets.json`.
//!
//! [`Updater::refresh_with_trusted_root`] runs steps 2 to 4 with the
//! trusted root as it is: no request for `N+1.root.json`. Whatever a
//! mirror does, the next-root probe adds no protection (a mirror that
//! withholds a new root just answers 404); it is how an honest mirror
//! delivers a rotation promptly. A caller that skips it must still pick up
//! rotations within a bound it documents, and must fall back to
//! [`Updater::refresh`] when the shortcut fails (new timestamp keys make
//! the timestamp fail against the old root).
//!
//! Delegated targets are loaded lazily by [`Updater::get_targetinfo`]: a
//! pre-order depth-first search from `targets`, honouring `terminating`,
//! with a visited set and at most [`Config::max_delegations`] roles.
//!
//! Every file written is written only after it verified, atomically. The
//! state directory is locked for the updater's lifetime.

use crate::fetcher::{FetchError, Fetcher};
use crate::metadata::{Root, TargetFile};
use crate::store::{self, StoreError, StoreLock};
use crate::trusted::{self, TrustError, TrustedMetadataSet};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Limits and switches of the updater.
#[derive(Clone, Debug)]
pub struct Config {
    /// Most root versions fetched in one refresh.
    pub max_root_rotations: u64,
    /// Most targets roles visited in one delegation search.
    pub max_delegations: usize,
    /// Byte limit for a root file.
    pub root_max_length: u64,
    /// Byte limit for timestamp.json.
    pub timestamp_max_length: u64,
    /// Byte limit for snapshot.json when timestamp pins no length.
    pub snapshot_max_length: u64,
    /// Byte limit for a targets file when snapshot pins no length.
    pub targets_max_length: u64,
    /// With consistent snapshots, fetch targets as `HASH.basename`.
    pub prefix_targets_with_hash: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_root_rotations: 256,
            max_delegations: 32,
            root_max_length: 512_000,
            timestamp_max_length: 16_384,
            snapshot_max_length: 2_000_000,
            targets_max_length: 5_000_000,
            prefix_targets_with_hash: true,
        }
    }
}

/// Why an update failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Fetching failed: the mirror is down, stalls, or sends too much.
    #[error("fetching {what} failed: {source}")]
    Transport {
        /// What was being fetched.
        what: String,
        /// Cause.
        #[source]
        source: FetchError,
    },
    /// The repository's data did not verify.
    #[error(transparent)]
    Verification(TrustError),
    /// Reading or writing trusted state failed.
    #[error("trusted state: {0}")]
    Storage(#[from] StoreError),
    /// No trusted root to start from.
    #[error("no trusted root at {path}: initialize the metadata directory with a root first")]
    NoTrustedRoot {
        /// Where root.json was expected.
        path: PathBuf,
    },
    /// Caller misuse (e.g. download without a target base URL).
    #[error("misuse: {0}")]
    Misuse(String),
    /// Offline, and the trusted state holds no verified copy of a role.
    #[error("offline: the trusted state at {path} holds no verified {role}; run once online")]
    NotCached {
        /// The role missing.
        role: String,
        /// The trusted-state directory.
        path: PathBuf,
    },
}

impl From<TrustError> for Error {
    /// Bad data is a verification failure; calling the state machine out
    /// of order is the caller's misuse.
    fn from(e: TrustError) -> Self {
        if e.is_misuse() {
            Error::Misuse(e.to_string())
        } else {
            Error::Verification(e)
        }
    }
}

/// The TUF client for one repository.
pub struct Updater<F: Fetcher> {
    dir: PathBuf,
    metadata_url: String,
    fetcher: F,
    config: Config,
    trusted: TrustedMetadataSet,
    refreshed: bool,
    _lock: StoreLock,
}

impl<F: Fetcher> std::fmt::Debug for Updater<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Updater")
            .field("metadata_dir", &self.dir)
            .field("metadata_url", &self.metadata_url)
            .field("root_version", &self.trusted.root().version)
            .field("refreshed", &self.refreshed)
            .finish_non_exhaustive()
    }
}

fn with_slash(url: &str) -> String {
    if url.ends_with('/') {
        url.to_string()
    } else {
        format!("{url}/")
    }
}

impl<F: Fetcher> Updater<F> {
    /// Opens the trusted state in `metadata_dir` (which must hold `root.json`),
    /// locks it, and re-verifies the root. `now` is the update's reference
    /// time in Unix seconds.
    pub fn new(
        metadata_dir: &Path,
        metadata_url: &str,
        fetcher: F,
        config: Config,
        now: i64,
    ) -> Result<Self, Error> {
        let lock = StoreLock::acquire(metadata_dir)?;
        let trusted = TrustedMetadataSet::new(&trusted_root(metadata_dir)?, now)?;
        Ok(Updater {
            dir: metadata_dir.to_path_buf(),
            metadata_url: with_slash(metadata_url),
            fetcher,
            config,
            trusted,
            refreshed: false,
            _lock: lock,
        })
    }

    /// Writes `root_bytes` as the trusted root of a new metadata directory,
    /// after checking it is root metadata signed by its own threshold.
    pub fn bootstrap(metadata_dir: &Path, root_bytes: &[u8], now: i64) -> Result<(), Error> {
        bootstrap(metadata_dir, root_bytes, now)
    }

    /// The verified metadata so far.
    pub fn trusted(&self) -> &TrustedMetadataSet {
        &self.trusted
    }

    fn fetch(&self, what: &str, name: &str, limit: u64) -> Result<Vec<u8>, Error> {
        let url = format!("{}{}", self.metadata_url, name);
        self.fetcher
            .fetch(&url, limit)
            .map_err(|source| Error::Transport {
                what: what.to_string(),
                source,
            })
    }

    fn persist(&self, role: &str, bytes: &[u8]) -> Result<(), Error> {
        let name = format!("{}.json", store::encode_role_name(role));
        // Top-level roles are the rollback reference and are synced;
        // delegated roles are re-verified on load and only cost a download
        // if a crash loses them.
        let sync = crate::metadata::TOP_LEVEL_ROLES.contains(&role);
        store::write_atomic_with(&self.dir.join(name), bytes, sync)?;
        Ok(())
    }

    fn local(&self, role: &str) -> Result<Option<Vec<u8>>, Error> {
        let name = format!("{}.json", store::encode_role_name(role));
        Ok(store::read_optional(&self.dir.join(name))?)
    }

    /// Runs the top-level update: root, timestamp, snapshot, targets.
    pub fn refresh(&mut self) -> Result<(), Error> {
        self.run_refresh(true)
    }

    /// [`Updater::refresh`] without asking the repository for a newer
    /// root: the trusted root on disk (re-verified when the updater was
    /// opened) must be unexpired, then the timestamp is fetched and the
    /// snapshot and targets follow as in a full refresh. For callers that
    /// bound how long they go without the root probe (see the module
    /// docs); on any error, fall back to a full refresh.
    pub fn refresh_with_trusted_root(&mut self) -> Result<(), Error> {
        self.run_refresh(false)
    }

    fn run_refresh(&mut self, probe_root: bool) -> Result<(), Error> {
        if self.refreshed {
            return Ok(());
        }
        if self.trusted.timestamp().is_some() {
            // A previous refresh failed part-way: start again from the
            // trusted root on disk (re-verified), as a new updater would.
            let root = trusted_root(&self.dir)?;
            self.trusted = TrustedMetadataSet::new(&root, self.trusted.reference_time())?;
        }
        if probe_root {
            self.load_root()?;
        } else {
            self.trusted.check_root_unexpired()?;
        }
        self.load_timestamp()?;
        self.load_snapshot()?;
        self.load_targets("targets", "root")?;
        self.refreshed = true;
        Ok(())
    }

    /// The offline counterpart of [`Updater::refresh`]: verifies the
    /// timestamp, snapshot and targets already in the trusted state against
    /// the trusted root and the reference time, fetching nothing. Expired
    /// metadata fails as it would online. Delegated roles loaded afterwards
    /// come from the trusted state too if they still verify (the fetcher is
    /// only asked for what is missing; give an offline fetcher to forbid it).
    pub fn refresh_offline(&mut self) -> Result<(), Error> {
        if self.refreshed {
            return Ok(());
        }
        self.trusted.check_root_unexpired()?;
        let missing = |role: &str| Error::NotCached {
            role: role.to_string(),
            path: self.dir.clone(),
        };
        let ts = self
            .local("timestamp")?
            .ok_or_else(|| missing("timestamp"))?;
        self.trusted.update_timestamp(&ts)?;
        let snap = self.local("snapshot")?.ok_or_else(|| missing("snapshot"))?;
        self.trusted.update_snapshot(&snap, true)?;
        if self.local("targets")?.is_none() {
            return Err(missing("targets"));
        }
        self.load_targets("targets", "root")?;
        self.refreshed = true;
        Ok(())
    }

    fn load_root(&mut self) -> Result<(), Error> {
        let start: Root = (**self.trusted.root()).clone();
        let first = start.version + 1;
        let last = start.version.saturating_add(self.config.max_root_rotations);
        for version in first..=last {
            let name = format!("{version}.root.json");
            let bytes = match self.fetch(
                &format!("root version {version}"),
                &name,
                self.config.root_max_length,
            ) {
                Ok(b) => b,
                Err(Error::Transport {
                    source: FetchError::NotFound { .. },
                    ..
                }) => break,
                Err(e) => return Err(e),
            };
            self.trusted.update_root(&bytes)?;
            self.persist("root", &bytes)?;
        }
        self.trusted.check_root_unexpired()?;
        let end = self.trusted.root();
        if start.roles.get("timestamp") != end.roles.get("timestamp")
            || start.roles.get("snapshot") != end.roles.get("snapshot")
            || key_material_changed(&start, end, "timestamp")
            || key_material_changed(&start, end, "snapshot")
        {
            // Fast-forward recovery (spec 5.3.11).
            store::remove_optional(&self.dir.join("timestamp.json"))?;
            store::remove_optional(&self.dir.join("snapshot.json"))?;
        }
        Ok(())
    }

    fn load_timestamp(&mut self) -> Result<(), Error> {
        if let Some(local) = self.local("timestamp")? {
            // A local copy that no longer verifies is simply not used.
            let _ = self.trusted.update_timestamp(&local);
        }
        let bytes = self.fetch(
            "timestamp",
            "timestamp.json",
            self.config.timestamp_max_length,
        )?;
        match self.trusted.update_timestamp(&bytes) {
            Ok(_) => {}
            Err(TrustError::EqualVersion { .. }) => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        self.persist("timestamp", &bytes)
    }

    fn load_snapshot(&mut self) -> Result<(), Error> {
        if let Some(local) = self.local("snapshot")? {
            if self.trusted.update_snapshot(&local, true).is_ok() {
                return Ok(());
            }
        }
        let ts = self
            .trusted
            .timestamp()
            .ok_or_else(|| Error::Misuse("snapshot before timestamp".into()))?;
        let pin = ts.snapshot_meta();
        let limit = pin.length.unwrap_or(self.config.snapshot_max_length);
        let name = store::metadata_file_name(
            "snapshot",
            pin.version,
            self.trusted.root().consistent_snapshot(),
        );
        let bytes = self.fetch("snapshot", &name, limit)?;
        self.trusted.update_snapshot(&bytes, false)?;
        self.persist("snapshot", &bytes)
    }

    /// Loads the targets role `role` as delegated by `delegator` (from local
    /// storage if it still verifies, else from the repository), refreshing
    /// first if needed; for walking every role, e.g. all hashed bins.
    pub fn load_role(
        &mut self,
        role: &str,
        delegator: &str,
    ) -> Result<&crate::trusted::Verified<crate::metadata::Targets>, Error> {
        self.refresh()?;
        self.load_targets(role, delegator)?;
        Ok(self.trusted.targets(role).expect("just loaded"))
    }

    fn load_targets(&mut self, role: &str, delegator: &str) -> Result<(), Error> {
        if self.trusted.targets(role).is_some() {
            self.trusted.check_delegation(role, delegator)?;
            return Ok(());
        }
        if let Some(local) = self.local(role)? {
            if self
                .trusted
                .update_delegated_targets(&local, role, delegator, true)
                .is_ok()
            {
                return Ok(());
            }
        }
        let snap = self
            .trusted
            .snapshot()
            .ok_or_else(|| Error::Misuse("targets before snapshot".into()))?;
        let meta =
            snap.meta
                .get(&format!("{role}.json"))
                .ok_or_else(|| TrustError::NotInSnapshot {
                    role: role.to_string(),
                    snapshot_version: snap.version,
                })?;
        let limit = meta.length.unwrap_or(self.config.targets_max_length);
        let name = store::metadata_file_name(
            role,
            meta.version,
            self.trusted.root().consistent_snapshot(),
        );
        let bytes = self.fetch(role, &name, limit)?;
        self.trusted
            .update_delegated_targets(&bytes, role, delegator, false)?;
        self.persist(role, &bytes)
    }

    /// Finds the signed description of `target_path`, refreshing first if
    /// needed and loading delegated roles as the search reaches them.
    /// `Ok(None)` means no role responsible for the path lists it.
    pub fn get_targetinfo(&mut self, target_path: &str) -> Result<Option<TargetFile>, Error> {
        self.refresh()?;
        let mut stack: Vec<(String, String)> = vec![("targets".into(), "root".into())];
        let mut visited: HashSet<String> = HashSet::new();
        while let Some((role, parent)) = stack.pop() {
            if visited.len() >= self.config.max_delegations {
                break;
            }
            if !visited.insert(role.clone()) {
                continue;
            }
            self.load_targets(&role, &parent)?;
            let targets = self.trusted.targets(&role).expect("just loaded");
            if let Some(t) = targets.targets.get(target_path) {
                return Ok(Some(t.clone()));
            }
            if let Some(d) = &targets.delegations {
                let mut children = Vec::new();
                for (child, terminating) in d.roles_for_target(target_path) {
                    children.push((child, role.clone()));
                    if terminating {
                        // Nothing after a terminating match is searched.
                        stack.clear();
                        break;
                    }
                }
                children.reverse();
                stack.extend(children);
            }
        }
        Ok(None)
    }

    /// The URL a target is fetched from: with consistent snapshots (and
    /// [`Config::prefix_targets_with_hash`]) its basename is prefixed with
    /// one of its hashes.
    pub fn target_url(
        &self,
        target_base_url: &str,
        target_path: &str,
        info: &TargetFile,
    ) -> String {
        let base = with_slash(target_base_url);
        let path =
            if self.trusted.root().consistent_snapshot() && self.config.prefix_targets_with_hash {
                let hash = info
                    .hashes
                    .values()
                    .next()
                    .map(String::as_str)
                    .unwrap_or("");
                store::hash_prefixed_target_path(target_path, hash)
            } else {
                target_path.to_string()
            };
        format!("{base}{path}")
    }

    /// Downloads a target into memory and checks its length and hashes.
    pub fn download_target_bytes(
        &self,
        target_path: &str,
        info: &TargetFile,
        target_base_url: &str,
    ) -> Result<Vec<u8>, Error> {
        let url = self.target_url(target_base_url, target_path, info);
        let bytes = self
            .fetcher
            .fetch(&url, info.length)
            .map_err(|source| Error::Transport {
                what: format!("target {target_path}"),
                source,
            })?;
        trusted::check_length_and_hashes(
            target_path,
            "targets metadata",
            &bytes,
            Some(info.length),
            Some(&info.hashes),
        )?;
        Ok(bytes)
    }

    /// Downloads a target, verifies it and writes it atomically to `dest`.
    pub fn download_target(
        &self,
        target_path: &str,
        info: &TargetFile,
        target_base_url: &str,
        dest: &Path,
    ) -> Result<(), Error> {
        let bytes = self.download_target_bytes(target_path, info, target_base_url)?;
        store::write_atomic(dest, &bytes)?;
        Ok(())
    }

    /// Whether `path` already holds a file matching `info`.
    pub fn cached_target_matches(path: &Path, info: &TargetFile) -> bool {
        match std::fs::read(path) {
            Ok(b) => trusted::check_length_and_hashes(
                "cached target",
                "targets metadata",
                &b,
                Some(info.length),
                Some(&info.hashes),
            )
            .is_ok(),
            Err(_) => false,
        }
    }
}

// The bytes of the trusted root in a state directory (not yet verified).
fn trusted_root(dir: &Path) -> Result<Vec<u8>, Error> {
    let path = dir.join("root.json");
    store::read_optional(&path)?.ok_or(Error::NoTrustedRoot { path })
}

/// Writes `root_bytes` as the trusted root of a new metadata directory,
/// after checking it is root metadata signed by its own threshold.
pub fn bootstrap(metadata_dir: &Path, root_bytes: &[u8], now: i64) -> Result<(), Error> {
    std::fs::create_dir_all(metadata_dir).map_err(|source| StoreError {
        path: metadata_dir.to_path_buf(),
        source,
    })?;
    let _lock = StoreLock::acquire(metadata_dir)?;
    TrustedMetadataSet::new(root_bytes, now)?;
    store::write_atomic(&metadata_dir.join("root.json"), root_bytes)?;
    Ok(())
}

fn key_material_changed(start: &Root, end: &Root, role: &str) -> bool {
    let ids = |r: &Root| {
        r.roles
            .get(role)
            .map(|k| {
                k.keyids
                    .iter()
                    .map(|id| (id.clone(), r.keys.get(id).cloned()))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    ids(start) != ids(end)
}

/// The local file name a target is stored under: its path percent-encoded
/// into a single name, as python-tuf does.
pub fn target_file_name(target_path: &str) -> String {
    store::encode_role_name(target_path)
}
