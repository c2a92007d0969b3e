//! The verification core of the hook and of `check`: signed metadata from
//! the pinned root, then release files and artifacts against it.
//!
//! ```text
//! pin (trust-roots) ──► Verifier::open ──► Session (refreshed root repository)
//!                                             │ target(path): signed length + hashes
//!                                             ▼
//!          fetch_small / fetch_to_file ──► bytes or a file on disk, checked
//!                                             │ channel manifests only
//!                                             ▼
//!                                   ChannelManifest: artifact ──► sha256
//! ```
//!
//! A [`Verifier`] knows the pinned root, the cargo home holding its
//! trusted state, the upstream (dist server or mirror, and rustup's update
//! root) and a [`Fetcher`]. [`Verifier::open`] refreshes the root
//! repository through the upstream's `tuf/metadata/` (the trusted state is
//! only written after each file verified, so a failed refresh leaves it as
//! it was) and returns a [`Session`], which holds the state lock: keep it
//! short, and never across a large download.
//!
//! Nothing is handed out unverified: [`fetch_small`] returns bytes only
//! after their length and every listed hash matched; [`fetch_to_file`]
//! streams to a temporary file while hashing (memory stays flat whatever
//! the size) and returns the file only when the hash matched. Every error
//! names the file, where it came from, what was expected and what was
//! found, and says which kind of failure it is ([`VerifyError::kind`]).

use crate::layout::{Upstream, DEFAULT_DIST_SERVER};
use crate::manifest::{ChannelManifest, ManifestError};
use sha2::{Digest, Sha256, Sha512};
use shared_trust::fetcher::{FetchError, Fetcher};
use shared_trust::metadata::TargetFile;
use shared_trust::time;
use shared_trust::updater::{self, Updater};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use trust_roots::chain::{self, ChainError};
use trust_roots::pins::{Pin, PinError, PinLocations, PinSet};

/// The broad kind of a failure, for exit codes and HTTP statuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// Data did not verify: tampered, rolled back, stale, badly signed.
    Verification,
    /// No signed metadata lists the file.
    NotSigned,
    /// The upstream could not be reached, or serves no metadata.
    Unavailable,
    /// Local setup: no pin, unreadable pins, local I/O.
    Local,
}

/// Why a release file was not verified.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// No pinned root covers the dist server.
    #[error("no pinned root covers the dist server {dist_server} (nor {DEFAULT_DIST_SERVER}); pin the root repository's root for it: trust-roots pin add NAME --root ROOT.json --url {dist_server}")]
    NoPin {
        /// The dist server URL.
        dist_server: String,
    },
    /// The pins could not be read.
    #[error("reading the pinned roots: {0}")]
    Pins(#[from] PinError),
    /// The mirror serves no signed metadata.
    #[error("{metadata_url}timestamp.json: not found; the dist server serves no signed metadata, so nothing it serves can be verified (a mirror must sync tuf/ with dist/)")]
    NoMetadata {
        /// Metadata base URL.
        metadata_url: String,
    },
    /// The signed metadata did not verify (or could not be fetched).
    #[error("signed metadata from {metadata_url} did not verify: {source}")]
    Metadata {
        /// Metadata base URL.
        metadata_url: String,
        /// Cause.
        #[source]
        source: Box<ChainError>,
    },
    /// No signed metadata lists the file.
    #[error("{file}: no signed metadata lists this file (root repository at {metadata_url})")]
    NotSigned {
        /// Target path.
        file: String,
        /// Metadata base URL.
        metadata_url: String,
    },
    /// The signed entry has no SHA-256, or an unsupported hash.
    #[error("{file}: the signed entry lists hash {algorithm:?}; a SHA-256 is required and only sha256 and sha512 are supported")]
    UnsupportedHash {
        /// Target path.
        file: String,
        /// The algorithm.
        algorithm: String,
    },
    /// Length or hash mismatch.
    #[error("{0}")]
    Mismatch(Box<Mismatch>),
    /// A signed manifest that rustup must not be handed.
    #[error("signed {0}")]
    Manifest(#[from] ManifestError),
    /// No verified channel manifest lists an artifact.
    #[error("{file}: not listed by any signed channel manifest (checked: {})", if .checked.is_empty() { "none signed for that date".to_string() } else { .checked.join(", ") })]
    NotListed {
        /// Server path.
        file: String,
        /// Manifests checked.
        checked: Vec<String>,
    },
    /// Fetching failed.
    #[error("{file}: fetching {url} failed: {source}")]
    Transport {
        /// Target or server path.
        file: String,
        /// URL.
        url: String,
        /// Cause.
        #[source]
        source: FetchError,
    },
    /// Local I/O failed.
    #[error("{path}: {source}")]
    Io {
        /// File or directory.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}

/// A file whose length or hash is not the one listed for it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {what} mismatch: expected {expected} ({listed_by}), found {found} in what {url} served")]
pub struct Mismatch {
    /// Target or server path.
    pub file: String,
    /// Where it was fetched from (URL or local file).
    pub url: String,
    /// `length`, `sha256` or `sha512`.
    pub what: String,
    /// Expected value.
    pub expected: String,
    /// Found value.
    pub found: String,
    /// Who lists the expected value.
    pub listed_by: String,
}

impl VerifyError {
    /// The broad kind of failure.
    pub fn kind(&self) -> FailureKind {
        match self {
            VerifyError::NoPin { .. } | VerifyError::Pins(_) | VerifyError::Io { .. } => {
                FailureKind::Local
            }
            VerifyError::NoMetadata { .. } | VerifyError::Transport { .. } => {
                FailureKind::Unavailable
            }
            VerifyError::NotSigned { .. } | VerifyError::NotListed { .. } => FailureKind::NotSigned,
            VerifyError::Metadata { source, .. } => match source.as_ref() {
                ChainError::Update { source, .. } => match source.as_ref() {
                    updater::Error::Transport { .. } => FailureKind::Unavailable,
                    updater::Error::Storage(_)
                    | updater::Error::NoTrustedRoot { .. }
                    | updater::Error::Misuse(_) => FailureKind::Local,
                    _ => FailureKind::Verification,
                },
                _ => FailureKind::Verification,
            },
            VerifyError::UnsupportedHash { .. }
            | VerifyError::Mismatch(_)
            | VerifyError::Manifest(_) => FailureKind::Verification,
        }
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> VerifyError + '_ {
    move |source| VerifyError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Finds the pin for a dist server: the pin covering the official dist
/// server wins (a mirror is verified against the root of what it
/// mirrors), else a pin covering the mirror's own URL. This is the same
/// policy as [`PinSet::resolve_registry`].
pub fn resolve_pin(cargo_home: &Path, dist_server: &str) -> Result<Pin, VerifyError> {
    let pins = PinSet::load(&PinLocations::for_cargo_home(cargo_home))?;
    pins.resolve_registry(DEFAULT_DIST_SERVER, Some(dist_server))
        .map(|r| r.pin.clone())
        .ok_or_else(|| VerifyError::NoPin {
            dist_server: dist_server.to_string(),
        })
}

/// Verifies release files from one upstream against one pinned root.
#[derive(Debug)]
pub struct Verifier<F: Fetcher> {
    pin: Pin,
    cargo_home: PathBuf,
    upstream: Upstream,
    metadata_url: String,
    fetcher: F,
}

impl<F: Fetcher> Verifier<F> {
    /// A verifier for `upstream`, trusting `pin`, with trusted state under
    /// `cargo_home` (`tuf/state/`).
    pub fn new(pin: Pin, cargo_home: &Path, upstream: Upstream, fetcher: F) -> Self {
        Verifier {
            pin,
            cargo_home: cargo_home.to_path_buf(),
            metadata_url: upstream.metadata_url(),
            upstream,
            fetcher,
        }
    }

    /// Takes the metadata from `url` instead of the upstream's
    /// `tuf/metadata/` (an offline copy, for `check`).
    pub fn with_metadata_url(mut self, url: &str) -> Self {
        self.metadata_url = if url.ends_with('/') {
            url.to_string()
        } else {
            format!("{url}/")
        };
        self
    }

    /// The pin in use.
    pub fn pin(&self) -> &Pin {
        &self.pin
    }

    /// The upstream.
    pub fn upstream(&self) -> &Upstream {
        &self.upstream
    }

    /// The fetcher.
    pub fn fetcher(&self) -> &F {
        &self.fetcher
    }

    /// The directory holding the pin's trusted state.
    pub fn state_dir(&self) -> PathBuf {
        self.pin.state_dir(&self.cargo_home)
    }

    /// Refreshes the root repository (reference time: now) and returns a
    /// session for target lookups.
    pub fn open(&self) -> Result<Session<'_, F>, VerifyError> {
        self.open_at(time::now_unix())
    }

    /// Like [`Verifier::open`] with an explicit reference time (Unix
    /// seconds), for tools and tests that check against a given moment.
    pub fn open_at(&self, now: i64) -> Result<Session<'_, F>, VerifyError> {
        let metadata_url = self.metadata_url.clone();
        let updater = chain::open_pinned(
            &self.pin,
            &self.cargo_home,
            &metadata_url,
            &self.fetcher,
            now,
        )
        .map_err(|e| metadata_error(&metadata_url, e))?;
        let (timestamp_version, timestamp_expires) = updater
            .trusted()
            .timestamp()
            .map(|t| (t.version, time::parse_utc(&t.expires).unwrap_or(now)))
            .unwrap_or((0, now));
        Ok(Session {
            updater,
            metadata_url,
            verifier: self,
            timestamp_version,
            timestamp_expires,
        })
    }
}

fn metadata_error(metadata_url: &str, e: ChainError) -> VerifyError {
    if let ChainError::Update { source, .. } = &e {
        if let updater::Error::Transport {
            what,
            source: FetchError::NotFound { .. },
        } = source.as_ref()
        {
            if what == "timestamp" {
                return VerifyError::NoMetadata {
                    metadata_url: metadata_url.to_string(),
                };
            }
        }
    }
    VerifyError::Metadata {
        metadata_url: metadata_url.to_string(),
        source: Box::new(e),
    }
}

/// A refreshed view of the root repository. Holds the trusted-state lock.
pub struct Session<'a, F: Fetcher> {
    updater: Updater<&'a F>,
    metadata_url: String,
    verifier: &'a Verifier<F>,
    /// Version of the trusted timestamp.
    pub timestamp_version: u64,
    /// When the trusted timestamp expires (Unix seconds).
    pub timestamp_expires: i64,
}

impl<F: Fetcher> std::fmt::Debug for Session<'_, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("metadata_url", &self.metadata_url)
            .field("timestamp_version", &self.timestamp_version)
            .finish_non_exhaustive()
    }
}

/// The signed description of a release file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signed {
    /// Target path.
    pub path: String,
    /// Length and hashes, as signed.
    pub info: TargetFile,
    /// Who vouches for it, for messages (`signed metadata, timestamp version N`).
    pub listed_by: String,
}

impl Signed {
    /// The signed SHA-256 (lower-case hex).
    pub fn sha256(&self) -> Result<String, VerifyError> {
        self.info
            .hashes
            .get("sha256")
            .map(|h| h.to_ascii_lowercase())
            .ok_or_else(|| VerifyError::UnsupportedHash {
                file: self.path.clone(),
                algorithm: self
                    .info
                    .hashes
                    .keys()
                    .next()
                    .cloned()
                    .unwrap_or_else(|| "none".into()),
            })
    }

    /// What a download must match.
    pub fn expectation(&self) -> Result<Expected, VerifyError> {
        let mut sha512 = None;
        for (alg, value) in &self.info.hashes {
            match alg.as_str() {
                "sha256" => {}
                "sha512" => sha512 = Some(value.to_ascii_lowercase()),
                other => {
                    return Err(VerifyError::UnsupportedHash {
                        file: self.path.clone(),
                        algorithm: other.to_string(),
                    })
                }
            }
        }
        Ok(Expected {
            file: self.path.clone(),
            length: Some(self.info.length),
            sha256: self.sha256()?,
            sha512,
            listed_by: self.listed_by.clone(),
        })
    }
}

impl<F: Fetcher> Session<'_, F> {
    /// The metadata base URL in use.
    pub fn metadata_url(&self) -> &str {
        &self.metadata_url
    }

    fn listed_by(&self) -> String {
        format!(
            "signed metadata of pin {:?}, timestamp version {}",
            self.verifier.pin.name, self.timestamp_version
        )
    }

    /// The signed description of `path`, or [`VerifyError::NotSigned`].
    pub fn target(&mut self, path: &str) -> Result<Signed, VerifyError> {
        let metadata_url = self.metadata_url.clone();
        let name = self.verifier.pin.name.clone();
        match self.updater.get_targetinfo(path) {
            Ok(Some(info)) => Ok(Signed {
                path: path.to_string(),
                info,
                listed_by: self.listed_by(),
            }),
            Ok(None) => Err(VerifyError::NotSigned {
                file: path.to_string(),
                metadata_url,
            }),
            Err(source) => Err(VerifyError::Metadata {
                metadata_url,
                source: Box::new(ChainError::Update {
                    repository: name,
                    source: Box::new(source),
                }),
            }),
        }
    }

    /// Every target path, in every role reachable by path delegation from
    /// the top-level targets, that starts with `prefix` (a hint list: each
    /// path must still be looked up with [`Session::target`], which follows
    /// delegation order).
    pub fn signed_paths(&mut self, prefix: &str) -> Result<Vec<String>, VerifyError> {
        let metadata_url = self.metadata_url.clone();
        let name = self.verifier.pin.name.clone();
        let wrap = |source: updater::Error| VerifyError::Metadata {
            metadata_url: metadata_url.clone(),
            source: Box::new(ChainError::Update {
                repository: name.clone(),
                source: Box::new(source),
            }),
        };
        let mut out = BTreeSet::new();
        let mut stack = vec![("targets".to_string(), "root".to_string())];
        let mut visited = BTreeSet::new();
        while let Some((role, parent)) = stack.pop() {
            if visited.len() >= 32 || !visited.insert(role.clone()) {
                continue;
            }
            let t = self.updater.load_role(&role, &parent).map_err(wrap)?;
            out.extend(t.targets.keys().filter(|p| p.starts_with(prefix)).cloned());
            if let Some(roles) = t.delegations.as_ref().and_then(|d| d.roles.as_ref()) {
                for r in roles {
                    stack.push((r.name.clone(), role.clone()));
                }
            }
        }
        Ok(out.into_iter().collect())
    }

    /// Looks up, fetches and verifies a small signed file (channel
    /// manifest, `release-stable.toml`) into memory.
    pub fn fetch_signed(&mut self, path: &str) -> Result<(Signed, Vec<u8>), VerifyError> {
        let signed = self.target(path)?;
        let expected = signed.expectation()?;
        let url = self.verifier.upstream.url_for(path);
        let bytes = fetch_small(&self.verifier.fetcher, &url, &expected)?;
        Ok((signed, bytes))
    }

    /// Fetches, verifies and parses a channel manifest.
    pub fn verify_manifest(&mut self, path: &str) -> Result<VerifiedManifest, VerifyError> {
        let (signed, bytes) = self.fetch_signed(path)?;
        let manifest = ChannelManifest::parse(path, &bytes)?;
        Ok(VerifiedManifest {
            path: path.to_string(),
            sha256: signed.sha256()?,
            bytes,
            manifest,
            timestamp_version: self.timestamp_version,
            timestamp_expires: self.timestamp_expires,
        })
    }
}

/// A channel manifest whose bytes matched the signed metadata.
#[derive(Clone, Debug)]
pub struct VerifiedManifest {
    /// Target path.
    pub path: String,
    /// Its SHA-256 (lower-case hex).
    pub sha256: String,
    /// The exact bytes, as signed.
    pub bytes: Vec<u8>,
    /// What it lists.
    pub manifest: ChannelManifest,
    /// The timestamp version it was verified under.
    pub timestamp_version: u64,
    /// When that timestamp expires (Unix seconds).
    pub timestamp_expires: i64,
}

impl VerifiedManifest {
    /// The `.sha256` file rustup reads beside the manifest (`HASH  NAME\n`),
    /// derived from the verified bytes.
    pub fn sha256_file(&self) -> String {
        hash_file_line(&self.sha256, &self.path)
    }
}

/// A `.sha256` file body: `HASH  BASENAME\n`.
pub fn hash_file_line(sha256: &str, path: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or(path);
    format!("{sha256}  {name}\n")
}

/// What a download must match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected {
    /// Target or server path (for messages).
    pub file: String,
    /// Exact length, when known.
    pub length: Option<u64>,
    /// SHA-256 (lower-case hex).
    pub sha256: String,
    /// SHA-512 (lower-case hex), when listed.
    pub sha512: Option<String>,
    /// Who lists these values (for messages).
    pub listed_by: String,
}

impl Expected {
    /// The error for a file that does not match.
    pub fn mismatch(&self, url: &str, what: &str, expected: String, found: String) -> VerifyError {
        VerifyError::Mismatch(Box::new(Mismatch {
            file: self.file.clone(),
            url: url.to_string(),
            what: what.to_string(),
            expected,
            found,
            listed_by: self.listed_by.clone(),
        }))
    }

    fn check(
        &self,
        url: &str,
        length: u64,
        sha256: &str,
        sha512: Option<&str>,
    ) -> Result<(), VerifyError> {
        if let Some(expected) = self.length {
            if expected != length {
                return Err(self.mismatch(
                    url,
                    "length",
                    format!("{expected} bytes"),
                    format!("{length} bytes"),
                ));
            }
        }
        if sha256 != self.sha256 {
            return Err(self.mismatch(url, "sha256", self.sha256.clone(), sha256.to_string()));
        }
        if let (Some(expected), Some(found)) = (&self.sha512, sha512) {
            if expected != found {
                return Err(self.mismatch(url, "sha512", expected.clone(), found.to_string()));
            }
        }
        Ok(())
    }
}

fn transport(file: &str, url: &str, source: FetchError) -> VerifyError {
    VerifyError::Transport {
        file: file.to_string(),
        url: url.to_string(),
        source,
    }
}

/// Fetches a file whose length is known into memory and checks it.
pub fn fetch_small<F: Fetcher + ?Sized>(
    fetcher: &F,
    url: &str,
    expected: &Expected,
) -> Result<Vec<u8>, VerifyError> {
    let limit = expected.length.unwrap_or(16 * 1024 * 1024);
    let bytes = match fetcher.fetch(url, limit) {
        Ok(b) => b,
        Err(FetchError::TooLarge { .. }) => {
            return Err(expected.mismatch(
                url,
                "length",
                format!("{limit} bytes"),
                format!("more than {limit} bytes"),
            ))
        }
        Err(e) => return Err(transport(&expected.file, url, e)),
    };
    check_bytes(url, &bytes, expected)?;
    Ok(bytes)
}

/// Checks bytes in memory against an expectation.
pub fn check_bytes(origin: &str, bytes: &[u8], expected: &Expected) -> Result<(), VerifyError> {
    let sha256 = hex::encode(Sha256::digest(bytes));
    let sha512 = expected
        .sha512
        .as_ref()
        .map(|_| hex::encode(Sha512::digest(bytes)));
    expected.check(origin, bytes.len() as u64, &sha256, sha512.as_deref())
}

/// A file on disk whose content matched its expectation. The file is
/// removed when this is dropped.
#[derive(Debug)]
pub struct VerifiedFile {
    file: tempfile::NamedTempFile,
    /// Its length.
    pub length: u64,
    /// Its SHA-256.
    pub sha256: String,
}

impl VerifiedFile {
    /// Where it is.
    pub fn path(&self) -> &Path {
        self.file.path()
    }
}

/// A sink that hashes what it writes to a file.
struct HashingFile {
    out: std::io::BufWriter<std::fs::File>,
    sha256: Sha256,
    sha512: Option<Sha512>,
    length: u64,
    progress: Option<Box<dyn FnMut(u64) + Send>>,
}

impl Write for HashingFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        self.sha256.update(&buf[..n]);
        if let Some(h) = &mut self.sha512 {
            h.update(&buf[..n]);
        }
        self.length += n as u64;
        if let Some(p) = &mut self.progress {
            p(self.length);
        }
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Streams `url` into a temporary file in `dir` while hashing, at most
/// `max_len` bytes (or the expected length), and returns the file only if
/// it matches `expected`. `progress` is called with the bytes received so
/// far.
pub fn fetch_to_file<F: Fetcher + ?Sized>(
    fetcher: &F,
    url: &str,
    expected: &Expected,
    max_len: u64,
    dir: &Path,
    progress: Option<Box<dyn FnMut(u64) + Send>>,
) -> Result<VerifiedFile, VerifyError> {
    let tmp = tempfile::Builder::new()
        .prefix(".download-")
        .tempfile_in(dir)
        .map_err(io_err(dir))?;
    let handle = tmp.reopen().map_err(io_err(tmp.path()))?;
    let mut sink = HashingFile {
        out: std::io::BufWriter::with_capacity(256 * 1024, handle),
        sha256: Sha256::new(),
        sha512: expected.sha512.as_ref().map(|_| Sha512::new()),
        length: 0,
        progress,
    };
    let limit = expected.length.unwrap_or(max_len);
    match fetcher.fetch_to(url, limit, &mut sink) {
        Ok(_) => {}
        Err(FetchError::TooLarge { .. }) => {
            return Err(expected.mismatch(
                url,
                "length",
                match expected.length {
                    Some(l) => format!("{l} bytes"),
                    None => format!("at most {max_len} bytes (the hook's limit)"),
                },
                format!("more than {limit} bytes"),
            ))
        }
        Err(e) => return Err(transport(&expected.file, url, e)),
    }
    sink.flush().map_err(io_err(tmp.path()))?;
    let sha256 = hex::encode(sink.sha256.finalize_reset());
    let sha512 = sink.sha512.take().map(|h| hex::encode(h.finalize()));
    expected.check(url, sink.length, &sha256, sha512.as_deref())?;
    Ok(VerifiedFile {
        file: tmp,
        length: sink.length,
        sha256,
    })
}

/// Hashes a local file (streaming): its length and SHA-256.
pub fn hash_local_file(path: &Path) -> Result<(u64, String), VerifyError> {
    let mut f = std::fs::File::open(path).map_err(io_err(path))?;
    let mut h = Sha256::new();
    let n = std::io::copy(&mut f, &mut h).map_err(io_err(path))?;
    Ok((n, hex::encode(h.finalize())))
}

/// The expectation for an artifact listed by a verified manifest.
pub fn artifact_expectation(manifest: &VerifiedManifest, path: &str) -> Option<Expected> {
    manifest.manifest.downloads.get(path).map(|l| Expected {
        file: path.to_string(),
        length: None,
        sha256: l.sha256.clone(),
        sha512: None,
        listed_by: format!(
            "{} {} of {} in signed {}",
            l.package, l.compression, l.target, manifest.path
        ),
    })
}

/// Verified manifests by target path, as a lookup table for artifacts.
pub type ManifestTable = BTreeMap<String, VerifiedManifest>;

#[cfg(test)]
mod tests {
    use super::*;

    fn expected(data: &[u8]) -> Expected {
        Expected {
            file: "dist/x".into(),
            length: Some(data.len() as u64),
            sha256: hex::encode(Sha256::digest(data)),
            sha512: Some(hex::encode(Sha512::digest(data))),
            listed_by: "test".into(),
        }
    }

    #[test]
    fn streams_to_disk_and_checks() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src.bin");
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&src, &data).unwrap();
        let url = format!("file://{}", src.display());
        let ok = fetch_to_file(
            &shared_trust::FileFetcher,
            &url,
            &expected(&data),
            1 << 30,
            dir.path(),
            None,
        )
        .unwrap();
        assert_eq!(std::fs::read(ok.path()).unwrap(), data);
        let kept = ok.path().to_path_buf();
        drop(ok);
        assert!(!kept.exists(), "verified file is removed when dropped");

        let mut other = data.clone();
        other[1000] ^= 1;
        let e = fetch_to_file(
            &shared_trust::FileFetcher,
            &url,
            &expected(&other),
            1 << 30,
            dir.path(),
            None,
        )
        .unwrap_err();
        assert!(
            matches!(&e, VerifyError::Mismatch(m) if m.what == "sha256"),
            "{e}"
        );
        assert_eq!(e.kind(), FailureKind::Verification);
        // Nothing left behind by the failed download.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

        let mut short = expected(&data);
        short.length = Some(10);
        let e = fetch_to_file(
            &shared_trust::FileFetcher,
            &url,
            &short,
            1 << 30,
            dir.path(),
            None,
        )
        .unwrap_err();
        assert!(
            matches!(&e, VerifyError::Mismatch(m) if m.what == "length"),
            "{e}"
        );
        let mut unknown = expected(&data);
        unknown.length = None;
        let e = fetch_to_file(
            &shared_trust::FileFetcher,
            &url,
            &unknown,
            1000,
            dir.path(),
            None,
        )
        .unwrap_err();
        assert!(e.to_string().contains("the hook's limit"), "{e}");
    }

    #[test]
    fn small_files_checked_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("m.toml");
        std::fs::write(&src, b"hello").unwrap();
        let url = format!("file://{}", src.display());
        assert_eq!(
            fetch_small(&shared_trust::FileFetcher, &url, &expected(b"hello")).unwrap(),
            b"hello"
        );
        let e = fetch_small(&shared_trust::FileFetcher, &url, &expected(b"hellO")).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("dist/x: sha256 mismatch: expected"), "{msg}");
        assert!(msg.contains(&url), "{msg}");
        let missing = format!("file://{}/nope", dir.path().display());
        let e = fetch_small(&shared_trust::FileFetcher, &missing, &expected(b"x")).unwrap_err();
        assert_eq!(e.kind(), FailureKind::Unavailable);
    }

    #[test]
    fn hash_file_format() {
        assert_eq!(
            hash_file_line("ab", "dist/2025-04-03/channel-rust-stable.toml"),
            "ab  channel-rust-stable.toml\n"
        );
    }
}
