//! An in-memory TUF repository simulator and a fake [`Fetcher`].
//!
//! [`Sim`] drives the real [`Repository`] (so the metadata is what our
//! producer side writes) and publishes every file it signs into a
//! [`MemFetcher`], a map from URL to bytes that logs every request. Tests
//! tamper with served bytes through the JSON helpers below, and run the
//! [`Updater`] against a [`Client`]: a temporary metadata directory
//! bootstrapped with the repository's first root.

use serde_json::{json, Value};
use shared_trust::canonical;
use shared_trust::crypto::{Ed25519Signer, Signer};
use shared_trust::fetcher::{FetchError, Fetcher};
use shared_trust::metadata::{DelegatedRole, Delegations, TargetFile, Targets};
use shared_trust::repository::Repository;
use shared_trust::updater::{Config, Error, Updater};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Display;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The fixed reference time every test starts from (2023-11-14T22:13:20Z).
pub const NOW: i64 = 1_700_000_000;
/// One day in seconds.
pub const DAY: i64 = 86_400;
/// Where the simulated mirror serves metadata.
pub const META: &str = "https://mirror.test/metadata/";
/// Where the simulated mirror serves targets.
pub const TARGETS: &str = "https://mirror.test/targets/";

/// A deterministic ed25519 signer.
pub fn signer(seed: u8) -> Arc<dyn Signer> {
    Arc::new(Ed25519Signer::from_seed(&[seed; 32]))
}

/// Asserts that `err`'s Display message contains every one of `needles`.
#[track_caller]
pub fn assert_msg(err: &dyn Display, needles: &[&str]) {
    let msg = err.to_string();
    for n in needles {
        assert!(
            msg.contains(n),
            "error message {msg:?} does not mention {n:?}"
        );
    }
}

/// Unwraps the error of a result whose Ok side is not Debug-friendly.
#[track_caller]
pub fn expect_err<T, E>(r: Result<T, E>, what: &str) -> E {
    match r {
        Ok(_) => panic!("{what}: expected an error, got Ok"),
        Err(e) => e,
    }
}

// ---------------------------------------------------------------------------
// Fake fetcher
// ---------------------------------------------------------------------------

/// Serves a `HashMap<url, bytes>` and logs every request, in order.
#[derive(Debug, Default)]
pub struct MemFetcher {
    files: RefCell<HashMap<String, Vec<u8>>>,
    log: RefCell<Vec<String>>,
}

impl MemFetcher {
    /// Serves `bytes` at `url`.
    pub fn put(&self, url: &str, bytes: Vec<u8>) {
        self.files.borrow_mut().insert(url.to_string(), bytes);
    }

    /// What is served at `url`.
    pub fn get(&self, url: &str) -> Option<Vec<u8>> {
        self.files.borrow().get(url).cloned()
    }

    /// Stops serving `url`.
    pub fn remove(&self, url: &str) {
        self.files.borrow_mut().remove(url);
    }

    /// Every URL requested so far, in order.
    pub fn requests(&self) -> Vec<String> {
        self.log.borrow().clone()
    }

    /// Number of requests so far.
    pub fn request_count(&self) -> usize {
        self.log.borrow().len()
    }

    /// Requests for metadata, as names relative to [`META`].
    pub fn meta_requests(&self) -> Vec<String> {
        self.log
            .borrow()
            .iter()
            .filter_map(|u| u.strip_prefix(META).map(str::to_string))
            .collect()
    }

    /// How many times `url` was requested.
    pub fn count(&self, url: &str) -> usize {
        self.log.borrow().iter().filter(|u| *u == url).count()
    }

    /// Forgets the requests made so far.
    pub fn clear_log(&self) {
        self.log.borrow_mut().clear();
    }
}

impl Fetcher for MemFetcher {
    fn fetch_to(&self, url: &str, max_len: u64, sink: &mut dyn Write) -> Result<u64, FetchError> {
        self.log.borrow_mut().push(url.to_string());
        let files = self.files.borrow();
        let data = files.get(url).ok_or_else(|| FetchError::NotFound {
            url: url.to_string(),
        })?;
        if data.len() as u64 > max_len {
            return Err(FetchError::TooLarge {
                url: url.to_string(),
                limit: max_len,
            });
        }
        sink.write_all(data).map_err(|source| FetchError::Sink {
            url: url.to_string(),
            source,
        })?;
        Ok(data.len() as u64)
    }
}

// ---------------------------------------------------------------------------
// Repository simulator
// ---------------------------------------------------------------------------

/// The signers of the four top-level roles.
#[derive(Clone)]
pub struct Keys {
    /// Root (seed 1).
    pub root: Arc<dyn Signer>,
    /// Timestamp (seed 2).
    pub timestamp: Arc<dyn Signer>,
    /// Snapshot (seed 3).
    pub snapshot: Arc<dyn Signer>,
    /// Targets (seed 4).
    pub targets: Arc<dyn Signer>,
}

/// A repository plus the mirror that serves it.
pub struct Sim {
    /// The producer-side repository.
    pub repo: Repository,
    /// The mirror.
    pub server: MemFetcher,
    /// Top-level signers.
    pub keys: Keys,
    /// The bytes of root version 1 (what a client pins).
    pub root_v1: Vec<u8>,
}

impl Sim {
    /// A repository with one ed25519 key per top-level role, published once
    /// (all roles at version 1) at [`NOW`].
    pub fn new(consistent: bool) -> Self {
        Self::build(consistent, |_, _| {})
    }

    /// Like [`Sim::new`], running `setup` on the repository before the
    /// first publish.
    pub fn build(consistent: bool, setup: impl FnOnce(&mut Repository, &Keys)) -> Self {
        let keys = Keys {
            root: signer(1),
            timestamp: signer(2),
            snapshot: signer(3),
            targets: signer(4),
        };
        let mut repo = Repository::new(NOW, consistent);
        repo.add_key("root", keys.root.clone()).unwrap();
        repo.add_key("timestamp", keys.timestamp.clone()).unwrap();
        repo.add_key("snapshot", keys.snapshot.clone()).unwrap();
        repo.add_key("targets", keys.targets.clone()).unwrap();
        setup(&mut repo, &keys);
        let mut sim = Sim {
            repo,
            server: MemFetcher::default(),
            keys,
            root_v1: Vec::new(),
        };
        sim.publish();
        sim.root_v1 = sim.root_bytes();
        sim
    }

    /// Signs what changed (always a new timestamp) and serves the new files.
    pub fn publish(&mut self) -> BTreeMap<String, Vec<u8>> {
        let files = self.repo.sign_changes().expect("repository signs");
        for (name, bytes) in &files {
            self.server.put(&format!("{META}{name}"), bytes.clone());
        }
        files
    }

    /// Publishes at `now` (the repository's signing time).
    pub fn publish_at(&mut self, now: i64) -> BTreeMap<String, Vec<u8>> {
        self.repo.set_time(now);
        self.publish()
    }

    /// Whether the repository uses consistent snapshots.
    pub fn consistent(&self) -> bool {
        self.repo.root.consistent_snapshot()
    }

    /// Adds a target to `role` and serves its content where a client of
    /// this repository must look for it (and nowhere else).
    pub fn add_target(&mut self, role: &str, path: &str, content: &[u8]) -> TargetFile {
        let info = self.repo.add_target(role, path, content, None).unwrap();
        self.server
            .put(&self.target_url(path, content), content.to_vec());
        info
    }

    /// The URL a target with `content` is served at.
    pub fn target_url(&self, path: &str, content: &[u8]) -> String {
        if self.consistent() {
            let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(content));
            match path.rsplit_once('/') {
                Some((dir, name)) => format!("{TARGETS}{dir}/{hash}.{name}"),
                None => format!("{TARGETS}{hash}.{path}"),
            }
        } else {
            format!("{TARGETS}{path}")
        }
    }

    /// Delegates from `delegator` to `name` with one key.
    pub fn delegate(
        &mut self,
        delegator: &str,
        name: &str,
        key: &Arc<dyn Signer>,
        paths: &[&str],
        terminating: bool,
    ) {
        self.repo
            .delegate(
                delegator,
                delegated_role(name, key, paths, terminating),
                vec![key.clone()],
            )
            .unwrap();
    }

    /// Replaces `delegator`'s delegations by hand, each role with one key
    /// and path patterns (the repository refuses to delegate to a role that
    /// exists, which cycles and shared roles need).
    pub fn set_delegations(
        &mut self,
        delegator: &str,
        roles: &[(&str, &Arc<dyn Signer>, &[&str])],
    ) {
        let d = Delegations {
            keys: roles
                .iter()
                .map(|(_, k, _)| (k.keyid().to_string(), k.public_key().clone()))
                .collect(),
            roles: Some(
                roles
                    .iter()
                    .map(|(name, k, paths)| delegated_role(name, k, paths, false))
                    .collect(),
            ),
            succinct_roles: None,
            unknown_fields: BTreeMap::new(),
        };
        self.repo.targets.get_mut(delegator).unwrap().delegations = Some(d);
        self.repo.touch(delegator);
    }

    /// Creates an empty targets role signed by `key`, bypassing the
    /// repository's role-name rules (other producers are not bound by them).
    pub fn add_role_unchecked(&mut self, name: &str, key: &Arc<dyn Signer>) {
        let t = Targets::new(1, NOW + self.repo.lifetimes.targets);
        self.repo.targets.insert(name.to_string(), t);
        self.repo.add_signer(name, key.clone());
        self.repo.touch(name);
    }

    /// The newest root's bytes.
    pub fn root_bytes(&self) -> Vec<u8> {
        self.repo.root_bytes().expect("root published").to_vec()
    }

    /// The last published bytes of a (non-root) role.
    pub fn bytes(&self, role: &str) -> Vec<u8> {
        self.repo
            .published_bytes(role)
            .unwrap_or_else(|| panic!("{role} published"))
            .to_vec()
    }

    /// The metadata file name the current version of `role` is served as.
    pub fn file_name(&self, role: &str) -> String {
        let encoded = shared_trust::store::encode_role_name(role);
        match role {
            "timestamp" => "timestamp.json".into(),
            "root" => format!("{}.root.json", self.repo.root.version),
            "snapshot" if self.consistent() => {
                format!("{}.snapshot.json", self.repo.snapshot.version)
            }
            _ if self.consistent() => {
                format!("{}.{encoded}.json", self.repo.targets[role].version)
            }
            _ => format!("{encoded}.json"),
        }
    }

    /// Serves `bytes` as metadata file `name`.
    pub fn put_meta(&self, name: &str, bytes: Vec<u8>) {
        self.server.put(&format!("{META}{name}"), bytes);
    }

    /// What is served as metadata file `name`.
    pub fn meta(&self, name: &str) -> Vec<u8> {
        self.server
            .get(&format!("{META}{name}"))
            .unwrap_or_else(|| panic!("{name} is served"))
    }

    /// A new client that pins root version 1.
    pub fn client(&self) -> Client {
        Client::new(&self.root_v1)
    }
}

/// A delegated role with one key, delegated by path patterns.
pub fn delegated_role(
    name: &str,
    key: &Arc<dyn Signer>,
    paths: &[&str],
    terminating: bool,
) -> DelegatedRole {
    DelegatedRole {
        name: name.to_string(),
        keyids: vec![key.keyid().to_string()],
        threshold: 1,
        terminating,
        paths: Some(paths.iter().map(|p| p.to_string()).collect()),
        path_hash_prefixes: None,
        unknown_fields: BTreeMap::new(),
    }
}

// ---------------------------------------------------------------------------
// Tampering with metadata bytes
// ---------------------------------------------------------------------------

/// Parses bytes as JSON.
pub fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("test metadata is JSON")
}

/// The `signed` object of metadata bytes.
pub fn signed_of(bytes: &[u8]) -> Value {
    json(bytes)["signed"].clone()
}

/// Envelope bytes for `signed`, signed by `signers` under their own keyids.
pub fn sign_value(signed: &Value, signers: &[&Arc<dyn Signer>]) -> Vec<u8> {
    let sigs: Vec<(&str, &dyn Signer)> = signers
        .iter()
        .map(|s| (s.keyid(), s.as_ref() as &dyn Signer))
        .collect();
    sign_value_as(signed, &sigs)
}

/// Envelope bytes for `signed`, with one signature per `(keyid, signer)`:
/// the keyid written need not be the signer's own.
pub fn sign_value_as(signed: &Value, sigs: &[(&str, &dyn Signer)]) -> Vec<u8> {
    let canonical = canonical::to_canonical(signed).expect("test metadata is canonical");
    let signatures: Vec<Value> = sigs
        .iter()
        .map(|(keyid, s)| json!({"keyid": keyid, "sig": hex::encode(s.sign(&canonical).unwrap())}))
        .collect();
    envelope(&json!({"signatures": signatures, "signed": signed}))
}

/// Serializes an envelope the way our repository does (pretty, newline).
pub fn envelope(v: &Value) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(v).unwrap();
    out.push(b'\n');
    out
}

/// Edits the `signed` object and re-signs it with `signers`.
pub fn edit(bytes: &[u8], signers: &[&Arc<dyn Signer>], f: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut signed = signed_of(bytes);
    f(&mut signed);
    sign_value(&signed, signers)
}

/// Edits the `signed` object, keeping the old (now invalid) signatures.
pub fn edit_keep_sigs(bytes: &[u8], f: impl FnOnce(&mut Value)) -> Vec<u8> {
    edit_envelope(bytes, |v| f(&mut v["signed"]))
}

/// Edits the whole envelope (signatures included), re-signing nothing.
pub fn edit_envelope(bytes: &[u8], f: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v = json(bytes);
    f(&mut v);
    envelope(&v)
}

/// The pin (`version`, `length`, `hashes.sha256`) of metadata bytes.
pub fn pin_of(bytes: &[u8]) -> Value {
    json!({
        "version": signed_of(bytes)["version"],
        "length": bytes.len(),
        "hashes": {"sha256": hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes))},
    })
}

/// Sets `version` of the `signed` object.
pub fn set_version(v: &mut Value, version: u64) {
    v["version"] = json!(version);
}

// ---------------------------------------------------------------------------
// Client side
// ---------------------------------------------------------------------------

/// A client's metadata directory, bootstrapped with a pinned root.
pub struct Client {
    _tmp: tempfile::TempDir,
    /// The metadata directory.
    pub dir: PathBuf,
}

impl Client {
    /// A fresh directory holding `root` as the trusted root.
    pub fn new(root: &[u8]) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("metadata");
        Updater::<MemFetcher>::bootstrap(&dir, root, NOW).unwrap();
        Client { _tmp: tmp, dir }
    }

    /// An updater over `fetcher` with the default configuration.
    pub fn updater<'a>(&self, fetcher: &'a MemFetcher, now: i64) -> Updater<&'a MemFetcher> {
        self.updater_with(fetcher, Config::default(), now)
    }

    /// An updater over `fetcher` with `config`.
    pub fn updater_with<'a>(
        &self,
        fetcher: &'a MemFetcher,
        config: Config,
        now: i64,
    ) -> Updater<&'a MemFetcher> {
        Updater::new(&self.dir, META, fetcher, config, now).expect("updater opens")
    }

    /// Runs one refresh in a fresh updater (dropped afterwards, so the
    /// directory lock is released).
    pub fn refresh(&self, fetcher: &MemFetcher, now: i64) -> Result<(), Error> {
        self.updater(fetcher, now).refresh()
    }

    /// Every file in the directory, by name, with its bytes.
    pub fn files(&self) -> BTreeMap<String, Vec<u8>> {
        dir_files(&self.dir)
    }

    /// A file of the directory, if present.
    pub fn read(&self, name: &str) -> Option<Vec<u8>> {
        std::fs::read(self.dir.join(name)).ok()
    }

    /// Overwrites a file of the directory (simulating local corruption).
    pub fn write(&self, name: &str, bytes: &[u8]) {
        std::fs::write(self.dir.join(name), bytes).unwrap();
    }
}

/// Every file in `dir` (not recursing), by name, with its bytes.
pub fn dir_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            let bytes = std::fs::read(e.path()).unwrap();
            (name, bytes)
        })
        .collect()
}

/// Asserts two directory listings are equal, naming the first difference.
#[track_caller]
pub fn assert_same_files(before: &BTreeMap<String, Vec<u8>>, after: &BTreeMap<String, Vec<u8>>) {
    let names = |m: &BTreeMap<String, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(before), names(after), "metadata directory file names");
    for (name, bytes) in before {
        assert!(
            after[name] == *bytes,
            "metadata directory file {name} changed"
        );
    }
}
