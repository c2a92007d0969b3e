//! Verifying the locked packages of one registry against its signed index.
//!
//! Order of checks for a registry (each failure is recorded with the crate,
//! version and file it concerns; nothing is persisted unless all pass):
//!
//! 1. The pin: the registry URL (or, failing that, the mirror's) must be
//!    covered by a pinned root; a root a mirror serves is never trusted.
//! 2. TUF: the root repository is refreshed from the pin, the crates
//!    repository's root is read from it as a verified target, and the
//!    crates repository is refreshed (root chain, fresh timestamp,
//!    snapshot, `targets`, `index`). Offline, the same metadata is
//!    re-verified from the trusted state, expiry included.
//!
//!    A warm run takes a shorter path while the root repository's
//!    trusted metadata is unexpired: that metadata is re-verified from
//!    disk (as offline), and the crates repository is refreshed from its
//!    timestamp on, without the next-root probe
//!    ([`Updater::refresh_with_trusted_root`]). Any failure on that path
//!    falls back to the full refresh above, so rotated keys are picked
//!    up; without a failure, the root repository (and with it a re-keyed
//!    crates repository) is asked again at the latest when its timestamp
//!    expires, the same bound a mirror freezing it would impose on a
//!    full refresh. `--refresh` always takes the full path.
//! 3. The commitment: the `index/commitment` target of the `index` role;
//!    its generation must not go back, nor change root at equal generation,
//!    relative to the last verified one.
//! 4. Per package: the crate file's canonical hash is looked up in the tree
//!    ([`index::Lookup`]; tree objects are content-addressed and cached).
//!    Over HTTP, if the copy verified last time is still the committed one,
//!    it is used and the mirror is not asked (`--refresh` asks anyway:
//!    that checks what the mirror serves now, though cargo's caches, step
//!    5, are what cargo actually read). Otherwise the file served must hash
//!    to it, the locked
//!    version must be in it, the lockfile checksum must equal its `cksum`,
//!    and the file must extend the copy verified last time (published lines
//!    unchanged but for `yanked`, new versions appended).
//! 5. Cargo's caches: every `.crate` of a locked package in
//!    `$CARGO_HOME/registry/cache/` must hash to the signed `cksum`, and
//!    every entry of cargo's cached index file must equal the signed line
//!    (an entry differing only in `yanked` is an older signed copy: noted).
//!
//! Then, and only then, the commitment and each verified file are saved as
//! the new reference for step 3 and 4.

use crate::binding::{self, IndexCommitment, COMMITMENT_TARGET};
use crate::cargo_cache;
use crate::transport::{IndexAccess, MetaFetcher, ObjectCache};
use serde::Serialize;
use sha2::Digest;
use shared_trust::crypto::sha256_hex;
use shared_trust::fetcher::FetchError;
use shared_trust::index::{self, Hash, IndexError, Lookup};
use shared_trust::store;
use shared_trust::updater::{self, Config, Updater};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use trust_roots::chain::{self, ChainError};
use trust_roots::pins::PinSet;

/// Threads fetching crate files and tree objects (network bound).
const FETCH_THREADS: usize = 4;

/// A package to verify.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Package {
    /// Crate name as locked.
    pub name: String,
    /// Version as locked.
    pub version: String,
    /// The lockfile's checksum, if it records one.
    pub checksum: Option<String>,
}

/// One registry to verify, as configuration resolved it.
#[derive(Debug)]
pub struct RegistrySpec {
    /// Display name (`crates-io`, a `[registries]` name, or the URL).
    pub name: String,
    /// URLs naming the registry itself, for pin lookup (first is shown).
    pub registry_urls: Vec<String>,
    /// The mirror or replacement source it is fetched through, if any.
    pub mirror: Option<String>,
    /// Where files come from.
    pub access: IndexAccess,
    /// Host part of cargo's cache directory names for the source cargo
    /// downloads from (`HOST-HASH`), if cargo's caches are to be checked.
    pub cargo_cache_host: Option<String>,
    /// A vendored directory source (`cargo vendor`) the packages are built
    /// from: each package's `.cargo-checksum.json` must record the signed
    /// `cksum` as its `package` checksum.
    pub vendor_dir: Option<PathBuf>,
}

/// Run-wide settings.
#[derive(Clone, Debug)]
pub struct Options {
    /// `$CARGO_HOME`.
    pub cargo_home: PathBuf,
    /// Reference time, Unix seconds.
    pub now: i64,
    /// No network: verify against the last verified state.
    pub offline: bool,
    /// Ask the mirror for everything again: both repositories' next roots
    /// and every locked crate file, even those whose verified copies are
    /// still the committed ones.
    pub refresh: bool,
}

/// One verification failure.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Failure {
    /// What kind of check failed (`pin`, `metadata`, `commitment`,
    /// `index-file`, `version`, `lockfile-checksum`, `history`,
    /// `crate-cache`, `index-cache`).
    pub kind: &'static str,
    /// Crate, if it concerns one.
    #[serde(rename = "crate", skip_serializing_if = "Option::is_none")]
    pub krate: Option<String>,
    /// Version, if it concerns one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// File (index path, cache file, metadata URL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// What was expected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// What was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<String>,
    /// The whole message.
    pub message: String,
}

impl Failure {
    fn new(kind: &'static str, message: String) -> Self {
        Failure {
            kind,
            krate: None,
            version: None,
            file: None,
            expected: None,
            found: None,
            message,
        }
    }
    fn krate(mut self, name: &str, version: Option<&str>) -> Self {
        self.krate = Some(name.to_string());
        self.version = version.map(str::to_string);
        self
    }
    fn file(mut self, file: &str) -> Self {
        self.file = Some(file.to_string());
        self
    }
    fn expected_found(mut self, expected: &str, found: &str) -> Self {
        self.expected = Some(expected.to_string());
        self.found = Some(found.to_string());
        self
    }
}

/// The outcome for one registry.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RegistryReport {
    /// Display name.
    pub registry: String,
    /// The registry's URL.
    pub registry_url: String,
    /// Mirror or replacement it was fetched through.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mirror: Option<String>,
    /// Name of the pin used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pin: Option<String>,
    /// Crates repository snapshot version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_version: Option<u64>,
    /// Crates repository timestamp version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp_version: Option<u64>,
    /// When the timestamp expires (UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// The signed commitment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commitment: Option<IndexCommitment>,
    /// Locked packages of this registry.
    pub packages: usize,
    /// Packages that passed every check.
    pub verified: usize,
    /// `.crate` files in cargo's cache checked.
    pub cached_crates_checked: usize,
    /// Entries of cargo's cached index files checked.
    pub cached_index_entries_checked: usize,
    /// Whether both repositories were asked for new roots (the full
    /// refresh); `false` for a warm run (see the module docs) and offline.
    pub full_refresh: bool,
    /// Crate files fetched from the mirror (or read from the git index or
    /// directory) in this run that matched the commitment.
    pub index_files_fetched: usize,
    /// Crate files taken from the copies verified before, as they are
    /// still the committed ones (nothing was asked of the mirror for them).
    pub index_files_reused: usize,
    /// Remarks that are not failures (yanked versions, stale caches).
    pub notes: Vec<String>,
    /// Failures.
    pub failures: Vec<Failure>,
}

/// Why a registry could not be verified at all (exit status 2): the mirror
/// could not be reached, local state could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// Network or file access failed.
    #[error("{registry}: {source}")]
    Transport {
        /// Registry.
        registry: String,
        /// Cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Trusted or cached state could not be read or written.
    #[error("{registry}: {source}")]
    State {
        /// Registry.
        registry: String,
        /// Cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// One line of a crate file, parsed for the checks.
#[derive(Debug)]
struct Line {
    vers: String,
    cksum: String,
    yanked: bool,
    value: serde_json::Map<String, serde_json::Value>,
    canonical: Vec<u8>,
}

fn parse_lines(canonical: &[u8]) -> Vec<Line> {
    canonical
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .filter_map(|l| {
            let value: serde_json::Map<String, serde_json::Value> =
                serde_json::from_slice(l).ok()?;
            Some(Line {
                vers: value.get("vers")?.as_str()?.to_string(),
                cksum: value
                    .get("cksum")
                    .and_then(|c| c.as_str())
                    .unwrap_or_default()
                    .to_string(),
                yanked: value
                    .get("yanked")
                    .and_then(|y| y.as_bool())
                    .unwrap_or(false),
                value,
                canonical: l.to_vec(),
            })
        })
        .collect()
}

/// Fields that differ between two lines (`yanked` included).
fn changed_fields(
    a: &serde_json::Map<String, serde_json::Value>,
    b: &serde_json::Map<String, serde_json::Value>,
) -> Vec<String> {
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| k.to_string())
        .collect()
}

fn show(v: Option<&serde_json::Value>) -> String {
    match v {
        None => "absent".into(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(v) => {
            let s = v.to_string();
            if s.len() > 80 {
                format!("{}...", &s[..77])
            } else {
                s
            }
        }
    }
}

/// Describes how `served` differs from `reference` (both canonical),
/// version by version: what a mirror tampered with.
pub fn describe_difference(reference: &[u8], served: &[u8]) -> String {
    let old = parse_lines(reference);
    let new = parse_lines(served);
    let old_by: BTreeMap<&str, &Line> = old.iter().map(|l| (l.vers.as_str(), l)).collect();
    let new_by: BTreeMap<&str, &Line> = new.iter().map(|l| (l.vers.as_str(), l)).collect();
    let mut parts = Vec::new();
    for l in &old {
        match new_by.get(l.vers.as_str()) {
            None => parts.push(format!("version {} removed", l.vers)),
            Some(n) if n.canonical != l.canonical => {
                let fields: Vec<String> = changed_fields(&l.value, &n.value)
                    .into_iter()
                    .map(|f| format!("{f} {} -> {}", show(l.value.get(&f)), show(n.value.get(&f))))
                    .collect();
                parts.push(format!("version {}: {}", l.vers, fields.join(", ")));
            }
            Some(_) => {}
        }
    }
    for l in &new {
        if !old_by.contains_key(l.vers.as_str()) {
            parts.push(format!("version {} added", l.vers));
        }
    }
    if parts.is_empty() {
        "same versions and fields, different order or duplicates".into()
    } else {
        parts.join("; ")
    }
}

/// Checks that `new` legitimately follows `old` (both canonical): every
/// old line is still there, in order, unchanged but for `yanked`; new
/// lines only come after. Returns the first violation.
pub fn check_extends(old: &[u8], new: &[u8]) -> Result<(), String> {
    let old = parse_lines(old);
    let new = parse_lines(new);
    for (i, o) in old.iter().enumerate() {
        let Some(n) = new.get(i) else {
            return Err(format!("version {} removed", o.vers));
        };
        if n.vers != o.vers {
            return Err(if new.iter().any(|l| l.vers == o.vers) {
                format!("version {} moved", o.vers)
            } else {
                format!("version {} removed", o.vers)
            });
        }
        let fields: Vec<String> = changed_fields(&o.value, &n.value)
            .into_iter()
            .filter(|f| f != "yanked")
            .collect();
        if !fields.is_empty() {
            return Err(format!(
                "version {} changed {}",
                o.vers,
                fields
                    .iter()
                    .map(|f| format!("{f} ({} -> {})", show(o.value.get(f)), show(n.value.get(f))))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    Ok(())
}

/// Where the last verified commitment and files of a registry are kept.
#[derive(Debug)]
struct IndexState {
    dir: PathBuf,
}

impl IndexState {
    fn commitment(&self) -> Result<Option<IndexCommitment>, store::StoreError> {
        let p = self.dir.join("commitment.json");
        Ok(store::read_optional(&p)?.and_then(|b| serde_json::from_slice(&b).ok()))
    }
    fn file(&self, path: &str) -> Result<Option<Vec<u8>>, store::StoreError> {
        store::read_optional(&self.dir.join("files").join(path))
    }
    fn save(
        &self,
        c: &IndexCommitment,
        files: &BTreeMap<String, Vec<u8>>,
    ) -> Result<(), store::StoreError> {
        for (path, bytes) in files {
            let p = self.dir.join("files").join(path);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent).map_err(|source| store::StoreError {
                    path: parent.to_path_buf(),
                    source,
                })?;
            }
            store::write_atomic_with(&p, bytes, false)?;
        }
        std::fs::create_dir_all(&self.dir).map_err(|source| store::StoreError {
            path: self.dir.clone(),
            source,
        })?;
        let bytes = serde_json::to_vec_pretty(c).unwrap_or_default();
        let path = self.dir.join("commitment.json");
        if store::read_optional(&path)?.as_deref() == Some(bytes.as_slice()) {
            return Ok(());
        }
        store::write_atomic(&path, &bytes)
    }
}

fn run_transport(registry: &str, e: impl std::error::Error + Send + Sync + 'static) -> RunError {
    RunError::Transport {
        registry: registry.to_string(),
        source: Box::new(e),
    }
}

fn run_state(registry: &str, e: impl std::error::Error + Send + Sync + 'static) -> RunError {
    RunError::State {
        registry: registry.to_string(),
        source: Box::new(e),
    }
}

/// Sorts a chain error into a verification failure or a run error.
fn chain_outcome(registry: &str, e: ChainError) -> Result<Failure, RunError> {
    match &e {
        ChainError::Update { source, .. } => match source.as_ref() {
            updater::Error::Transport {
                source: FetchError::NotFound { url },
                what,
            } => Ok(Failure::new(
                "metadata",
                format!("{registry}: no signed metadata: the mirror does not serve {what} ({url})"),
            )
            .file(url)),
            updater::Error::Transport { .. } => Err(run_transport(registry, e)),
            updater::Error::Storage(_) => Err(run_state(registry, e)),
            updater::Error::NotCached { .. } => Err(run_state(registry, e)),
            _ => Ok(Failure::new("metadata", e.to_string())),
        },
        _ => Ok(Failure::new("metadata", e.to_string())),
    }
}

/// The verified crates repository of a registry: its updater (holding the
/// state lock), where its state lives, and whether both repositories were
/// asked for new roots.
struct Opened {
    updater: Updater<MetaFetcher>,
    state_dir: PathBuf,
    full_refresh: bool,
}

/// The root repository's trusted state, re-verified against the pin's
/// chain and the reference time with nothing fetched, and its entry for
/// the crates repository's root (`None` if it lists none).
fn root_repository_from_state(
    pin: &trust_roots::pins::Pin,
    opts: &Options,
    base: &str,
) -> Result<Option<shared_trust::metadata::TargetFile>, updater::Error> {
    let mut up = Updater::new(
        &pin.state_dir(&opts.cargo_home),
        &binding::root_repository_metadata_url(base),
        MetaFetcher::Offline,
        Config::default(),
        opts.now,
    )?;
    up.refresh_offline()?;
    up.get_targetinfo(chain::CRATES_ROOT_TARGET)
}

/// The crates repository's trusted-state directory for the crates root
/// the root repository lists (`info`): it was bootstrapped from a root
/// with that hash, so finding it needs no copy of the root itself.
fn listed_crates_state_dir(
    pin: &trust_roots::pins::Pin,
    opts: &Options,
    info: &shared_trust::metadata::TargetFile,
) -> PathBuf {
    let hash = info.hashes.get("sha256").map_or("", String::as_str);
    chain::crates_state_dir_for_hash(pin, &opts.cargo_home, hash)
}

/// The warm path (module docs, step 2): `Ok(None)` when it does not
/// apply (no complete trusted state, expired root-repository metadata) or
/// the crates repository does not verify along it; the caller then takes
/// the full path, which reports what is wrong. A mirror that cannot be
/// reached is reported at once.
fn open_warm(
    spec: &RegistrySpec,
    pin: &trust_roots::pins::Pin,
    opts: &Options,
) -> Result<Option<Opened>, RunError> {
    let (fetcher, base) = spec.access.meta();
    let Ok(Some(info)) = root_repository_from_state(pin, opts, &base) else {
        return Ok(None);
    };
    let state_dir = listed_crates_state_dir(pin, opts, &info);
    if !state_dir.join("root.json").is_file() {
        return Ok(None);
    }
    let Ok(mut up) = Updater::new(
        &state_dir,
        &binding::metadata_url(&base),
        fetcher,
        Config::default(),
        opts.now,
    ) else {
        return Ok(None);
    };
    match up.refresh_with_trusted_root() {
        Ok(()) => Ok(Some(Opened {
            updater: up,
            state_dir,
            full_refresh: false,
        })),
        Err(updater::Error::Transport { source, what })
            if !matches!(source, FetchError::NotFound { .. }) =>
        {
            Err(run_transport(
                &format!("{}/crates", pin.name),
                updater::Error::Transport { source, what },
            ))
        }
        Err(_) => Ok(None),
    }
}

fn open_repositories(
    spec: &RegistrySpec,
    pin: &trust_roots::pins::Pin,
    opts: &Options,
) -> Result<Result<Opened, Failure>, RunError> {
    let reg = &spec.name;
    let (fetcher, base) = spec.access.meta();
    if opts.offline {
        // Re-verify the root repository's and the crates repository's
        // trusted state, fetching nothing.
        let info = match root_repository_from_state(pin, opts, &base) {
            Ok(Some(i)) => i,
            Ok(None) => {
                return Ok(Err(Failure::new(
                    "metadata",
                    format!(
                        "{reg}: the root repository lists no {}",
                        chain::CRATES_ROOT_TARGET
                    ),
                )))
            }
            Err(e) => {
                return chain_outcome(
                    reg,
                    ChainError::Update {
                        repository: pin.name.clone(),
                        source: Box::new(e),
                    },
                )
                .map(Err)
            }
        };
        let state_dir = listed_crates_state_dir(pin, opts, &info);
        let r = (|| {
            let mut up = Updater::new(
                &state_dir,
                &binding::metadata_url(&base),
                MetaFetcher::Offline,
                Config::default(),
                opts.now,
            )?;
            up.refresh_offline()?;
            Ok(up)
        })();
        return match r {
            Ok(updater) => Ok(Ok(Opened {
                updater,
                state_dir,
                full_refresh: false,
            })),
            Err(e) => chain_outcome(
                reg,
                ChainError::Update {
                    repository: format!("{}/crates", pin.name),
                    source: Box::new(e),
                },
            )
            .map(Err),
        };
    }
    if !opts.refresh {
        if let Some(opened) = open_warm(spec, pin, opts)? {
            return Ok(Ok(opened));
        }
    }
    let crates_root = {
        let mut root_up = match chain::open_pinned(
            pin,
            &opts.cargo_home,
            &binding::root_repository_metadata_url(&base),
            fetcher.clone(),
            opts.now,
        ) {
            Ok(u) => u,
            Err(e) => return chain_outcome(reg, e).map(Err),
        };
        match chain::crates_repository_root_cached(
            &mut root_up,
            &pin.name,
            &binding::root_repository_targets_url(&base),
            &pin.state_dir(&opts.cargo_home)
                .join("target.crates-repository-root"),
        ) {
            Ok(r) => r,
            Err(e) => return chain_outcome(reg, e).map(Err),
        }
    };
    let state_dir = chain::crates_state_dir(pin, &opts.cargo_home, &crates_root);
    match chain::open_crates_repository(
        pin,
        &opts.cargo_home,
        &crates_root,
        &binding::metadata_url(&base),
        fetcher,
        opts.now,
    ) {
        Ok(updater) => Ok(Ok(Opened {
            updater,
            state_dir,
            full_refresh: true,
        })),
        Err(e) => chain_outcome(reg, e).map(Err),
    }
}

/// Verifies `packages` of one registry. Failures are in the report; an
/// `Err` means the registry could not be verified at all.
pub fn verify_registry(
    spec: &RegistrySpec,
    packages: &[Package],
    pins: &PinSet,
    opts: &Options,
    progress: &dyn Fn(&str),
) -> Result<RegistryReport, RunError> {
    let reg = spec.name.clone();
    let mut report = RegistryReport {
        registry: reg.clone(),
        registry_url: spec.registry_urls.first().cloned().unwrap_or_default(),
        mirror: spec.mirror.clone(),
        packages: packages.len(),
        ..Default::default()
    };
    // 1. The pin.
    let pin = spec
        .registry_urls
        .iter()
        .find_map(|u| pins.resolve_registry(u, spec.mirror.as_deref()))
        .map(|r| r.pin);
    let Some(pin) = pin else {
        report.failures.push(Failure::new(
            "pin",
            format!(
                "{reg}: no pinned root covers {}; the registry cannot be verified (pin its root with `trust-roots pin add`)",
                report.registry_url
            ),
        ));
        return Ok(report);
    };
    report.pin = Some(pin.name.clone());

    // 2. TUF.
    let mut opened = match open_repositories(spec, pin, opts)? {
        Ok(o) => o,
        Err(f) => {
            report.failures.push(f);
            return Ok(report);
        }
    };
    report.full_refresh = opened.full_refresh;
    let trusted = opened.updater.trusted();
    report.snapshot_version = trusted.snapshot().map(|s| s.version);
    report.timestamp_version = trusted.timestamp().map(|t| t.version);
    report.expires = trusted.timestamp().map(|t| t.expires.clone());

    // 3. The commitment.
    let info = match opened.updater.get_targetinfo(COMMITMENT_TARGET) {
        Ok(Some(i)) => i,
        Ok(None) => {
            report.failures.push(Failure::new(
                "commitment",
                format!("{reg}: the signed metadata lists no {COMMITMENT_TARGET}"),
            ));
            return Ok(report);
        }
        Err(e) => {
            let f = chain_outcome(
                &reg,
                ChainError::Update {
                    repository: reg.clone(),
                    source: Box::new(e),
                },
            )?;
            report.failures.push(f);
            return Ok(report);
        }
    };
    let commitment = match IndexCommitment::from_target(&info) {
        Ok(c) => c,
        Err(e) => {
            report
                .failures
                .push(Failure::new("commitment", format!("{reg}: {e}")));
            return Ok(report);
        }
    };
    report.commitment = Some(commitment.clone());
    let state = IndexState {
        dir: opened.state_dir.join("index"),
    };
    if let Some(last) = state.commitment().map_err(|e| run_state(&reg, e))? {
        if commitment.generation < last.generation {
            report.failures.push(
                Failure::new(
                    "commitment",
                    format!(
                        "{reg}: index commitment rolled back: generation {} is older than generation {} verified before",
                        commitment.generation, last.generation
                    ),
                )
                .expected_found(
                    &format!("generation >= {}", last.generation),
                    &commitment.generation.to_string(),
                ),
            );
            return Ok(report);
        }
        if commitment.generation == last.generation && commitment.root != last.root {
            report.failures.push(Failure::new(
                "commitment",
                format!(
                    "{reg}: two different index commitments signed with generation {}: {} verified before, {} now",
                    last.generation, last.root, commitment.root
                ),
            ));
            return Ok(report);
        }
    }

    // 4 and 5. Per package.
    let objects = ObjectCache::new(Some(opts.cargo_home.join("tuf").join("objects")));
    let cache_dirs = spec
        .cargo_cache_host
        .as_deref()
        .map(|h| cargo_cache::cache_dirs_for_host(&opts.cargo_home, h))
        .unwrap_or_default();
    let mut verified_files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut by_path: BTreeMap<String, Vec<&Package>> = BTreeMap::new();
    for p in packages {
        by_path
            .entry(index::index_path(&p.name))
            .or_default()
            .push(p);
    }
    // Fetching and checking the crate files against the tree is network
    // bound: it runs on a few threads, each on its own connection; the
    // checks below use the results in order.
    progress("crate files");
    let jobs: Vec<(&String, &str)> = by_path
        .iter()
        .map(|(p, pkgs)| (p, pkgs[0].name.as_str()))
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    type FileResult = Result<Result<CrateFile, Failure>, RunError>;
    let mut fetched: BTreeMap<String, FileResult> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..FETCH_THREADS.min(jobs.len().max(1)))
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some((path, name)) = jobs.get(i) else {
                            break;
                        };
                        let r = verify_file(spec, &commitment, &objects, &state, path, name, opts);
                        out.push(((*path).clone(), r));
                    }
                    out
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    });
    for (path, pkgs) in &by_path {
        let name = &pkgs[0].name;
        progress(name);
        let before = report.failures.len();
        let result = fetched.remove(path).unwrap_or_else(|| {
            Err(RunError::State {
                registry: reg.clone(),
                source: format!("{path}: no result from the fetching threads").into(),
            })
        });
        // `new_copy`: verified from the mirror, to be saved as the next
        // reference (a reused copy is already saved).
        let (file, file_ok, new_copy) = match result? {
            Ok(f) => {
                if f.reused {
                    report.index_files_reused += 1;
                } else {
                    report.index_files_fetched += 1;
                }
                (f.canonical, true, !f.reused)
            }
            Err(f) => {
                // The mirror served something else; if the copy verified
                // before is still the committed one, the lockfile and
                // cargo's caches are checked against it all the same.
                let fallback = f.expected.as_ref().and_then(|committed| {
                    let prev = state.file(path).ok().flatten()?;
                    (sha256_hex(&prev) == *committed).then_some(prev)
                });
                report.failures.push(f);
                match fallback {
                    Some(prev) => (prev, false, false),
                    None => continue,
                }
            }
        };
        let lines = parse_lines(&file);
        for p in pkgs {
            let Some(line) = lines.iter().find(|l| l.vers == p.version) else {
                report.failures.push(
                    Failure::new(
                        "version",
                        format!(
                            "{} {}: version not in the signed index file {path} (generation {})",
                            p.name, p.version, commitment.generation
                        ),
                    )
                    .krate(&p.name, Some(&p.version))
                    .file(path),
                );
                continue;
            };
            match &p.checksum {
                Some(c) if !c.eq_ignore_ascii_case(&line.cksum) => report.failures.push(
                    Failure::new(
                        "lockfile-checksum",
                        format!(
                            "{} {}: Cargo.lock checksum {c} differs from the signed cksum {}",
                            p.name, p.version, line.cksum
                        ),
                    )
                    .krate(&p.name, Some(&p.version))
                    .file("Cargo.lock")
                    .expected_found(&line.cksum, c),
                ),
                Some(_) => {}
                None => report.notes.push(format!(
                    "{} {}: Cargo.lock records no checksum; checked against the signed index only",
                    p.name, p.version
                )),
            }
            if line.yanked {
                report.notes.push(format!(
                    "{} {}: yanked in the signed index",
                    p.name, p.version
                ));
            }
            // Cargo's .crate cache.
            for dir in &cache_dirs {
                let f = dir.join(format!("{}-{}.crate", p.name, p.version));
                let Some(bytes) = store::read_optional(&f).map_err(|e| run_state(&reg, e))? else {
                    continue;
                };
                report.cached_crates_checked += 1;
                let found = sha256_hex(&bytes);
                if !found.eq_ignore_ascii_case(&line.cksum) {
                    report.failures.push(
                        Failure::new(
                            "crate-cache",
                            format!(
                                "{} {}: {} in cargo's cache hashes to {found}, the signed cksum is {}",
                                p.name,
                                p.version,
                                f.display(),
                                line.cksum
                            ),
                        )
                        .krate(&p.name, Some(&p.version))
                        .file(&f.display().to_string())
                        .expected_found(&line.cksum, &found),
                    );
                }
            }
        }
        if let Some(dir) = &spec.vendor_dir {
            for p in pkgs {
                if let Some(line) = lines.iter().find(|l| l.vers == p.version) {
                    check_vendored(&mut report, dir, p, &line.cksum);
                }
            }
        }
        // Cargo's cached index file for this crate.
        check_index_cache(&mut report, &cache_dirs, path, name, &lines);
        if report.failures.len() == before && file_ok {
            report.verified += pkgs.len();
            if new_copy {
                verified_files.insert(path.clone(), file);
            }
        }
    }
    if report.failures.is_empty() && !opts.offline {
        state
            .save(&commitment, &verified_files)
            .map_err(|e| run_state(&reg, e))?;
    }
    drop(opened);
    Ok(report)
}

/// The vendored copy of a package: `DIR/NAME-VERSION` or `DIR/NAME` (as
/// `cargo vendor` names them), whose `Cargo.toml` has the version.
fn vendored_package_dir(dir: &Path, p: &Package) -> Option<PathBuf> {
    let versioned = dir.join(format!("{}-{}", p.name, p.version));
    if versioned.join(".cargo-checksum.json").is_file() {
        return Some(versioned);
    }
    let plain = dir.join(&p.name);
    let manifest = std::fs::read_to_string(plain.join("Cargo.toml")).ok()?;
    let value: toml::Table = toml::from_str(&manifest).ok()?;
    let version = value.get("package")?.get("version")?.as_str()?;
    (version == p.version).then_some(plain)
}

fn check_vendored(report: &mut RegistryReport, dir: &Path, p: &Package, cksum: &str) {
    let Some(pkg_dir) = vendored_package_dir(dir, p) else {
        report.failures.push(
            Failure::new(
                "vendored",
                format!(
                    "{} {}: not found in the vendored directory {}",
                    p.name,
                    p.version,
                    dir.display()
                ),
            )
            .krate(&p.name, Some(&p.version)),
        );
        return;
    };
    let file = pkg_dir.join(".cargo-checksum.json");
    let shown = file.display().to_string();
    let recorded = std::fs::read(&file)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v.get("package")?.as_str().map(str::to_string));
    report.cached_crates_checked += 1;
    match recorded {
        Some(r) if r.eq_ignore_ascii_case(cksum) => {}
        Some(r) => report.failures.push(
            Failure::new(
                "vendored",
                format!(
                    "{} {}: {shown} records package checksum {r}, the signed cksum is {cksum}",
                    p.name, p.version
                ),
            )
            .krate(&p.name, Some(&p.version))
            .file(&shown)
            .expected_found(cksum, &r),
        ),
        None => report.failures.push(
            Failure::new(
                "vendored",
                format!(
                    "{} {}: {shown} records no package checksum to compare with the signed cksum",
                    p.name, p.version
                ),
            )
            .krate(&p.name, Some(&p.version))
            .file(&shown),
        ),
    }
}

fn check_index_cache(
    report: &mut RegistryReport,
    cache_dirs: &[PathBuf],
    path: &str,
    name: &str,
    lines: &[Line],
) {
    for dir in cache_dirs {
        let f = dir.join(".cache").join(path);
        let Ok(bytes) = std::fs::read(&f) else {
            continue;
        };
        let shown = f.display().to_string();
        let cache = match cargo_cache::parse_index_cache(&shown, &bytes) {
            Ok(c) => c,
            Err(e) => {
                report.notes.push(format!("{shown}: not read ({e})"));
                continue;
            }
        };
        for (version, json) in &cache.entries {
            report.cached_index_entries_checked += 1;
            let canon = match index::canonical_crate_file(path, json) {
                Ok(c) => c,
                Err(e) => {
                    report.failures.push(
                        Failure::new("index-cache", format!("{shown}: {e}"))
                            .krate(name, Some(version))
                            .file(&shown),
                    );
                    continue;
                }
            };
            let cached = parse_lines(&canon);
            let Some(c) = cached.first() else { continue };
            match lines.iter().find(|l| l.vers == c.vers) {
                None => report.failures.push(
                    Failure::new(
                        "index-cache",
                        format!(
                            "{name} {}: cargo's cached index file {shown} lists a version the signed index does not have",
                            c.vers
                        ),
                    )
                    .krate(name, Some(&c.vers))
                    .file(&shown),
                ),
                Some(l) if l.canonical == c.canonical => {}
                Some(l) => {
                    let fields = changed_fields(&l.value, &c.value);
                    if fields == ["yanked"] {
                        report.notes.push(format!(
                            "{name} {}: cargo's cached index says yanked={}, the signed index yanked={} (an older copy)",
                            c.vers, c.yanked, l.yanked
                        ));
                    } else {
                        let detail: Vec<String> = fields
                            .iter()
                            .map(|f| {
                                format!(
                                    "{f}: signed {}, cached {}",
                                    show(l.value.get(f)),
                                    show(c.value.get(f))
                                )
                            })
                            .collect();
                        report.failures.push(
                            Failure::new(
                                "index-cache",
                                format!(
                                    "{name} {}: cargo's cached index file {shown} differs from the signed index ({})",
                                    c.vers,
                                    detail.join("; ")
                                ),
                            )
                            .krate(name, Some(&c.vers))
                            .file(&shown),
                        );
                    }
                }
            }
        }
    }
}

/// The verified canonical content of one crate file, or the failure.
fn verify_file(
    spec: &RegistrySpec,
    commitment: &IndexCommitment,
    objects: &ObjectCache,
    state: &IndexState,
    path: &str,
    name: &str,
    opts: &Options,
) -> Result<Result<CrateFile, Failure>, RunError> {
    let reg = &spec.name;
    // The committed hash.
    let committed = match lookup(spec, commitment, objects, path) {
        Ok(c) => c,
        Err(LookupError::Fetch(FetchError::NotFound { url })) => {
            return Ok(Err(Failure::new(
                "index-file",
                format!("{name}: tree object {url} of the signed index is missing on the mirror"),
            )
            .krate(name, None)
            .file(&url)))
        }
        Err(LookupError::Fetch(e)) => return Err(run_transport(reg, e)),
        Err(LookupError::Index(e)) => {
            return Ok(Err(Failure::new(
                "index-file",
                format!("{name}: the mirror's tree objects do not verify: {e}"),
            )
            .krate(name, None)))
        }
    };
    let Some(committed) = committed else {
        return Ok(Err(Failure::new(
            "index-file",
            format!(
                "{name}: no crate file {path} in the signed index (generation {})",
                commitment.generation
            ),
        )
        .krate(name, None)
        .file(path)));
    };
    let previous = state.file(path).map_err(|e| run_state(reg, e))?;
    // The copy verified before is still the committed content: over HTTP
    // that saves asking the mirror (offline, it is all there is).
    let reuse = opts.offline || (!opts.refresh && spec.access.requests_cost());
    if reuse
        && previous
            .as_deref()
            .is_some_and(|prev| Hash::from(sha2::Sha256::digest(prev)) == committed)
    {
        return Ok(Ok(CrateFile {
            canonical: previous.unwrap_or_default(),
            reused: true,
        }));
    }
    let served = if opts.offline {
        previous.clone()
    } else {
        spec.access
            .crate_file(path)
            .map_err(|e| run_transport(reg, e))?
    };
    let Some(served) = served else {
        let what = if opts.offline {
            "was not verified online before (run once without --offline)"
        } else {
            "is not served by the mirror"
        };
        return Ok(Err(Failure::new(
            "index-file",
            format!("{name}: crate file {path} {what}"),
        )
        .krate(name, None)
        .file(path)));
    };
    let canonical = match index::canonical_crate_file(path, &served) {
        Ok(c) => c,
        Err(e) => {
            return Ok(Err(Failure::new("index-file", format!("{name}: {e}"))
                .krate(name, None)
                .file(path)))
        }
    };
    let found: Hash = sha2::Sha256::digest(&canonical).into();
    if found != committed {
        let detail = match &previous {
            Some(prev) if index::crate_file_hash(path, prev).ok() == Some(committed) => {
                format!(": {}", describe_difference(prev, &canonical))
            }
            _ => String::new(),
        };
        return Ok(Err(Failure::new(
            "index-file",
            format!(
                "{name}: crate file {path} served by the mirror is not the one the signed index commits to (generation {}){detail}",
                commitment.generation
            ),
        )
        .krate(name, None)
        .file(path)
        .expected_found(&index::hex_hash(&committed), &index::hex_hash(&found))));
    }
    if let Some(prev) = &previous {
        if let Err(why) = check_extends(prev, &canonical) {
            return Ok(Err(Failure::new(
                "history",
                format!(
                    "{name}: crate file {path} rewrites history since the last verified index: {why}"
                ),
            )
            .krate(name, None)
            .file(path)));
        }
    }
    Ok(Ok(CrateFile {
        canonical,
        reused: false,
    }))
}

/// A crate file whose canonical form hashes to the committed hash.
struct CrateFile {
    canonical: Vec<u8>,
    /// Taken from the copy verified before rather than from the mirror.
    reused: bool,
}

enum LookupError {
    Fetch(FetchError),
    Index(IndexError),
}

fn lookup(
    spec: &RegistrySpec,
    commitment: &IndexCommitment,
    objects: &ObjectCache,
    path: &str,
) -> Result<Option<Hash>, LookupError> {
    let mut l = Lookup::new(&commitment.tree(), path).map_err(LookupError::Index)?;
    while let Some(h) = l.next_object() {
        let bytes = objects.get(&spec.access, &h).map_err(LookupError::Fetch)?;
        l.feed(&bytes).map_err(LookupError::Index)?;
    }
    Ok(l.result().flatten())
}

/// Where a registry's state is kept, for display.
pub fn state_root(cargo_home: &Path) -> PathBuf {
    cargo_home.join("tuf").join("state")
}
