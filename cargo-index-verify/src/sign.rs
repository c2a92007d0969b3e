//! The registry operator's side: sign an index directory into the static
//! metadata tree that sits beside it (see [`crate::binding`] for the layout).
//!
//! - [`init`] creates the crates repository: key files for every role, root
//!   v1, `targets` delegating [`INDEX_ROLE`], every crate file hashed in
//!   canonical form, the whole tree written, the first commitment signed.
//! - [`IndexSigner::open`] reopens it with the online keys only (`index`,
//!   `snapshot`, `timestamp`); [`IndexSigner::publish`] applies changed crate
//!   files (a publish, a yank, an unyank, a removal): `depth + 1` new tree
//!   objects per changed file, a new `index` version, snapshot and timestamp.
//!   [`IndexSigner::rescan`] finds the changes by re-hashing the directory;
//!   [`IndexSigner::changes_for`] hashes only named crates.
//! - [`IndexSigner::renew`] re-signs the timestamp (and the snapshot and
//!   `index` role when they would expire first), for a cron job;
//!   [`IndexSigner::renew_offline_roles`] also re-signs root (its next
//!   version) and `targets` with the offline keys, before they expire.
//!
//! Objects are written before the metadata that names them, and the
//! timestamp last, so a client reading mid-publish sees either the old
//! commitment or a complete new one. The tree is rebuilt on open from the
//! published objects and checked against the signed root.

use crate::binding::{IndexCommitment, COMMITMENT_TARGET, INDEX_ROLE, TREE_DIR};
use shared_trust::crypto::{Ed25519Signer, Signer};
use shared_trust::index::{self, Hash, IndexError, Object, Tree};
use shared_trust::keyfile::{self, KeyFileError};
use shared_trust::metadata::DelegatedRole;
use shared_trust::repository::{Lifetimes, RepoError, Repository};
use shared_trust::store::{self, StoreError, StoreLock};
use shared_trust::time;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Roles whose keys stay online (the signer needs them on every publish).
pub const ONLINE_ROLES: [&str; 3] = [INDEX_ROLE, "snapshot", "timestamp"];
/// Roles whose keys belong offline after [`init`].
pub const OFFLINE_ROLES: [&str; 2] = ["root", "targets"];

/// Why signing failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// Reading or writing a file failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A key file is missing, unreadable or not acceptable.
    #[error("key for role {role}: {source}")]
    Key {
        /// Role.
        role: String,
        /// Cause.
        #[source]
        source: KeyFileError,
    },
    /// A crate file is not valid index content.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// The TUF repository could not be loaded or signed.
    #[error("crates repository: {0}")]
    Repository(#[from] RepoError),
    /// The published state is inconsistent (tree objects missing or not
    /// matching the signed commitment).
    #[error("{path}: {reason}")]
    Corrupt {
        /// File or directory.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The operator asked for something impossible (e.g. init twice).
    #[error("{0}")]
    Usage(String),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> SignError + '_ {
    move |source| {
        SignError::Store(StoreError {
            path: path.to_path_buf(),
            source,
        })
    }
}

/// Options for [`init`] and the lifetimes used by later publishes.
#[derive(Clone, Debug)]
pub struct SignOptions {
    /// Role lifetimes in seconds (`targets` applies to `index` too: its
    /// freshness comes from the timestamp, which pins it through snapshot).
    pub lifetimes: Lifetimes,
    /// Tree depth; `None` picks [`index::depth_for`] the number of files.
    pub depth: Option<u8>,
    /// Threads for hashing (at least 1).
    pub threads: usize,
}

impl Default for SignOptions {
    fn default() -> Self {
        const DAY: i64 = 86_400;
        SignOptions {
            lifetimes: Lifetimes {
                root: 365 * DAY,
                targets: 365 * DAY,
                snapshot: 7 * DAY,
                timestamp: DAY,
            },
            depth: None,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// A scan of an index directory.
#[derive(Debug, Default)]
pub struct Scan {
    /// Index path → file on disk.
    pub files: BTreeMap<String, PathBuf>,
    /// Files that are not at index paths (README, CI files), relative.
    pub ignored: Vec<String>,
}

/// Lists the crate files of an index directory (sparse or git layout).
/// `config.json`, dot files (`.git`, `.github`) and `tuf/` are skipped;
/// other files not at index paths are listed as ignored.
pub fn scan_index(dir: &Path) -> Result<Scan, SignError> {
    let mut scan = Scan::default();
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((path, rel)) = stack.pop() {
        for entry in std::fs::read_dir(&path).map_err(io_err(&path))? {
            let entry = entry.map_err(io_err(&path))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || (rel.is_empty() && (name == "tuf" || name == "config.json"))
            {
                continue;
            }
            let child = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            let ft = entry.file_type().map_err(io_err(&entry.path()))?;
            if ft.is_dir() {
                stack.push((entry.path(), child));
            } else if ft.is_file() && index::valid_path(&child) {
                scan.files.insert(child, entry.path());
            } else {
                scan.ignored.push(child);
            }
        }
    }
    scan.ignored.sort();
    Ok(scan)
}

/// Hashes crate files (canonical form) on `threads` threads. Fails on the
/// first file that is not valid index content, naming it.
pub fn hash_files(
    files: &BTreeMap<String, PathBuf>,
    threads: usize,
) -> Result<Vec<(String, Hash)>, SignError> {
    let list: Vec<(&String, &PathBuf)> = files.iter().collect();
    let threads = threads.max(1);
    let chunk = list.len().div_ceil(threads).max(1);
    let results: Vec<Result<Vec<(String, Hash)>, SignError>> = std::thread::scope(|s| {
        let handles: Vec<_> = list
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|(rel, path)| {
                            let bytes = std::fs::read(path).map_err(io_err(path))?;
                            Ok(((*rel).clone(), index::crate_file_hash(rel, &bytes)?))
                        })
                        .collect::<Result<Vec<_>, SignError>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(SignError::Usage("a hashing thread panicked".into())))
            })
            .collect()
    });
    let mut out = Vec::with_capacity(list.len());
    for r in results {
        out.extend(r?);
    }
    Ok(out)
}

/// Hashed crate files and the files ignored, as [`scan_and_hash`] finds them.
pub type HashedScan = (Vec<(String, Hash)>, Vec<String>);

/// [`scan_index`] and [`hash_files`] in one pass on `threads` threads: the
/// top-level directories are shared out as they are walked, so the walk
/// overlaps the hashing. Returns the hashed crate files (in no particular
/// order) and the files ignored.
pub fn scan_and_hash(dir: &Path, threads: usize) -> Result<HashedScan, SignError> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let mut tops = Vec::new();
    let mut ignored = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_err(dir))? {
        let entry = entry.map_err(io_err(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name == "tuf" || name == "config.json" {
            continue;
        }
        if entry.file_type().map_err(io_err(&entry.path()))?.is_dir() {
            tops.push((entry.path(), name));
        } else {
            ignored.push(name);
        }
    }
    let next = AtomicUsize::new(0);
    let results: Vec<Result<HashedScan, SignError>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads.max(1))
            .map(|_| {
                s.spawn(|| {
                    let mut hashed = Vec::new();
                    let mut ignored = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((path, rel)) = tops.get(i) else {
                            break;
                        };
                        let mut stack = vec![(path.clone(), rel.clone())];
                        while let Some((path, rel)) = stack.pop() {
                            for entry in std::fs::read_dir(&path).map_err(io_err(&path))? {
                                let entry = entry.map_err(io_err(&path))?;
                                let name = entry.file_name().to_string_lossy().into_owned();
                                if name.starts_with('.') {
                                    continue;
                                }
                                let child = format!("{rel}/{name}");
                                let p = entry.path();
                                let ft = entry.file_type().map_err(io_err(&p))?;
                                if ft.is_dir() {
                                    stack.push((p, child));
                                } else if ft.is_file() && index::valid_path(&child) {
                                    let bytes = std::fs::read(&p).map_err(io_err(&p))?;
                                    let h = index::crate_file_hash(&child, &bytes)?;
                                    hashed.push((child, h));
                                } else {
                                    ignored.push(child);
                                }
                            }
                        }
                    }
                    Ok((hashed, ignored))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(SignError::Usage("a hashing thread panicked".into())))
            })
            .collect()
    });
    let mut hashed = Vec::new();
    for r in results {
        let (h, i) = r?;
        hashed.extend(h);
        ignored.extend(i);
    }
    ignored.sort();
    Ok((hashed, ignored))
}

/// Writes tree objects under `tree_dir` (`HH/REST`), skipping those
/// already present (objects are immutable). With `sync`, each new object
/// is flushed to disk; without, the caller syncs in bulk.
pub fn write_objects(tree_dir: &Path, objects: &[Object], sync: bool) -> Result<u64, SignError> {
    let mut written = 0;
    for (hash, bytes) in objects {
        let p = tree_dir.join(index::object_path(hash));
        if p.exists() {
            continue;
        }
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        store::write_atomic_with(&p, bytes, sync)?;
        written += bytes.len() as u64;
    }
    Ok(written)
}

/// Flushes a whole directory tree's data to disk after a bulk write, with
/// `sync -f` (one `syncfs`); falls back to syncing every file.
fn sync_bulk(dir: &Path) -> Result<(), SignError> {
    let ok = std::process::Command::new("sync")
        .arg("-f")
        .arg(dir)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if ok {
        return Ok(());
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).map_err(io_err(&d))? {
            let e = e.map_err(io_err(&d))?;
            let p = e.path();
            if e.file_type().map_err(io_err(&p))?.is_dir() {
                stack.push(p);
            } else {
                std::fs::File::open(&p)
                    .and_then(|f| f.sync_all())
                    .map_err(io_err(&p))?;
            }
        }
    }
    Ok(())
}

/// Reads the published tree back from its objects and checks it against
/// the signed commitment.
pub fn load_tree(tree_dir: &Path, c: &IndexCommitment) -> Result<Tree, SignError> {
    let corrupt = |path: PathBuf, reason: String| SignError::Corrupt { path, reason };
    let root = c
        .root_hash()
        .ok_or_else(|| corrupt(tree_dir.to_path_buf(), "commitment root is not hex".into()))?;
    let (_, empty_objects) = Tree::build(c.depth, std::iter::empty())?;
    let empties: BTreeSet<Hash> = empty_objects.iter().map(|(h, _)| *h).collect();
    let mut entries = Vec::new();
    let mut stack = vec![(root, 0u8)];
    while let Some((hash, level)) = stack.pop() {
        if empties.contains(&hash) {
            continue;
        }
        let p = tree_dir.join(index::object_path(&hash));
        let bytes = std::fs::read(&p).map_err(|e| corrupt(p.clone(), e.to_string()))?;
        let found = shared_trust::crypto::sha256_hex(&bytes);
        if found != index::hex_hash(&hash) {
            return Err(corrupt(p, format!("content hashes to {found}")));
        }
        if level == c.depth {
            entries.extend(index::decode_bucket(&hash, &bytes)?);
        } else {
            for child in index::decode_node(&hash, &bytes)? {
                stack.push((child, level + 1));
            }
        }
    }
    let (tree, _) = Tree::build(c.depth, entries)?;
    if tree.root() != root {
        return Err(corrupt(
            tree_dir.to_path_buf(),
            "the published objects do not rebuild the signed root".into(),
        ));
    }
    Ok(tree)
}

fn key_path(keys_dir: &Path, role: &str) -> PathBuf {
    keys_dir.join(format!("{role}.key"))
}

fn read_key(keys_dir: &Path, role: &str) -> Result<Arc<dyn Signer>, SignError> {
    keyfile::read_private_key(&key_path(keys_dir, role))
        .map(|k| Arc::new(k) as Arc<dyn Signer>)
        .map_err(|source| SignError::Key {
            role: role.to_string(),
            source,
        })
}

/// What a signing run did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishReport {
    /// The commitment now signed.
    pub commitment: IndexCommitment,
    /// Crate files changed (added, modified or removed).
    pub changed: usize,
    /// New tree objects written.
    pub objects: usize,
    /// Their total size in bytes.
    pub object_bytes: u64,
    /// The timestamp's new version.
    pub timestamp_version: u64,
    /// Its expiry (UTC).
    pub expires: String,
}

/// Creates the crates repository for the index at `index_dir`: key files
/// in `keys_dir` (created 0600, never overwritten), metadata and tree
/// under `index_dir/tuf/`. Returns the report and root v1's bytes (what the
/// root repository publishes as `crates-repository/root.json`).
pub fn init(
    index_dir: &Path,
    keys_dir: &Path,
    opts: &SignOptions,
    now: i64,
) -> Result<(PublishReport, Vec<u8>), SignError> {
    let tuf = index_dir.join("tuf");
    if tuf.join("metadata").join("1.root.json").exists() {
        return Err(SignError::Usage(format!(
            "{} already holds a crates repository; use update",
            tuf.display()
        )));
    }
    std::fs::create_dir_all(&tuf).map_err(io_err(&tuf))?;
    let _lock = StoreLock::acquire(&tuf)?;
    let (hashed, _ignored) = scan_and_hash(index_dir, opts.threads)?;
    let depth = opts
        .depth
        .unwrap_or_else(|| index::depth_for(hashed.len() as u64));
    let (tree, objects) = Tree::build(depth, hashed)?;
    let tree_dir = index_dir.join(TREE_DIR);
    let object_bytes = write_objects(&tree_dir, &objects, false)?;
    sync_bulk(&tree_dir)?;

    std::fs::create_dir_all(keys_dir).map_err(io_err(keys_dir))?;
    let mut signers: BTreeMap<&str, Arc<dyn Signer>> = BTreeMap::new();
    for role in OFFLINE_ROLES.iter().chain(ONLINE_ROLES.iter()) {
        let p = key_path(keys_dir, role);
        if p.exists() {
            return Err(SignError::Usage(format!(
                "{} exists; refusing to overwrite a key",
                p.display()
            )));
        }
        let k = Ed25519Signer::generate();
        keyfile::write_private_key(&p, &k).map_err(|source| SignError::Key {
            role: role.to_string(),
            source,
        })?;
        signers.insert(role, Arc::new(k));
    }
    let mut repo = Repository::new(now, true);
    repo.lifetimes = opts.lifetimes;
    for role in ["root", "targets", "snapshot", "timestamp"] {
        repo.add_key(role, signers[role].clone())?;
    }
    let index_signer = signers[INDEX_ROLE].clone();
    repo.delegate(
        "targets",
        DelegatedRole {
            name: INDEX_ROLE.to_string(),
            keyids: vec![index_signer.keyid().to_string()],
            threshold: 1,
            terminating: true,
            paths: Some(vec![COMMITMENT_TARGET.to_string()]),
            path_hash_prefixes: None,
            unknown_fields: BTreeMap::new(),
        },
        vec![index_signer],
    )?;
    let commitment = IndexCommitment::new(&tree.commitment(), 1);
    repo.add_target_info(INDEX_ROLE, COMMITMENT_TARGET, commitment.to_target())?;
    repo.publish(&tuf)?;
    let root = repo
        .root_bytes()
        .ok_or_else(|| SignError::Usage("no root after publish".into()))?
        .to_vec();
    let report = PublishReport {
        commitment,
        changed: tree.files() as usize,
        objects: objects.len(),
        object_bytes,
        timestamp_version: repo.timestamp.version,
        expires: repo.timestamp.expires.clone(),
    };
    Ok((report, root))
}

/// An opened crates repository, ready to publish changes.
pub struct IndexSigner {
    index_dir: PathBuf,
    repo: Repository,
    tree: Tree,
    commitment: IndexCommitment,
    lifetimes: Lifetimes,
    _lock: StoreLock,
}

impl std::fmt::Debug for IndexSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexSigner")
            .field("index_dir", &self.index_dir)
            .field("commitment", &self.commitment)
            .finish_non_exhaustive()
    }
}

impl IndexSigner {
    /// Opens the crates repository of `index_dir` with the online keys
    /// from `keys_dir`, and rebuilds the tree from the published objects.
    pub fn open(
        index_dir: &Path,
        keys_dir: &Path,
        lifetimes: Lifetimes,
        now: i64,
    ) -> Result<Self, SignError> {
        let tuf = index_dir.join("tuf");
        if !tuf.join("metadata").join("timestamp.json").exists() {
            return Err(SignError::Usage(format!(
                "{} holds no crates repository; run init first",
                tuf.display()
            )));
        }
        let lock = StoreLock::acquire(&tuf)?;
        let mut repo = Repository::load(&tuf, now)?;
        repo.lifetimes = lifetimes;
        for role in ONLINE_ROLES {
            repo.add_signer(role, read_key(keys_dir, role)?);
        }
        let info = repo
            .targets
            .get(INDEX_ROLE)
            .and_then(|t| t.targets.get(COMMITMENT_TARGET))
            .ok_or_else(|| SignError::Corrupt {
                path: tuf.join("metadata"),
                reason: format!("role {INDEX_ROLE} lists no {COMMITMENT_TARGET}"),
            })?;
        let commitment = IndexCommitment::from_target(info).map_err(|e| SignError::Corrupt {
            path: tuf.join("metadata"),
            reason: e.to_string(),
        })?;
        let tree = load_tree(&index_dir.join(TREE_DIR), &commitment)?;
        Ok(IndexSigner {
            index_dir: index_dir.to_path_buf(),
            repo,
            tree,
            commitment,
            lifetimes,
            _lock: lock,
        })
    }

    /// The commitment currently signed.
    pub fn commitment(&self) -> &IndexCommitment {
        &self.commitment
    }

    /// The signed tree.
    pub fn tree(&self) -> &Tree {
        &self.tree
    }

    /// Sets the signing time for the next publish or renewal.
    pub fn set_time(&mut self, now: i64) {
        self.repo.set_time(now);
    }

    /// Every difference between the directory and the signed tree.
    pub fn rescan(&self, threads: usize) -> Result<Vec<(String, Option<Hash>)>, SignError> {
        let hashed: BTreeMap<String, Hash> = scan_and_hash(&self.index_dir, threads)?
            .0
            .into_iter()
            .collect();
        let mut changes: Vec<(String, Option<Hash>)> = hashed
            .iter()
            .filter(|(p, h)| self.tree.get(p) != Some(h))
            .map(|(p, h)| (p.clone(), Some(*h)))
            .collect();
        // Removed files: in the tree, not on disk.
        changes.extend(
            self.tree
                .entries()
                .filter(|(p, _)| !hashed.contains_key(*p))
                .map(|(p, _)| (p.clone(), None)),
        );
        Ok(changes)
    }

    /// The changes for named crates: each crate's file re-hashed, or
    /// removed if it no longer exists.
    pub fn changes_for(&self, crates: &[String]) -> Result<Vec<(String, Option<Hash>)>, SignError> {
        let mut out = Vec::new();
        for name in crates {
            let rel = index::index_path(name);
            if !index::valid_path(&rel) {
                return Err(SignError::Usage(format!("{name:?} is not a crate name")));
            }
            let path = self.index_dir.join(&rel);
            let change = match store::read_optional(&path)? {
                Some(bytes) => Some(index::crate_file_hash(&rel, &bytes)?),
                None => None,
            };
            if self.tree.get(&rel).copied() != change {
                out.push((rel, change));
            }
        }
        Ok(out)
    }

    /// Signs a new commitment with `changes` applied (nothing is signed if
    /// there are none). Objects first, then `index`, snapshot, timestamp.
    pub fn publish(
        &mut self,
        changes: Vec<(String, Option<Hash>)>,
    ) -> Result<Option<PublishReport>, SignError> {
        if changes.is_empty() {
            return Ok(None);
        }
        let changed = changes.len();
        // The tree is updated in place (cloning 190,000 entries would cost
        // more than the rest of a publish); on failure the old entries are
        // put back, so the signer stays at the published commitment.
        let previous: Vec<(String, Option<Hash>)> = changes
            .iter()
            .map(|(p, _)| (p.clone(), self.tree.get(p).copied()))
            .collect();
        let objects = self.tree.update(changes)?;
        let commitment =
            IndexCommitment::new(&self.tree.commitment(), self.commitment.generation + 1);
        let written = (|| {
            let bytes = write_objects(&self.index_dir.join(TREE_DIR), &objects, true)?;
            self.repo
                .add_target_info(INDEX_ROLE, COMMITMENT_TARGET, commitment.to_target())?;
            self.repo.publish(&self.index_dir.join("tuf"))?;
            Ok::<u64, SignError>(bytes)
        })();
        let object_bytes = match written {
            Ok(b) => b,
            Err(e) => {
                self.tree.update(previous)?;
                return Err(e);
            }
        };
        self.commitment = commitment.clone();
        Ok(Some(PublishReport {
            commitment,
            changed,
            objects: objects.len(),
            object_bytes,
            timestamp_version: self.repo.timestamp.version,
            expires: self.repo.timestamp.expires.clone(),
        }))
    }

    /// Re-signs the timestamp; also the snapshot and the `index` role when
    /// they would expire before the new timestamp. `now` is the signing time.
    pub fn renew(&mut self, now: i64) -> Result<PublishReport, SignError> {
        self.repo.set_time(now);
        let ts_expiry = now + self.lifetimes.timestamp;
        let expires_before = |e: &str| time::parse_utc(e).is_none_or(|t| t <= ts_expiry);
        if self
            .repo
            .targets
            .get(INDEX_ROLE)
            .is_some_and(|t| expires_before(&t.expires))
        {
            self.repo.touch(INDEX_ROLE);
        }
        if expires_before(&self.repo.snapshot.expires) {
            self.repo.touch("snapshot");
        }
        self.repo.touch("timestamp");
        self.repo.publish(&self.index_dir.join("tuf"))?;
        Ok(PublishReport {
            commitment: self.commitment.clone(),
            changed: 0,
            objects: 0,
            object_bytes: 0,
            timestamp_version: self.repo.timestamp.version,
            expires: self.repo.timestamp.expires.clone(),
        })
    }

    /// [`IndexSigner::renew`], re-signing root (as its next version, which
    /// clients fetch as `N+1.root.json`) and `targets` as well, with the
    /// offline keys read from `keys_dir`. The same root key signs root
    /// N+1, so it meets the thresholds of both N and N+1.
    pub fn renew_offline_roles(
        &mut self,
        keys_dir: &Path,
        now: i64,
    ) -> Result<PublishReport, SignError> {
        for role in OFFLINE_ROLES {
            self.repo.add_signer(role, read_key(keys_dir, role)?);
        }
        for role in OFFLINE_ROLES {
            self.repo.touch(role);
        }
        self.renew(now)
    }

    /// When the offline roles (root, targets) expire, for a warning.
    pub fn offline_expiry(&self) -> Vec<(String, String)> {
        let mut out = vec![("root".to_string(), self.repo.root.expires.clone())];
        if let Some(t) = self.repo.targets.get("targets") {
            out.push(("targets".to_string(), t.expires.clone()));
        }
        out
    }
}
